"""Syntax colouring with pygments, for the input editor and echoed cells.

The lexer is named by the kernel (``language_info.pygments_lexer``), so a
console attached to another language's kernel colours that language. The
editor re-lexes the whole cell when it changes (a cell is small; per-line
lexing would get multi-line strings wrong); the transcript gets fixed
formats when a cell is echoed, so a flood of output never runs a
highlighter.
"""

from __future__ import annotations

import logging
from typing import Dict, List, Optional, Tuple

from pygments.lexer import Lexer
from pygments.lexers import get_lexer_by_name
from pygments.styles import get_all_styles, get_style_by_name
from pygments.token import Token, _TokenType
from pygments.util import ClassNotFound
from PyQt5.QtGui import QColor, QFont, QSyntaxHighlighter, QTextCharFormat, QTextDocument

log = logging.getLogger(__name__)

FALLBACK_LEXERS = ("ipython3", "python3", "python")


def available_styles(with_plugins: bool = True) -> List[str]:
    """Installed pygments styles. Without plugins the list needs no scan of
    every package's entry points (tens of milliseconds at start-up)."""
    if not with_plugins:
        from pygments.styles import STYLE_MAP

        return sorted(STYLE_MAP)
    return sorted(get_all_styles())


#: Lexers a console is likely to need, by module and class: looking a name up
#: through pygments scans every installed package's entry points (ipython3
#: comes from a plugin), 45 ms that a console's start-up can do without.
#: IPython's syntax is our own lexer's (see ipylexer: it loads other
#: languages' lexers only when a cell uses them).
KNOWN_LEXERS = {
    "ipython3": ("qtapp.console.ipylexer", "IPythonLexer"),
    "ipython": ("qtapp.console.ipylexer", "IPythonLexer"),
    "python3": ("pygments.lexers.python", "PythonLexer"),
    "python": ("pygments.lexers.python", "PythonLexer"),
    "py": ("pygments.lexers.python", "PythonLexer"),
}
_OPTIONS = {"stripnl": False, "stripall": False, "ensurenl": False}
#: Lexers are reusable and their first instance compiles the class's rules
#: (tens of milliseconds): one per name for the whole process.
_lexers: Dict[str, Lexer] = {}


def make_lexer(name: Optional[str]) -> Optional[Lexer]:
    """The lexer the kernel asked for, else Python's; None (plain text) only
    when not even Python's can be had."""
    for candidate in ((name,) if name else ()) + FALLBACK_LEXERS:
        lexer = _lexers.get(candidate)
        if lexer is None:
            lexer = _create_lexer(candidate)
            if lexer is None:
                if candidate == name:
                    log.info("no pygments lexer %r; falling back to Python", name)
                continue
            _lexers[candidate] = lexer
        return lexer
    return None


def _create_lexer(name: str) -> Optional[Lexer]:
    known = KNOWN_LEXERS.get(name.lower())
    if known is not None:
        try:
            module = __import__(known[0], fromlist=[known[1]])
            return getattr(module, known[1])(**_OPTIONS)
        except (ImportError, AttributeError):
            pass  # not installed here: try the general lookup
    try:
        return get_lexer_by_name(name, **_OPTIONS)
    except ClassNotFound:
        return None


class TokenFormats:
    """QTextCharFormat per pygments token type for one style, cached."""

    def __init__(self, style_name: str = "default"):
        try:
            self.style = get_style_by_name(style_name)
        except ClassNotFound:
            raise ValueError(f"unknown pygments style {style_name!r} "
                             f"(installed: {', '.join(available_styles())})") from None
        self.style_name = style_name
        self._cache: Dict[_TokenType, QTextCharFormat] = {}

    @property
    def background(self) -> str:
        return self.style.background_color or "#ffffff"

    def format(self, token: _TokenType) -> QTextCharFormat:
        fmt = self._cache.get(token)
        if fmt is not None:
            return fmt
        fmt = QTextCharFormat()
        spec = self.style.style_for_token(token)
        if spec.get("color"):
            fmt.setForeground(QColor("#" + spec["color"]))
        if spec.get("bold"):
            fmt.setFontWeight(QFont.Bold)
        if spec.get("italic"):
            fmt.setFontItalic(True)
        if spec.get("underline"):
            fmt.setFontUnderline(True)
        self._cache[token] = fmt
        return fmt


def highlight_spans(code: str, lexer: Optional[Lexer],
                    formats: TokenFormats) -> List[Tuple[str, QTextCharFormat]]:
    """``code`` as (text, format) runs; adjacent runs with one token type
    merge. Without a lexer (the kernel's language not yet known), plain text."""
    if lexer is None:
        return [(code, formats.format(Token.Text))] if code else []
    spans: List[Tuple[str, QTextCharFormat]] = []
    last_token = None
    for token, text in lexer.get_tokens(code):
        if not text:
            continue
        if token is last_token and spans:
            spans[-1] = (spans[-1][0] + text, spans[-1][1])
        else:
            spans.append((text, formats.format(token)))
            last_token = token
    if "".join(t for t, _ in spans) != code:  # a lexer that rewrites text: show it plain
        return [(code, formats.format(Token.Text))]
    return spans


class CodeHighlighter(QSyntaxHighlighter):
    """Colours an editable document by re-lexing all of it on change."""

    def __init__(self, document: QTextDocument, lexer: Optional[Lexer], formats: TokenFormats):
        super().__init__(document)
        self._lexer = lexer
        self._formats = formats
        self._source: Optional[str] = None
        self._by_block: Dict[int, List[Tuple[int, int, QTextCharFormat]]] = {}

    def set_lexer(self, lexer: Optional[Lexer]) -> None:
        self._lexer = lexer
        self._source = None
        self.rehighlight()

    def set_formats(self, formats: TokenFormats) -> None:
        self._formats = formats
        self._source = None
        self.rehighlight()

    def _relex(self, source: str) -> None:
        self._source = source
        by_block: Dict[int, List[Tuple[int, int, QTextCharFormat]]] = {}
        block, col = 0, 0
        for text, fmt in highlight_spans(source, self._lexer, self._formats):
            for i, part in enumerate(text.split("\n")):
                if i:
                    block, col = block + 1, 0
                if part:
                    by_block.setdefault(block, []).append((col, len(part), fmt))
                    col += len(part)
        self._by_block = by_block

    def highlightBlock(self, text: str) -> None:  # noqa: N802 (Qt override)
        source = self.document().toPlainText()
        if source != self._source:
            self._relex(source)
        for start, length, fmt in self._by_block.get(self.currentBlock().blockNumber(), ()):
            self.setFormat(start, length, fmt)
