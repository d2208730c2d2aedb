"""Recolouring what is already in the transcript after a theme or style change.

Plain text follows the palette by itself. Echoed cells are drawn again with
the new syntax style (their source is kept in the segment); everything else
coloured from the theme (prompts, stderr, notices, the 16 ANSI colours) is
mapped from the old theme's colour to the new one's.
"""

from __future__ import annotations

from typing import Dict

from PyQt5.QtGui import QColor, QTextCharFormat, QTextCursor, QTextFormat

from .theme import Formats, readable_on
from .transcript import Transcript
from .writer import TranscriptWriter


def _theme_colours(formats: Formats) -> list:
    t = formats.theme
    return [t.stderr, t.in_prompt, t.out_prompt, t.notice, t.error_notice, t.marker, t.queued, *t.ansi]


def restyle_transcript(transcript: Transcript, writer: TranscriptWriter, old: Formats, new: Formats) -> None:
    if old.theme != new.theme:
        fg: Dict[str, QColor] = {}
        for a, b in zip(_theme_colours(old), _theme_colours(new)):
            fg.setdefault(QColor(a).name(), QColor(b))
        bg = {QColor(a).name(): QColor(b) for a, b in zip(old.theme.ansi_bg, new.theme.ansi_bg)}
        _remap_colours(transcript, fg, bg, QColor(new.theme.foreground))
    for seg in list(transcript.segments):
        if seg.kind == "echo" and not seg.removed:
            writer.rewrite_echo(seg)


def _remap_colours(transcript: Transcript, fg: Dict[str, QColor], bg: Dict[str, QColor],
                   default_fg: QColor) -> None:
    doc = transcript.document
    cursor = QTextCursor(doc)
    block = doc.begin()
    while block.isValid():
        it = block.begin()
        while not it.atEnd():
            frag = it.fragment()
            it += 1
            fmt = frag.charFormat()
            change = QTextCharFormat()
            has_fg = fmt.hasProperty(QTextFormat.ForegroundBrush)
            new_fg = fg.get(fmt.foreground().color().name()) if has_fg else None
            if new_fg is not None:
                change.setForeground(new_fg)
            if fmt.hasProperty(QTextFormat.BackgroundBrush):
                new_bg = bg.get(fmt.background().color().name()) or fmt.background().color()
                change.setBackground(new_bg)
                text_colour = new_fg or (fmt.foreground().color() if has_fg else default_fg)
                change.setForeground(readable_on(text_colour, new_bg))
            if not change.properties():
                continue
            cursor.setPosition(frag.position())
            cursor.setPosition(frag.position() + frag.length(), QTextCursor.KeepAnchor)
            cursor.mergeCharFormat(change)
        block = block.next()
