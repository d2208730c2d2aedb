"""Other frontends on the same kernel: who they are, and how their work looks.

A kernel serves any number of frontends. Everything it broadcasts on IOPub
carries the header of the request that caused it (``parent_header``), with
the ``session`` and ``username`` of the frontend that sent it. The session
tells this console's own work from everybody else's (two consoles of the
same user differ only there); the username is what people read.

:class:`PeerBook` keeps the other frontends seen on the kernel.
:class:`OthersLayer` sits between the output queue and the transcript
writer: it gives the lines of another frontend's work a tint and a label in
that frontend's colour, keeps them on lines of their own (a stream of ours
and one of theirs never share a line), and can hide them all without losing
them. Colours are derived from the theme, so they follow it.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Callable, Dict, Iterable, List, Optional, Set

from PyQt5.QtGui import QColor, QFont, QTextBlock, QTextCharFormat, QTextCursor, QTextFormat

from .outputs import MAX_AREAS, EchoOp, StreamOp
from .theme import Theme
from .transcript import Segment, Transcript

#: Block property holding the session of the frontend whose work the block shows.
PEER_PROPERTY = QTextFormat.UserProperty + 40
#: Share of the peer's colour in the tint behind its lines.
TINT_LIGHT = 0.09
TINT_DARK = 0.16
#: Peers remembered (the oldest seen is forgotten first).
MAX_PEERS = 256


@dataclass
class Peer:
    """Another frontend on the kernel."""

    session: str
    username: str
    label: str
    first_seen: float
    last_seen: float
    #: index into PEER_HUES: one per person, in the order this console met them
    colour: int = 0


#: Well-separated hues, so the first few people are never confused.
PEER_HUES = (215, 28, 135, 285, 350, 180, 50, 320)


def peer_colour(colour: int, theme: Theme) -> QColor:
    """The colour of a peer's label, readable on the theme's background
    (the hue is the person's, the lightness the theme's)."""
    hue = PEER_HUES[colour % len(PEER_HUES)]
    dark = QColor(theme.background).lightnessF() < 0.5
    return QColor.fromHslF(hue / 360.0, 0.62, 0.70 if dark else 0.38)


def tint_colour(colour: int, theme: Theme) -> QColor:
    """The background behind a peer's lines: the theme's, shaded with their colour."""
    base = QColor(theme.background)
    mark = peer_colour(colour, theme)
    share = TINT_DARK if base.lightnessF() < 0.5 else TINT_LIGHT
    mix = [a * (1 - share) + b * share for a, b in ((base.redF(), mark.redF()), (base.greenF(), mark.greenF()),
                                                    (base.blueF(), mark.blueF()))]
    return QColor.fromRgbF(*mix)


class PeerBook:
    """The other frontends seen on one kernel, by session.

    ``own_sessions`` returns the sessions that are this console's own (its
    client, and the manager that restarts its kernel); ``own_username`` the
    name it sends. A peer with the same username as ours is labelled with a
    short session tag, so two consoles of one person can be told apart.
    """

    def __init__(self, own_sessions: Callable[[], Set[str]], own_username: Callable[[], str]):
        self._own_sessions = own_sessions
        self._own_username = own_username
        self._peers: "OrderedDict[str, Peer]" = OrderedDict()
        self._colours: Dict[str, int] = {}

    def observe(self, msg: dict) -> Optional[Peer]:
        """The peer whose request caused ``msg``; None for our own work or the kernel's own."""
        parent = msg.get("parent_header") or {}
        session = parent.get("session")
        if not isinstance(session, str) or not session or session in self._own_sessions():
            return None
        now = time.monotonic()
        peer = self._peers.get(session)
        username = parent.get("username")
        username = username if isinstance(username, str) and username.strip() else "someone"
        if peer is None or peer.username != username:
            colour = self._colours.setdefault(username, len(self._colours))
            peer = Peer(session, username, self._label(username, session), now, now, colour)
            self._peers[session] = peer
            while len(self._peers) > MAX_PEERS:
                self._peers.popitem(last=False)
        peer.last_seen = now
        self._peers.move_to_end(session)
        return peer

    def _label(self, username: str, session: str) -> str:
        name = " ".join(username.split())[:40]
        if username == self._own_username():
            return f"[{name}·{session[:4]}]"
        return f"[{name}]"

    def others(self, since: float = 0.0) -> List[Peer]:
        """Peers seen at or after ``since`` (a ``time.monotonic()`` value), newest last."""
        return [p for p in self._peers.values() if p.last_seen >= since]

    def get(self, session: str) -> Optional[Peer]:
        return self._peers.get(session)


