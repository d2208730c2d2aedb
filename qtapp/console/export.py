"""The transcript as one self-contained HTML file.

Colours are written inline as shown (syntax colours of echoed cells, ANSI
colours, prompts), folded lines in full. Inline objects that know how to
export themselves (``to_html()``) are embedded; others leave a placeholder.
Images are ``<img>`` elements with ``data:`` URIs (SVG stays SVG), so the file
needs nothing else; block content (tables, Markdown) interrupts the ``<pre>``
that holds the text, where HTML does not allow it.
"""

from __future__ import annotations

import html
from typing import List

from PyQt5.QtGui import QFont, QTextCharFormat, QTextFormat

from .renderers import ITEM_ID_PROPERTY
from .theme import FOLD_MARKER_PROPERTY, Theme
from .transcript import FOLD_FLAG, Transcript


def _css(fmt: QTextCharFormat) -> str:
    rules = []
    if fmt.hasProperty(QTextFormat.ForegroundBrush):
        rules.append(f"color:{fmt.foreground().color().name()}")
    if fmt.hasProperty(QTextFormat.BackgroundBrush) and fmt.background().style() != 0:
        rules.append(f"background:{fmt.background().color().name()}")
    if fmt.fontWeight() >= QFont.Bold:
        rules.append("font-weight:bold")
    if fmt.fontItalic():
        rules.append("font-style:italic")
    decorations = [d for d, on in (("underline", fmt.fontUnderline()), ("line-through", fmt.fontStrikeOut())) if on]
    if decorations:
        rules.append("text-decoration:" + " ".join(decorations))
    return ";".join(rules)


def transcript_html(transcript: Transcript, theme: Theme, font: QFont, objects=None,
                    title: str = "Console transcript") -> str:
    """``objects``: the InlineObjectHost whose items may provide ``to_html()``."""
    parts: List[str] = []
    block = transcript.document.begin()
    while block.isValid():
        fold = block.userData() if max(block.userState(), 0) & FOLD_FLAG else None
        it = block.begin()
        previous = QTextCharFormat()
        while not it.atEnd():
            frag = it.fragment()
            it += 1
            if not frag.isValid():
                continue
            fmt = frag.charFormat()
            text = frag.text()
            if fmt.property(FOLD_MARKER_PROPERTY) and fold is not None:
                # the rest of the folded line, looking like its head
                text = fold.full_text[fold.head_len:]
                fmt = previous
                if parts and parts[-1].endswith("</span>") and _css(fmt):
                    parts[-1] = parts[-1][:-len("</span>")]
                    parts.append(html.escape(text) + "</span>")
                    continue
            elif fmt.isImageFormat() or fmt.objectType() != 0:
                item = objects.get(fmt.property(ITEM_ID_PROPERTY)) if objects is not None else None
                to_html = getattr(item, "to_html", None)
                embedded = to_html() if callable(to_html) else '<span class="object">[object]</span>'
                parts.append(f"</pre>{embedded}<pre>" if embedded.startswith("<div") else embedded)
                continue
            previous = fmt
            css = _css(fmt)
            escaped = html.escape(text)
            parts.append(f'<span style="{css}">{escaped}</span>' if css else escaped)
        parts.append("\n")
        block = block.next()
    body = "".join(parts).rstrip("\n")
    family = html.escape(font.family())
    return (
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
        f"<title>{html.escape(title)}</title>"
        "<style>"
        f"body{{background:{theme.background};color:{theme.foreground};margin:16px}}"
        f"pre{{font-family:'{family}',monospace;font-size:{font.pointSizeF():g}pt;"
        "white-space:pre-wrap;word-wrap:break-word;margin:0}"
        "</style></head><body>\n"
        f"<pre>{body}</pre>\n</body></html>\n"
    )
