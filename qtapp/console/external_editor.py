"""``%edit``: open the file the kernel names in the user's editor, then run it.

The kernel sends an ``edit_magic`` payload (``filename``, ``line_number``,
``run``). The editor is, in this order:

1. the configured command (``--editor`` or the ``editor`` setting), with
   ``{filename}`` and ``{line}`` placeholders (the file is appended when the
   command has no ``{filename}``);
2. ``$VISUAL``, then ``$EDITOR``; an editor that needs a terminal (vim,
   nano, emacs -nw...) runs inside a terminal emulator when one is found;
3. the desktop's default application for the file (``xdg-open``).

When the editor exits, the file is run in the kernel (``%run -i``, shown
as a cell, so it is in the history), as ``%edit`` does in a terminal,
unless the payload says ``run: false`` (``%edit -x``) or the editor failed.
The editor is the user's, not the console's: it runs in a session of its own
and is never killed, so closing the console cannot lose unsaved edits.
Editors that hand the file to a running instance and exit at once (most
GUI editors, ``xdg-open``) would look as if editing were over before it
began: when the editor exits within a moment without having changed the
file, the file is watched instead and run when it is next saved.

Every outcome is told in the console: which editor opened the file and
when it will run, or why nothing could be opened.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shlex
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Mapping, Optional, Tuple

from PyQt5.QtCore import QFileSystemWatcher, QObject, QSocketNotifier, QTimer, pyqtSignal

log = logging.getLogger(__name__)

#: An editor that exits sooner than this without changing the file has detached.
DETACH_SECONDS = 2.0
#: Saves come as bursts of change events: wait for quiet before reading the file.
SAVE_SETTLE_MS = 300
#: Where pidfds are missing, how often the editor's exit is checked.
POLL_MS = 200

#: Terminal emulators, in order of preference, with the arguments that make
#: them run a command and stay attached until it ends.
TERMINALS: Tuple[Tuple[str, Tuple[str, ...]], ...] = (
    ("x-terminal-emulator", ("-e",)),
    ("gnome-terminal", ("--wait", "--")),
    ("konsole", ("--nofork", "-e")),
    ("xfce4-terminal", ("--disable-server", "-x")),
    ("mate-terminal", ("--disable-factory", "-x")),
    ("kitty", ()),
    ("alacritty", ("-e",)),
    ("foot", ()),
    ("xterm", ("-e",)),
    ("urxvt", ("-e",)),
)

#: Editors with a window of their own: run directly, never in a terminal.
GUI_EDITORS = {"code", "codium", "code-oss", "subl", "sublime_text", "gedit", "gnome-text-editor", "kate",
               "kwrite", "mousepad", "xed", "pluma", "geany", "gvim", "mvim", "atom", "leafpad", "featherpad",
               "notepadqq", "zed", "emacsclient", "idea", "pycharm", "charm", "spyder", "thonny"}

#: How editors are told the line to open at: the arguments before the file, and the
#: file argument itself ({file}, {line}).
_PLUS_LINE = (("+{line}",), "{file}")
LINE_ARGUMENTS: Dict[str, Tuple[Tuple[str, ...], str]] = {
    **{name: _PLUS_LINE for name in ("vi", "vim", "nvim", "view", "gvim", "mvim", "nano", "pico", "emacs",
                                     "emacsclient", "micro", "joe", "jed", "ne", "mg", "kak", "gedit",
                                     "mousepad", "pluma", "xed", "gnome-text-editor")},
    "code": (("--goto",), "{file}:{line}"),
    "codium": (("--goto",), "{file}:{line}"),
    "code-oss": (("--goto",), "{file}:{line}"),
    "subl": ((), "{file}:{line}"),
    "sublime_text": ((), "{file}:{line}"),
    "kate": (("--line", "{line}"), "{file}"),
    "kwrite": (("--line", "{line}"), "{file}"),
    "hx": ((), "{file}:{line}"),
    "helix": ((), "{file}:{line}"),
}


class NoEditor(Exception):
    """No way to open a file was found (the message says how to configure one)."""


@dataclass
class Launch:
    """How one file is opened."""

    program: str
    args: List[str]
    #: what the console tells the user ("vim in xterm", "xdg-open"...)
    description: str
    #: it hands the file over and returns at once: run on the next save
    detaches: bool = False
    #: a command line chosen by the user (its exit status is trusted)
    configured: bool = False
    notes: List[str] = field(default_factory=list)


def _fill(template: str, filename: str, line: int) -> str:
    return template.replace("{filename}", filename).replace("{line}", str(line))


def resolve_editor(filename: str, line: Optional[int], command: Optional[str] = None,
                   env: Optional[Mapping[str, str]] = None,
                   which: Callable[[str], Optional[str]] = shutil.which) -> Launch:
    """How to open ``filename`` at ``line`` (see the module's order of choices)."""
    env = os.environ if env is None else env
    at = line if isinstance(line, int) and line > 0 else 1
    if command and command.strip():
        try:
            words = shlex.split(command)
        except ValueError as exc:
            raise NoEditor(f"the editor command {command!r} cannot be parsed: {exc}") from None
        if not any("{filename}" in w for w in words):
            words.append("{filename}")
        words = [_fill(w, filename, at) for w in words]
        return Launch(words[0], words[1:], Path(words[0]).name, configured=True)
    for variable in ("VISUAL", "EDITOR"):
        value = env.get(variable, "").strip()
        if value:
            return _from_environment(value, variable, filename, line, which)
    opener = which("xdg-open")
    if opener:
        return Launch(opener, [filename], "the desktop's default application", detaches=True)
    raise NoEditor("no editor is configured: start the console with --editor 'COMMAND {filename}' "
                   "(placeholders {filename} and {line}), or set $EDITOR")


def _from_environment(value: str, variable: str, filename: str, line: Optional[int],
                      which: Callable[[str], Optional[str]]) -> Launch:
    try:
        words = shlex.split(value)
    except ValueError as exc:
        raise NoEditor(f"${variable} ({value!r}) cannot be parsed: {exc}") from None
    name = Path(words[0]).name
    before, file_arg = LINE_ARGUMENTS.get(name, ((), "{file}")) if line else ((), "{file}")
    at = str(line or 1)
    editor = words + [a.replace("{line}", at) for a in before] + [file_arg.replace("{file}", filename)
                                                                  .replace("{line}", at)]
    if name in GUI_EDITORS:
        return Launch(editor[0], editor[1:], name)
    for terminal, run_flags in TERMINALS:
        path = which(terminal)
        if path:
            return Launch(path, [*run_flags, *editor], f"{name} in {terminal}")
    return Launch(editor[0], editor[1:], name,
                  notes=[f"no terminal emulator was found to run {name} in"])


def snapshot(path: str) -> Optional[str]:
    """A fingerprint of the file's content (None if it does not exist)."""
    try:
        return hashlib.sha1(Path(path).read_bytes()).hexdigest()
    except OSError:
        return None


#: Editors still open when their console closed (kept to be reaped, not killed).
_ORPHANS: List[subprocess.Popen] = []


class EditorProcess(QObject):
    """An editor process the console does not own: it is watched for its exit
    (a pidfd where there is one, else a timer), never killed, and outlives the
    console, so closing the console cannot lose unsaved edits."""

    exited = pyqtSignal(int)

    def __init__(self, argv: List[str], parent: Optional[QObject] = None):
        super().__init__(parent)
        self.argv = argv
        self.popen: Optional[subprocess.Popen] = None
        self._pidfd: Optional[int] = None
        self._notifier: Optional[QSocketNotifier] = None
        self._timer = QTimer(self)
        self._timer.setInterval(POLL_MS)
        self._timer.timeout.connect(self._check)

    def start(self) -> None:
        """Start it; OSError if it cannot be (not found, not executable)."""
        _ORPHANS[:] = [p for p in _ORPHANS if p.poll() is None]  # reap editors left by closed consoles
        self.popen = subprocess.Popen(self.argv, start_new_session=True)
        try:
            self._pidfd = os.pidfd_open(self.popen.pid)
        except (AttributeError, OSError):
            self._timer.start()
            return
        self._notifier = QSocketNotifier(self._pidfd, QSocketNotifier.Read, self)
        self._notifier.activated.connect(lambda _fd: self._check())

    def _check(self) -> None:
        if self.popen is None or self.popen.poll() is None:
            return
        self.stop_watching()
        self.exited.emit(self.popen.returncode)

    def release(self) -> None:
        """Stop watching a process that may still run; it is reaped later, never killed."""
        self.stop_watching()
        if self.popen is not None and self.popen.poll() is None:
            _ORPHANS.append(self.popen)

    def stop_watching(self) -> None:
        self._timer.stop()
        if self._notifier is not None:
            self._notifier.setEnabled(False)
            self._notifier.deleteLater()
            self._notifier = None
        if self._pidfd is not None:
            os.close(self._pidfd)
            self._pidfd = None


class EditSession(QObject):
    """One file being edited: the editor's process, then maybe a watch for the next save."""

    #: the file should run now
    run_requested = pyqtSignal(str)
    #: something to tell the user: text, is it an error
    message = pyqtSignal(str, bool)
    #: the session is over (run, failed, or nothing more to wait for)
    done = pyqtSignal()

    def __init__(self, filename: str, launch: Launch, run: bool, parent: Optional[QObject] = None):
        super().__init__(parent)
        self.filename = filename
        self.launch = launch
        self.run = run
        self.state = "new"  # "editing", "watching", "done"
        self._baseline = snapshot(filename)
        self._started = 0.0
        self.process: Optional[EditorProcess] = None
        self.watcher: Optional[QFileSystemWatcher] = None
        self._settle = QTimer(self)
        self._settle.setSingleShot(True)
        self._settle.setInterval(SAVE_SETTLE_MS)
        self._settle.timeout.connect(self._check_saved)

    def start(self) -> None:
        if self.launch.detaches and self._baseline is None:
            self._create_empty()  # a desktop application cannot open a file that does not exist
        self.process = EditorProcess([self.launch.program, *self.launch.args], self)
        self.process.exited.connect(self._on_exited)
        self.state = "editing"
        self._started = time.monotonic()
        try:
            self.process.start()
        except OSError as exc:
            self.message.emit(f"Could not start the editor {self.launch.program!r} to open {self.filename}: "
                              f"{exc.strerror or exc}", True)
            self._finish()

    def _create_empty(self) -> None:
        try:
            Path(self.filename).touch()
        except OSError as exc:
            log.warning("could not create %s: %s", self.filename, exc)
        self._baseline = snapshot(self.filename)

    def _on_exited(self, code: int) -> None:
        if self.state != "editing":
            return
        changed = snapshot(self.filename) != self._baseline
        quick = time.monotonic() - self._started < DETACH_SECONDS
        if code != 0:
            if quick and not changed and not self.launch.configured:
                self._watch()  # some launchers report failure after handing over
                return
            how = f"signal {-code}" if code < 0 else f"status {code}"
            self.message.emit(f"The editor exited with {how}: {self.filename} was not run.", True)
            self._finish()
            return
        if not changed and (quick or self.launch.detaches):
            self._watch()
            return
        self._run_now()

    def _watch(self) -> None:
        if not self.run:
            self._finish()  # nothing to wait for
            return
        self.state = "watching"
        self.watcher = QFileSystemWatcher(self)
        self.watcher.fileChanged.connect(lambda _p: self._settle.start())
        self.watcher.directoryChanged.connect(lambda _p: self._settle.start())
        self._rewatch()
        self.message.emit(f"The editor runs on its own: {Path(self.filename).name} will run when you next "
                          "save it.", False)

    def _rewatch(self) -> None:
        """Editors that save by writing a new file and renaming it end the watch
        on the old one: watch the file again, and its directory for its return."""
        if self.watcher is None:
            return
        paths = [str(Path(self.filename).parent)]
        if os.path.exists(self.filename):
            paths.append(self.filename)
        missing = [p for p in paths if p not in self.watcher.files() + self.watcher.directories()]
        if missing:
            self.watcher.addPaths(missing)

    def _check_saved(self) -> None:
        if self.state != "watching":
            return
        self._rewatch()
        if snapshot(self.filename) not in (None, self._baseline):
            self._run_now()

    def _run_now(self) -> None:
        if self.run:
            self.run_requested.emit(self.filename)
        self._finish()

    def _finish(self) -> None:
        self.state = "done"
        self._settle.stop()
        if self.process is not None:
            self.process.release()
        if self.watcher is not None:
            self.watcher.deleteLater()
            self.watcher = None
        self.done.emit()

    def cancel(self) -> None:
        """Stop waiting (the console closes); the editor itself is left running."""
        self._finish()


def run_command(filename: str) -> str:
    """The cell that runs an edited file in the kernel's namespace."""
    return f"%run -i {shlex.quote(filename)}"


class EditorLauncher(QObject):
    """Handles ``edit_magic`` payloads for one console."""

    def __init__(self, execute: Callable[[str], object], notify: Callable[[str, bool], None],
                 command: Callable[[], Optional[str]], parent: Optional[QObject] = None):
        super().__init__(parent)
        self._execute = execute
        self._notify = notify
        self._command = command
        self.sessions: List[EditSession] = []

    def handle_payload(self, payload: dict, reply: Optional[dict] = None) -> None:
        filename = payload.get("filename")
        if not isinstance(filename, str) or not filename:
            self._notify("The kernel asked to edit a file without naming it.", True)
            return
        line = payload.get("line_number")
        self.open(filename, line if isinstance(line, int) else None, bool(payload.get("run", True)))

    def open(self, filename: str, line: Optional[int] = None, run: bool = True) -> Optional[EditSession]:
        if not Path(filename).parent.is_dir():
            self._notify(f"Cannot edit {filename}: its folder does not exist on this computer "
                         "(is the kernel on another machine?)", True)
            return None
        try:
            launch = resolve_editor(filename, line, self._command())
        except NoEditor as exc:
            self._notify(f"Cannot open {filename}: {exc}.", True)
            return None
        session = EditSession(filename, launch, run, self)
        session.run_requested.connect(lambda path: self._execute(run_command(path)))
        session.message.connect(self._notify)
        session.done.connect(lambda s=session: self._forget(s))
        self.sessions.append(session)
        when = ("it runs when the editor closes" if not launch.detaches else "it runs when you next save it") \
            if run else "it will not be run (%edit -x)"
        notes = "".join(f" ({n})" for n in launch.notes)
        self._notify(f"Editing {filename} with {launch.description}{notes}: {when}.", False)
        session.start()
        return session

    def _forget(self, session: EditSession) -> None:
        if session in self.sessions:
            self.sessions.remove(session)

    def cancel_all(self) -> None:
        for session in list(self.sessions):
            session.cancel()