class OthersLayer:
    """Styles and shows or hides other frontends' work in the transcript.

    ``write`` is the transcript writer's ``apply``; this layer is called with
    each output operation instead, in the same order.
    """

    def __init__(self, transcript: Transcript, write: Callable[[object], None], theme: Theme):
        self.transcript = transcript
        self._write = write
        self.theme = theme
        self.visible = True
        self._areas: "OrderedDict[str, Peer]" = OrderedDict()

    # -- which output is whose -------------------------------------------------------
    def note(self, area: Optional[str], peer: Peer) -> None:
        """Output parented to ``area`` is ``peer``'s work."""
        if area is None:
            return
        self._areas[area] = peer
        self._areas.move_to_end(area)
        while len(self._areas) > MAX_AREAS:
            self._areas.popitem(last=False)

    def peer_of(self, area: Optional[str]) -> Optional[Peer]:
        return self._areas.get(area) if area is not None else None

    def segments(self) -> Iterable[Segment]:
        """The transcript segments showing other frontends' work."""
        return (s for s in self.transcript.segments if s.area in self._areas and not s.removed)

    # -- drawing -----------------------------------------------------------------------
    def apply(self, op: object) -> None:
        t = self.transcript
        area = getattr(op, "area", None)
        peer = self.peer_of(area)
        before = t.last_segment
        if isinstance(op, StreamOp) and before is not None and before.kind == "stream" \
                and before.area != area and (peer is not None or self.peer_of(before.area) is not None):
            t.ensure_block_start()  # theirs and ours never share a line
        pre_end = t.end_position()
        self._write(op)
        last = t.last_segment
        if last is None:
            return
        start = last.start.position() if last is not before else min(pre_end, t.end_position())
        owner = self.peer_of(last.area)
        self._style_new_blocks(t.document.findBlock(start), owner)
        if owner is not None and isinstance(op, EchoOp) and last is not before:
            self._colour_label(last, owner)

    def _style_new_blocks(self, first: QTextBlock, owner: Optional[Peer]) -> None:
        """New blocks copy the format of the block they were split from, so
        after each operation only the first new block and the last need a
        look; a run that has the wrong tint is restyled as a whole."""
        doc = self.transcript.document
        last = doc.lastBlock()
        want = owner.session if owner is not None else None
        hidden = owner is not None and not self.visible
        if _session_of(first) == want and _session_of(last) == want and not hidden and first.isVisible():
            return
        self._restyle_range(first, last, owner)

    def _restyle_range(self, first: QTextBlock, last: QTextBlock, owner: Optional[Peer]) -> None:
        doc = self.transcript.document
        tint = tint_colour(owner.colour, self.theme) if owner is not None else None
        visible = owner is None or self.visible
        cursor = QTextCursor(doc)
        block = first
        relayout = False
        while block.isValid():
            fmt = block.blockFormat()
            if tint is not None:
                fmt.setBackground(tint)
                fmt.setProperty(PEER_PROPERTY, owner.session)
            else:
                fmt.clearProperty(QTextFormat.BackgroundBrush)
                fmt.clearProperty(PEER_PROPERTY)
            if fmt != block.blockFormat():
                cursor.setPosition(block.position())
                cursor.setBlockFormat(fmt)
            if block.isVisible() != visible:
                block.setVisible(visible)
                relayout = True
            if block == last:
                break
            block = block.next()
        if relayout:
            doc.markContentsDirty(first.position(), last.position() + last.length() - first.position())

    def _colour_label(self, seg: Segment, peer: Peer) -> None:
        label = seg.meta.get("label") or ""
        if not label:
            return
        fmt = QTextCharFormat()
        fmt.setForeground(peer_colour(peer.colour, self.theme))
        fmt.setFontWeight(QFont.Bold)
        cursor = QTextCursor(self.transcript.document)
        start = seg.start.position()
        cursor.setPosition(start)
        cursor.setPosition(start + len(label), QTextCursor.KeepAnchor)
        cursor.mergeCharFormat(fmt)

    # -- whole-transcript changes --------------------------------------------------------
    def set_visible(self, visible: bool) -> None:
        """Show or hide every line of other frontends' work (nothing is removed)."""
        if visible == self.visible:
            return
        self.visible = visible
        self._restyle_all()

    def set_theme(self, theme: Theme) -> None:
        """Tints and labels in the new theme's colours (call after the
        transcript itself was restyled: echoed cells are drawn again then)."""
        self.theme = theme
        self._restyle_all()

    def _restyle_all(self) -> None:
        doc = self.transcript.document
        segments = self.transcript.segments
        index = {id(s): i for i, s in enumerate(segments)}
        for seg in list(self.segments()):
            peer = self._areas[seg.area]
            i = index[id(seg)]
            first = doc.findBlock(seg.start.position())
            if i + 1 < len(segments):
                end = segments[i + 1].start.position()
                if end <= seg.start.position():
                    continue  # nothing drawn
                last = doc.findBlock(end - 1)
            else:
                last = doc.lastBlock()
            self._restyle_range(first, last, peer)
            if seg.kind == "echo":
                self._colour_label(seg, peer)


def _session_of(block: QTextBlock) -> Optional[str]:
    value = block.blockFormat().property(PEER_PROPERTY)
    return value if isinstance(value, str) and value else None

