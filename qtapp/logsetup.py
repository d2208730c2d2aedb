"""Logging: warnings to stderr; with ``--debug``, everything to stderr and a file.

A console started from the desktop menu has no terminal, so ``--debug``
also writes ``$XDG_STATE_HOME/qtapp/qtapp-<time>-<pid>.log`` (0600: it can
hold code and paths), keeping the newest few runs.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from pathlib import Path
from typing import Mapping, Optional

log = logging.getLogger(__name__)

STDERR_FORMAT = "[qtapp %(levelname)s %(name)s] %(message)s"
FILE_FORMAT = "%(asctime)s.%(msecs)03d %(process)d %(levelname)s %(name)s: %(message)s"
#: debug logs kept in the state directory (older ones are removed)
KEEP_LOGS = 10
_OURS = "_qtapp_handler"
#: this process's debug log, if it writes one (shown in Help > About)
current_log_file: Optional[Path] = None


def state_home(env: Mapping[str, str] = os.environ) -> Path:
    """$XDG_STATE_HOME, or ~/.local/state when it is unset or not absolute."""
    value = env.get("XDG_STATE_HOME", "")
    if value and os.path.isabs(value):
        return Path(value)
    return Path(env.get("HOME") or Path.home()) / ".local" / "state"


def log_dir(env: Mapping[str, str] = os.environ) -> Path:
    return state_home(env) / "qtapp"


def _open_log_file(directory: Path) -> Path:
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    path = directory / f"qtapp-{stamp}-{os.getpid()}.log"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.close(fd)
    return path


def prune_logs(directory: Path, keep: int = KEEP_LOGS) -> None:
    logs = sorted(directory.glob("qtapp-*.log"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in logs[keep:]:
        try:
            old.unlink()
        except OSError as exc:
            log.debug("cannot remove the old log %s: %s", old, exc)


def configure_logging(debug: bool, env: Mapping[str, str] = os.environ) -> Optional[Path]:
    """Set up the root logger; returns the debug log file (None without --debug or if
    it cannot be written, which is reported and not fatal)."""
    global current_log_file
    current_log_file = None
    root = logging.getLogger()
    for handler in [h for h in root.handlers if getattr(h, _OURS, False)]:
        root.removeHandler(handler)
        handler.close()
    level = logging.DEBUG if debug else logging.WARNING
    stderr = logging.StreamHandler(sys.stderr)
    stderr.setFormatter(logging.Formatter(STDERR_FORMAT))
    stderr.setLevel(level)
    setattr(stderr, _OURS, True)
    root.addHandler(stderr)
    root.setLevel(level)
    if not debug:
        return None
    directory = log_dir(env)
    try:
        path = _open_log_file(directory)
    except OSError as exc:
        log.warning("cannot write a debug log in %s: %s", directory, exc.strerror or exc)
        return None
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter(FILE_FORMAT, datefmt="%Y-%m-%d %H:%M:%S"))
    handler.setLevel(logging.DEBUG)
    setattr(handler, _OURS, True)
    root.addHandler(handler)
    prune_logs(directory)
    current_log_file = path
    log.info("debug log: %s", path)
    return path
