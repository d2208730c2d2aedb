"""The text of the configuration file: the commented default, and edits in place.

A user's config file is theirs: comments, order and layout stay as they
wrote them. A change made from a menu rewrites only the line of that key
(or uncomments the default's line for it, or adds one to its section), and
is kept only if the whole file still parses to exactly what it said before
plus the new value. Otherwise nothing is written and the caller is told.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Iterable, List, Optional, Sequence, Tuple

from kernel._version import __version__

from .config import KEYS_SECTION, SECTIONS, SETTINGS, ConfigWriteError, toml

HEADER = """\
# qtapp configuration
#
# Every setting is shown with its default value, commented out: remove the "#" at the
# start of a line to change it. Options given on the command line win over this file.
# Choices made in the View and Kernel menus (theme, syntax style, font, confirm restart)
# are saved here too, in place. Window size and zoom are remembered separately.
#
# Written by `qtapp --generate-config` (qtapp {version}).
"""

KEYS_INTRO = """\
# Every command below can be bound to keys: one key ("Ctrl+J") or a list
# (["Shift+Return", "Ctrl+J"]); [] leaves a command without keys. A key given here is
# taken away from any command that had it by default. Keys are written as Qt writes
# them: Ctrl, Shift, Alt, Meta with Return, Enter, Tab, Escape, Up, PgDown, F1, "Ctrl+."...
# Help > Keyboard shortcuts lists the keys in force."""

#: (config name, default keys, what it does)
KeyRow = Tuple[str, Sequence[str], str]

_BASIC_ESCAPES = {"\\": "\\\\", '"': '\\"', "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}


def toml_value(value: Any) -> str:
    """``value`` written as TOML (strings, numbers, booleans and lists of them)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError(f"{value} has no place in a config file")
        return repr(value)
    if isinstance(value, str):
        return '"' + "".join(_BASIC_ESCAPES.get(c) or (f"\\u{ord(c):04x}" if ord(c) < 32 or ord(c) == 127 else c)
                             for c in value) + '"'
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} as TOML")


def _comment(text: str, width: int = 92) -> List[str]:
    lines, line = [], "#"
    for word in text.split():
        if len(line) + 1 + len(word) > width and line != "#":
            lines.append(line)
            line = "#"
        line += " " + word
    lines.append(line)
    return lines


def default_text(key_rows: Iterable[KeyRow] = ()) -> str:
    """The commented default file: every setting documented, every key binding listed."""
    out = [HEADER.format(version=__version__)]
    for section in SECTIONS:
        out.append(f"[{section}]\n")
        for s in (s for s in SETTINGS if s.section == section):
            out.extend(_comment(s.doc))
            if s.option:
                out.append(f"# Command line: {s.option}.")
            out.append(f"# {s.key} = {toml_value(s.default)}")
            out.append("")
    out.append(f"[{KEYS_SECTION}]\n")
    out.append(KEYS_INTRO)
    out.append("")
    for name, keys, description in key_rows:
        out.extend(_comment(description))
        out.append(f"# {name} = {toml_value(list(keys))}")
        out.append("")
    return "\n".join(out).rstrip("\n") + "\n"


def _header_of(line: str) -> Optional[str]:
    m = re.match(r"\s*\[\s*([A-Za-z0-9_.\-]+)\s*\]\s*(#.*)?$", line)
    return m.group(1) if m else None


def _split_comment(rest: str) -> Tuple[str, str]:
    """A value and its trailing comment (``# ...``), told apart by where TOML says the value ends."""
    tomllib = toml()
    for i, c in enumerate(rest):
        if c == "#":
            try:
                tomllib.loads("v = " + rest[:i])
            except tomllib.TOMLDecodeError:
                continue
            return rest[:i].rstrip(), "  " + rest[i:].strip()
    return rest.rstrip(), ""


def update_text(text: str, section: str, key: str, value: Any) -> str:
    """``text`` with ``section.key`` set to ``value``; raises ConfigWriteError when that
    cannot be done without changing anything else the file says."""
    tomllib = toml()
    try:
        before = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigWriteError(f"the file is not valid TOML ({exc})") from None
    lines = text.splitlines()
    assignment = f"{key} = {toml_value(value)}"
    start = end = None
    for i, line in enumerate(lines):
        name = _header_of(line)
        if name is not None:
            if start is not None:
                end = i
                break
            if name == section:
                start = i
    if start is None:
        lines += ([""] if lines and lines[-1].strip() else []) + [f"[{section}]", assignment]
    else:
        end = len(lines) if end is None else end
        active = re.compile(rf"\s*{re.escape(key)}\s*=(.*)$")
        commented = re.compile(rf"\s*#\s?{re.escape(key)}\s*=")
        hit = next((i for i in range(start + 1, end) if active.match(lines[i])), None)
        if hit is not None:
            _, comment = _split_comment(active.match(lines[hit]).group(1))
            lines[hit] = assignment + comment
        else:
            hit = next((i for i in range(start + 1, end) if commented.match(lines[i])), None)
            if hit is not None:
                lines[hit] = assignment
            else:
                last = max([i for i in range(start, end) if lines[i].strip()] or [start])
                lines.insert(last + 1, assignment)
    new = "\n".join(lines) + "\n"
    _check_only_changed(before, new, section, key, value)
    return new


def _check_only_changed(before: dict, new_text: str, section: str, key: str, value: Any) -> None:
    tomllib = toml()
    try:
        after = tomllib.loads(new_text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigWriteError(f"setting {section}.{key} here would break the file ({exc})") from None
    expected = {s: dict(t) if isinstance(t, dict) else t for s, t in before.items()}
    table = expected.setdefault(section, {})
    if not isinstance(table, dict):
        raise ConfigWriteError(f"{section} is not a table in the file")
    table[key] = value
    if after != expected:
        raise ConfigWriteError(f"setting {section}.{key} in place would change other settings "
                               "(the file's layout is unusual); edit it by hand")


def _real(path: Path) -> Path:
    """Write through a symlink (dotfile managers link the file), not over it."""
    return Path(os.path.realpath(path))


def write_text_atomically(path: Path, text: str) -> None:
    target = _real(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        mode = target.stat().st_mode & 0o777
    except FileNotFoundError:
        mode = 0o600
    tmp = target.with_name(f".{target.name}.tmp-{os.getpid()}")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        try:
            tmp.unlink()
        except FileNotFoundError:
            pass
        raise


def update_file(path: Path, section: str, key: str, value: Any) -> None:
    """Set one value in the file (creating a small one if there is none)."""
    try:
        text = _real(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        text = ("# qtapp configuration: `qtapp --generate-config` writes a documented file with "
                "every setting.\n")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigWriteError(f"cannot read {path}: {exc}") from None
    try:
        new = update_text(text, section, key, value)
    except ConfigWriteError as exc:
        raise ConfigWriteError(f"{path}: {exc}") from None
    write_text_atomically(path, new)


def generate(path: Path, key_rows: Iterable[KeyRow] = ()) -> Path:
    """Write the commented default at ``path``; an existing file is never overwritten."""
    if os.path.lexists(path):
        raise FileExistsError(f"{path} already exists; move it away first, or write the default elsewhere "
                              "with --config OTHER --generate-config")
    write_text_atomically(path, default_text(key_rows))
    return path
