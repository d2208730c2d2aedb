"""Colours, fonts and character formats shared by the console's views.

A :class:`Theme` is plain data (light and dark are provided); a
:class:`Formats` turns it into cached ``QTextCharFormat`` objects for the
transcript: one per ANSI :class:`~qtapp.console.ansi.Style` and stream, plus
the prompts and notices. Syntax colours come from a pygments style chosen
separately (see :mod:`qtapp.console.highlight`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Dict, Optional, Tuple

from PyQt5.QtGui import QColor, QFont, QFontDatabase, QFontInfo, QPalette, QTextCharFormat, QTextFormat

from .ansi import Colour, Style, xterm_rgb

log = logging.getLogger(__name__)

#: Character format properties that mark what a piece of transcript text is.
PROMPT_PROPERTY = QTextFormat.UserProperty + 1
FOLD_MARKER_PROPERTY = QTextFormat.UserProperty + 2

MONOSPACE_CANDIDATES = ("DejaVu Sans Mono", "Noto Sans Mono", "Liberation Mono", "Source Code Pro",
                        "Ubuntu Mono", "Menlo", "Consolas", "Monospace")
DEFAULT_POINT_SIZE = 10


@dataclass(frozen=True)
class Theme:
    name: str
    background: str
    foreground: str
    selection: str
    gutter: str
    stderr: str
    in_prompt: str
    out_prompt: str
    notice: str
    error_notice: str
    marker: str
    queued: str
    #: the 16 named ANSI colours: black red green yellow blue magenta cyan white, then bright
    ansi: Tuple[str, ...]
    #: the same 16 as backgrounds (softer on a light theme, so text on them stays readable)
    ansi_bg: Tuple[str, ...]
    pygments_style: str

    @property
    def is_dark(self) -> bool:
        return QColor(self.background).lightnessF() < 0.5


LIGHT = Theme(
    name="light",
    background="#ffffff", foreground="#1f2328", selection="#b6d7ff", gutter="#f6f8fa",
    stderr="#b31d28",
    in_prompt="#1a7f37", out_prompt="#b3262c", notice="#57606a", error_notice="#b31d28",
    marker="#8250df", queued="#8c959f",
    ansi=("#1f2328", "#c4262e", "#1a7f37", "#9a6700", "#0550ae", "#8250df", "#1b7c83", "#6e7781",
          "#57606a", "#e5534b", "#2da44e", "#bf8700", "#218bff", "#a475f9", "#3192aa", "#8c959f"),
    ansi_bg=("#1f2328", "#ffd8d3", "#d2f4d9", "#fff0a8", "#d6e9ff", "#eddeff", "#cdf0f2", "#eaeef2",
             "#8c959f", "#ffbdb5", "#a9ecbb", "#ffe26b", "#b1d5ff", "#dcc2ff", "#a6e4ea", "#ffffff"),
    pygments_style="default",
)

DARK = Theme(
    name="dark",
    background="#1e1f22", foreground="#d4d6da", selection="#264f78", gutter="#26282c",
    stderr="#ff7b72",
    in_prompt="#7ee787", out_prompt="#ff8b8b", notice="#9198a1", error_notice="#ff7b72",
    marker="#d2a8ff", queued="#6e7681",
    ansi=("#484f58", "#ff7b72", "#3fb950", "#d29922", "#58a6ff", "#bc8cff", "#39c5cf", "#b1bac4",
          "#6e7681", "#ffa198", "#56d364", "#e3b341", "#79c0ff", "#d2a8ff", "#56d4dd", "#ffffff"),
    ansi_bg=("#0d1117", "#8e1519", "#1a5c2a", "#7a5b00", "#1c4b8f", "#5b2d91", "#145a62", "#b1bac4",
             "#484f58", "#b62324", "#238636", "#9e6a03", "#1f6feb", "#8957e5", "#1b7c83", "#f0f6fc"),
    pygments_style="monokai",
)

THEMES: Dict[str, Theme] = {t.name: t for t in (LIGHT, DARK)}


def theme_named(name: str) -> Theme:
    try:
        return THEMES[name]
    except KeyError:
        raise ValueError(f"unknown theme {name!r} (choose from {', '.join(THEMES)})") from None


def default_font(point_size: float = DEFAULT_POINT_SIZE, family: Optional[str] = None) -> QFont:
    """A monospace font: the family asked for, else the first installed of a
    list of good ones, else the system's fixed font."""
    families = set(QFontDatabase().families())
    chosen = None
    for name in ((family,) if family else ()) + MONOSPACE_CANDIDATES:
        if name in families:
            chosen = name
            break
    if family and chosen != family:
        log.warning("font %r is not installed; using %s", family, chosen or "the system's fixed font")
    font = QFont(chosen) if chosen else QFontDatabase.systemFont(QFontDatabase.FixedFont)
    font.setStyleHint(QFont.Monospace)
    font.setFixedPitch(True)
    font.setPointSizeF(point_size)
    if not QFontInfo(font).fixedPitch():
        log.debug("font %s is not fixed-pitch on this system", font.family())
    return font


