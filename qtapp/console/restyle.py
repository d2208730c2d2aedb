"""Recolouring what is already in the transcript after a theme or style change.

Plain text follows the palette by itself. Echoed cells are drawn again with
the new syntax style (their source is kept in the segment); everything else
coloured from the theme (prompts, stderr, notices, the 16 ANSI colours) is
mapped from the old theme's colour to the new one's.
"""

from __future__ import annotations

from typing import Dict

from PyQt5.QtGui import QColor, QTextCharFormat, QTextCursor, QTextFormat

from .theme import Formats
from .transcript import Transcript
from .writer import TranscriptWriter


def _theme_colours(formats: Formats) -> list:
    t = formats.theme
    return [t.stderr, t.in_prompt, t.out_prompt, t.notice, t.error_notice, t.marker, t.queued, *t.ansi]


def restyle_transcript(transcript: Transcript, writer: TranscriptWriter, old: Formats, new: Formats) -> None:
    if old.theme != new.theme:
        mapping: Dict[str, QColor] = {}
        for a, b in zip(_theme_colours(old), _theme_colours(new)):
            mapping.setdefault(QColor(a).name(), QColor(b))
        _remap_colours(transcript, mapping)
    for seg in list(transcript.segments):
        if seg.kind == "echo" and not seg.removed:
            writer.rewrite_echo(seg)


def _remap_colours(transcript: Transcript, mapping: Dict[str, QColor]) -> None:
    doc = transcript.document
    cursor = QTextCursor(doc)
    block = doc.begin()
    while block.isValid():
        it = block.begin()
        while not it.atEnd():
            frag = it.fragment()
            it += 1
            fmt = frag.charFormat()
            if not fmt.hasProperty(QTextFormat.ForegroundBrush):
                continue
            colour = mapping.get(fmt.foreground().color().name())
            if colour is None:
                continue
            change = QTextCharFormat()
            change.setForeground(colour)
            cursor.setPosition(frag.position())
            cursor.setPosition(frag.position() + frag.length(), QTextCursor.KeepAnchor)
            cursor.mergeCharFormat(change)
        block = block.next()
