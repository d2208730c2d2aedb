"""ANSI SGR (Select Graphic Rendition) state, independent of Qt.

Programs colour their output with escape sequences meant for a terminal
(IPython's tracebacks, pytest, rich, tqdm...). The stream decoder keeps one
:class:`SgrState` per output stream and asks it for the :class:`Style` that
applies to the next text; the view turns a Style into a character format.

Colours are ``None`` (the view's default), an ``int`` 0-255 (the xterm
palette: 0-15 are the theme's named colours, 16-255 the fixed cube and grey
ramp) or an ``(r, g, b)`` tuple (truecolour).
"""

from __future__ import annotations

from typing import NamedTuple, Optional, Sequence, Tuple, Union

Colour = Union[None, int, Tuple[int, int, int]]


class Style(NamedTuple):
    """How a run of text looks; hashable so views can cache formats by it."""

    fg: Colour = None
    bg: Colour = None
    bold: bool = False
    faint: bool = False
    italic: bool = False
    underline: bool = False
    inverse: bool = False
    strike: bool = False


PLAIN = Style()

#: SGR codes that set or clear one attribute: code -> (field, value).
_FLAG_CODES = {
    1: ("bold", True), 2: ("faint", True), 3: ("italic", True), 4: ("underline", True),
    7: ("inverse", True), 9: ("strike", True), 21: ("underline", True),
    22: ("bold", False), 23: ("italic", False), 24: ("underline", False),
    27: ("inverse", False), 29: ("strike", False),
}


def xterm_rgb(index: int) -> Tuple[int, int, int]:
    """RGB of a 256-colour palette entry from 16 up (the 6x6x6 cube, then greys)."""
    if not 16 <= index <= 255:
        raise ValueError(f"palette index {index} is not in the fixed part (16-255)")
    if index >= 232:
        level = 8 + 10 * (index - 232)
        return (level, level, level)
    index -= 16
    steps = (0, 95, 135, 175, 215, 255)
    return (steps[index // 36], steps[(index // 6) % 6], steps[index % 6])


def parse_params(raw: str) -> list:
    """SGR parameters as a list of ints; ``None`` for an empty sub-parameter.

    Both separators are accepted: ``38;2;r;g;b`` (common) and the ISO 8613-6
    form ``38:2::r:g:b`` (a colon group becomes one nested list).
    """
    if not raw:
        return [0]
    out: list = []
    for part in raw.split(";"):
        if ":" in part:
            out.append([int(p) if p.isdigit() else None for p in part.split(":")])
        else:
            out.append(int(part) if part.isdigit() else 0)
    return out


def _extended_colour(params: Sequence, i: int) -> tuple:
    """Parse the colour after a 38/48 at ``params[i]``; returns (colour, next index)."""
    item = params[i]
    if isinstance(item, list):  # 38:5:n or 38:2:[cs]:r:g:b
        sub = [x for x in item[1:]]
        if sub and sub[0] == 5 and len(sub) >= 2 and sub[1] is not None:
            return _clamp_index(sub[1]), i + 1
        if sub and sub[0] == 2:
            rgb = [x for x in sub[1:] if x is not None][-3:]
            if len(rgb) == 3:
                return tuple(min(255, v) for v in rgb), i + 1
        return None, i + 1
    mode = params[i + 1] if i + 1 < len(params) else None
    if mode == 5 and i + 2 < len(params) and isinstance(params[i + 2], int):
        return _clamp_index(params[i + 2]), i + 3
    if mode == 2 and i + 4 < len(params) and all(isinstance(v, int) for v in params[i + 2:i + 5]):
        return tuple(min(255, v) for v in params[i + 2:i + 5]), i + 5
    return None, len(params)  # malformed: ignore the rest of the sequence


def _clamp_index(value: Optional[int]) -> Optional[int]:
    return value if value is not None and 0 <= value <= 255 else None


class SgrState:
    """The current rendition of one stream, updated by SGR parameter lists."""

    def __init__(self) -> None:
        self.style = PLAIN

    def reset(self) -> None:
        self.style = PLAIN

    def apply(self, params: Sequence) -> Style:
        style = self.style
        i = 0
        while i < len(params):
            code = params[i]
            if isinstance(code, list):
                head = code[0] if code else None
                if head in (38, 48, 58):
                    colour, i = _extended_colour(params, i)
                    if head != 58 and colour is not None:
                        style = style._replace(**{"fg" if head == 38 else "bg": colour})
                    continue
                code = head if head is not None else 0
            if code == 0:
                style = PLAIN
            elif code in _FLAG_CODES:
                name, value = _FLAG_CODES[code]
                style = style._replace(**{name: value})
                if code == 22:
                    style = style._replace(faint=False)
            elif 30 <= code <= 37:
                style = style._replace(fg=code - 30)
            elif 90 <= code <= 97:
                style = style._replace(fg=code - 90 + 8)
            elif 40 <= code <= 47:
                style = style._replace(bg=code - 40)
            elif 100 <= code <= 107:
                style = style._replace(bg=code - 100 + 8)
            elif code == 39:
                style = style._replace(fg=None)
            elif code == 49:
                style = style._replace(bg=None)
            elif code in (38, 48, 58):
                colour, i = _extended_colour(params, i)
                if code != 58 and colour is not None:
                    style = style._replace(**{"fg" if code == 38 else "bg": colour})
                continue
            # anything else (blink, fonts, frames...) is deliberately ignored
            i += 1
        self.style = style
        return style
