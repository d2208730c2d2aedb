"""The desktop entry and icons in the user's XDG directories.

``qtapp --install-desktop`` makes the console appear in the desktop's
application menu: it writes ``applications/qtapp.desktop`` and the icon in
the hicolor theme layout under ``$XDG_DATA_HOME`` (default
``~/.local/share``). A desktop session does not have a virtual
environment's ``bin`` on its PATH, so the entry's ``Exec`` names the
launcher by absolute path, quoted as the Desktop Entry Specification
requires. Nothing here needs Qt or a display.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Mapping, Optional, Sequence

from .icons import HICOLOR, ICON_NAME, ICON_SIZES, RESOURCES, SVG_PATH, png_path

log = logging.getLogger(__name__)

APP_ID = "qtapp"
TEMPLATE = RESOURCES / f"{APP_ID}.desktop"

#: Characters that oblige an Exec argument to be quoted (Desktop Entry Specification, "The Exec key").
_RESERVED = set(" \t\n\"'\\><~|&;$*?#()`")
#: Characters escaped with a backslash inside a quoted Exec argument.
_QUOTED_ESCAPES = set("\"`$\\")
#: String escapes of desktop entry values, applied before the Exec quoting rules.
_STRING_ESCAPES = {"s": " ", "n": "\n", "t": "\t", "r": "\r", "\\": "\\"}
#: Field codes a launcher expands; %% is a literal percent sign.
_FIELD_CODES = set("fFuUdDnNickvm")


class DesktopEntryError(ValueError):
    """An Exec value that does not follow the specification."""


def data_home(env: Mapping[str, str] = os.environ) -> Path:
    """$XDG_DATA_HOME, or ~/.local/share when it is unset or not absolute (as the spec says)."""
    value = env.get("XDG_DATA_HOME", "")
    if value and os.path.isabs(value):
        return Path(value)
    return Path(env.get("HOME") or Path.home()) / ".local" / "share"


def exec_quote(argv: Sequence[str]) -> str:
    """An Exec value that a launcher splits back into exactly ``argv``."""
    if not argv:
        raise DesktopEntryError("an Exec line needs a program")
    words = []
    for arg in argv:
        if "\0" in arg:
            raise DesktopEntryError(f"an Exec argument cannot contain NUL: {arg!r}")
        arg = arg.replace("%", "%%")
        if not arg or any(c in _RESERVED for c in arg):
            arg = '"' + "".join("\\" + c if c in _QUOTED_ESCAPES else c for c in arg) + '"'
        words.append(arg)
    value = " ".join(words)
    # the string-value escapes come on top of the quoting rules
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace("\t", "\\t").replace("\r", "\\r")


def _unescape_string(value: str) -> str:
    out = []
    chars = iter(value)
    for c in chars:
        if c == "\\":
            nxt = next(chars, "")
            if nxt in _STRING_ESCAPES:
                out.append(_STRING_ESCAPES[nxt])
                continue
            out.append(c + nxt)  # not a string escape: left for the quoting rules
        else:
            out.append(c)
    return "".join(out)


def exec_split(value: str, *, files: Sequence[str] = ()) -> List[str]:
    """The argument vector a launcher runs for an Exec value (field codes
    expanded with ``files``, or dropped)."""
    text = _unescape_string(value)
    args: List[str] = []
    current: Optional[List[str]] = None
    i = 0
    while i < len(text):
        c = text[i]
        if c == '"':
            if current is None:
                current = []
            end = i + 1
            while True:
                if end >= len(text):
                    raise DesktopEntryError(f"unterminated quote in Exec value {value!r}")
                if text[end] == "\\" and end + 1 < len(text) and text[end + 1] in _QUOTED_ESCAPES:
                    current.append(text[end + 1])
                    end += 2
                    continue
                if text[end] == '"':
                    break
                current.append(text[end])
                end += 1
            i = end + 1
            continue
        if c == " ":
            if current is not None:
                args.append("".join(current))
                current = None
            i += 1
            continue
        if current is None:
            current = []
        current.append(c)
        i += 1
    if current is not None:
        args.append("".join(current))
    return _expand_field_codes(args, files)


def _expand_field_codes(args: List[str], files: Sequence[str]) -> List[str]:
    out: List[str] = []
    for arg in args:
        if arg in ("%F", "%U"):
            out.extend(files)
            continue
        if arg in ("%f", "%u"):
            out.extend(files[:1])
            continue
        pieces = []
        i = 0
        while i < len(arg):
            if arg[i] == "%" and i + 1 < len(arg):
                code = arg[i + 1]
                if code == "%":
                    pieces.append("%")
                elif code not in _FIELD_CODES:
                    raise DesktopEntryError(f"unknown field code %{code} in Exec argument {arg!r}")
                i += 2
                continue
            pieces.append(arg[i])
            i += 1
        word = "".join(pieces)
        if word or not any(c == "%" for c in arg):
            out.append(word)
    return out


def launcher_argv() -> List[str]:
    """How to start this installation of qtapp from a desktop session."""
    running = Path(sys.argv[0]) if sys.argv and sys.argv[0] else None
    if running is not None and running.name == APP_ID and running.is_file():
        return [os.path.abspath(running)]
    beside = Path(sys.executable).parent / APP_ID
    if beside.is_file() and os.access(beside, os.X_OK):
        return [str(beside)]
    return [os.path.abspath(sys.executable), "-m", APP_ID]


def parse_entry(text: str) -> Dict[str, Dict[str, str]]:
    """Groups of a desktop entry file: {"Desktop Entry": {"Exec": ...}, ...}."""
    groups: Dict[str, Dict[str, str]] = {}
    current: Optional[Dict[str, str]] = None
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.startswith("[") and stripped.endswith("]"):
            current = groups.setdefault(stripped[1:-1], {})
            continue
        if current is None or "=" not in line:
            raise DesktopEntryError(f"line {number} is neither a group header nor a key=value: {line!r}")
        key, value = line.split("=", 1)
        current[key.strip()] = value.strip()
    return groups


def render_entry(template: str, argv: Sequence[str]) -> str:
    """The template with every Exec (and TryExec) pointing at ``argv``."""
    out = []
    for line in template.splitlines():
        key, sep, value = line.partition("=")
        if sep and key.strip() == "Exec":
            extra = exec_split(value)[1:]  # keep the template's own arguments (e.g. --existing)
            line = "Exec=" + exec_quote([*argv, *extra])
        elif sep and key.strip() == "TryExec":
            line = "TryExec=" + argv[0]
        out.append(line)
    return "\n".join(out) + "\n"


@dataclass(frozen=True)
class DesktopFiles:
    """Where the entry and icons go under one data directory."""

    root: Path

    @property
    def entry(self) -> Path:
        return self.root / "applications" / f"{APP_ID}.desktop"

    @property
    def hicolor(self) -> Path:
        return self.root / "icons" / "hicolor"

    def icons(self) -> Dict[Path, Path]:
        """installed path -> packaged source"""
        icons = {self.hicolor / png_path(size).relative_to(HICOLOR): png_path(size) for size in ICON_SIZES}
        icons[self.hicolor / "scalable" / "apps" / f"{ICON_NAME}.svg"] = SVG_PATH
        return icons


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    with open(tmp, "wb") as f:
        f.write(data)
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)


def install(root: Optional[Path] = None, argv: Optional[Sequence[str]] = None) -> List[Path]:
    """Write the desktop entry and icons; returns the files written."""
    files = DesktopFiles(root or data_home())
    argv = list(argv or launcher_argv())
    if not TEMPLATE.is_file():
        raise FileNotFoundError(f"the desktop entry template is missing from this installation: {TEMPLATE}")
    written = []
    for dest, source in files.icons().items():
        if not source.is_file():
            raise FileNotFoundError(f"the icon is missing from this installation: {source}")
        _write(dest, source.read_bytes())
        written.append(dest)
    _write(files.entry, render_entry(TEMPLATE.read_text(encoding="utf-8"), argv).encode("utf-8"))
    written.append(files.entry)
    _refresh(files)
    log.info("desktop entry installed: %s (runs %s)", files.entry, " ".join(argv))
    return written


def uninstall(root: Optional[Path] = None) -> List[Path]:
    """Remove what :func:`install` wrote; returns the files removed."""
    files = DesktopFiles(root or data_home())
    removed = []
    for path in [files.entry, *files.icons()]:
        try:
            path.unlink()
        except FileNotFoundError:
            continue
        removed.append(path)
    if removed:
        _refresh(files)
    return removed


def _refresh(files: DesktopFiles) -> None:
    """Tell the desktop's caches (best effort: most desktops also watch the folders)."""
    commands = []
    if files.entry.parent.is_dir() and shutil.which("update-desktop-database"):
        commands.append(["update-desktop-database", "-q", str(files.entry.parent)])
    if (files.hicolor / "icon-theme.cache").exists() or (files.hicolor / "index.theme").exists():
        if shutil.which("gtk-update-icon-cache"):
            commands.append(["gtk-update-icon-cache", "-q", "-t", "-f", str(files.hicolor)])
    if files.hicolor.is_dir():
        os.utime(files.hicolor)  # icon theme caches are invalidated by the folder's time
    for cmd in commands:
        try:
            subprocess.run(cmd, check=False, timeout=30, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        except (OSError, subprocess.TimeoutExpired) as exc:
            log.debug("%s failed: %s", cmd[0], exc)