def apply_palette(widget, theme: Theme) -> None:
    """Colour a text widget (or any widget) for the theme."""
    pal = widget.palette()
    for group in (QPalette.Active, QPalette.Inactive, QPalette.Disabled):
        pal.setColor(group, QPalette.Base, QColor(theme.background))
        pal.setColor(group, QPalette.Window, QColor(theme.gutter))
        pal.setColor(group, QPalette.Text, QColor(theme.foreground))
        pal.setColor(group, QPalette.WindowText, QColor(theme.foreground))
        pal.setColor(group, QPalette.Highlight, QColor(theme.selection))
        pal.setColor(group, QPalette.HighlightedText, QColor(theme.foreground))
        pal.setColor(group, QPalette.Button, QColor(theme.gutter))
        pal.setColor(group, QPalette.ButtonText, QColor(theme.foreground))
    pal.setColor(QPalette.Disabled, QPalette.Text, QColor(theme.notice))
    pal.setColor(QPalette.Disabled, QPalette.WindowText, QColor(theme.notice))
    pal.setColor(QPalette.Disabled, QPalette.ButtonText, QColor(theme.notice))
    widget.setPalette(pal)


def _luminance(c: QColor) -> float:
    def channel(v: float) -> float:
        return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4
    return 0.2126 * channel(c.redF()) + 0.7152 * channel(c.greenF()) + 0.0722 * channel(c.blueF())


def contrast(a: QColor, b: QColor) -> float:
    """WCAG contrast ratio (1 to 21)."""
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


#: Below this, text on a coloured background is switched to black or white.
MIN_CONTRAST = 3.0


def readable_on(fg: QColor, bg: QColor) -> QColor:
    """``fg``, unless it would be hard to read on ``bg`` (a program's colour
    pair meant for another palette): then black or white, whichever reads best."""
    if contrast(fg, bg) >= MIN_CONTRAST:
        return fg
    black, white = QColor("#000000"), QColor("#ffffff")
    return black if contrast(black, bg) >= contrast(white, bg) else white


class Formats:
    """Cached character formats for one theme."""

    def __init__(self, theme: Theme):
        self.theme = theme
        self._styles: Dict[tuple, QTextCharFormat] = {}
        # Plain text has no colour of its own: it follows the palette, so a
        # theme change recolours it for free.
        self.plain = QTextCharFormat()
        self.in_prompt = self._prompt(theme.in_prompt)
        self.out_prompt = self._prompt(theme.out_prompt)
        self.continuation = self._prompt(theme.in_prompt)
        self.continuation.setFontWeight(QFont.Normal)
        self.notice = QTextCharFormat()
        self.notice.setForeground(QColor(theme.notice))
        self.notice.setFontItalic(True)
        self.error_notice = QTextCharFormat(self.notice)
        self.error_notice.setForeground(QColor(theme.error_notice))
        self.fold_marker = QTextCharFormat()
        self.fold_marker.setForeground(QColor(theme.marker))
        self.fold_marker.setFontItalic(True)
        self.fold_marker.setProperty(FOLD_MARKER_PROPERTY, True)

    def _prompt(self, colour: str) -> QTextCharFormat:
        fmt = QTextCharFormat()
        fmt.setForeground(QColor(colour))
        fmt.setFontWeight(QFont.Bold)
        fmt.setProperty(PROMPT_PROPERTY, True)
        return fmt

    def colour(self, colour: Colour, background: bool = False) -> Optional[QColor]:
        if colour is None:
            return None
        if isinstance(colour, int):
            if colour < 16:
                return QColor((self.theme.ansi_bg if background else self.theme.ansi)[colour])
            return QColor(*xterm_rgb(colour))
        return QColor(*colour)

    def for_style(self, style: Style, stream: str = "stdout") -> QTextCharFormat:
        """The format for ANSI-styled text of a stream (stderr has its own default colours)."""
        key = (style, stream)
        fmt = self._styles.get(key)
        if fmt is not None:
            return fmt
        t = self.theme
        is_err = stream == "stderr"
        fg = self.colour(style.fg) or (QColor(t.stderr) if is_err else None)
        bg = self.colour(style.bg, background=True)
        if style.inverse:
            fg, bg = (bg or QColor(t.background)), (fg or QColor(t.foreground))
        if bg is not None:
            fg = readable_on(fg or QColor(t.stderr if is_err else t.foreground), bg)
        if style.faint:
            fg = QColor(fg or QColor(t.foreground))
            fg.setAlphaF(0.6)
        fmt = QTextCharFormat()
        if fg is not None:
            fmt.setForeground(fg)
        if bg is not None:
            fmt.setBackground(bg)
        if style.bold:
            fmt.setFontWeight(QFont.Bold)
        if style.italic:
            fmt.setFontItalic(True)
        if style.underline:
            fmt.setFontUnderline(True)
        if style.strike:
            fmt.setFontStrikeOut(True)
        self._styles[key] = fmt
        return fmt
