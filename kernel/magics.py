"""Magics that IPython implements for a terminal, redone for a kernel.

The kernel has no terminal and no editor of its own: these magics ask the
frontend to act, through payloads in the ``execute_reply``.

``%edit`` (alias ``%ed``) takes IPython's arguments and options but, instead
of starting an editor in the kernel process, sends::

    {"source": "edit_magic",     # the name Jupyter frontends dispatch on
     "filename": "/abs/path.py", # absolute: the frontend's cwd may differ
     "line_number": 12,          # 1-based line to open at, or None
     "run": True}                # False for %edit -x

The frontend opens the file at that line in the user's editor and, unless
``run`` is False, runs the file in the kernel when the editor is done (as
``%run -i`` would), which is what ``%edit`` does in a terminal. Temporary
files made here live until the kernel exits.

``%exit`` / ``%quit`` send ``{"source": "ask_exit", "keepkernel": bool}``;
``-k`` keeps the kernel running after the frontend closes.

``%less``/``%more`` and ``%man`` page through the frontend's pager (the
``page`` payload) instead of a terminal pager. ``%clear`` (alias ``%cls``)
prints a terminal's erase-display sequence, ``ESC [ H ESC [ 2 J``, as running
``clear`` in ipykernel does: consoles clear their screen on it, and frontends
without a screen drop it.

``%connect_info`` and ``%qtconsole`` need the kernel's connection file, so
they live in :class:`ConnectionMagics`, registered by the kernel application.
"""

from __future__ import annotations

import inspect
import json
import linecache
import logging
import os
import re
import shlex
import shutil
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_magic, magics_class, no_var_expand
from IPython.core.oinspect import find_file, find_source_lines
from IPython.core.prefilter import PrefilterChecker
from traitlets import Integer

log = logging.getLogger(__name__)

#: What ``clear`` writes on a terminal: cursor home, erase the display.
CLEAR_SCREEN = "\x1b[H\x1b[2J"
#: Seconds %man waits for man to format a page.
MAN_TIMEOUT = 60

#: Filenames IPython gives to code compiled from cells.
_CELL_FILENAME = re.compile(r"<ipython-input-(\d+)-[0-9a-f]+>$")


@dataclass
class EditTarget:
    filename: str
    line_number: Optional[int] = None


class EditTargetFinder:
    """What ``%edit ARG`` opens, by IPython's rules, tried in this order:

    1. ARG names a file (``name`` or ``name.py``), or ends in ``.py``: that
       file, which the editor creates if it does not exist yet;
    2. ARG is a range of input history (``3``, ``1-4 7``, ``~1/2-5``): those
       inputs, in a new temporary file;
    3. ARG evaluates to a string or a macro: its text, in a temporary file;
    4. ARG evaluates to another object: the file that defines it, at the line
       of its definition (an object defined in a cell: that cell's input in a
       temporary file, at the definition);
    5. no ARG: a new, empty temporary file.
    """

    def __init__(self, shell: Any, raw: bool = False):
        self.shell = shell
        self.raw = raw
        self.resolvers: tuple = (self._as_file, self._as_history, self._as_value)

    def find(self, arg: str) -> EditTarget:
        arg = arg.strip()
        if not arg:
            return self._temporary("")
        for resolve in self.resolvers:
            target = resolve(arg)
            if target is not None:
                return target
        raise UsageError(f"%edit: {arg!r} is not a file, a range of input history or a "
                         "variable; give a file name, input numbers like '3' or '1-4', or an object")

    # -- the rules ---------------------------------------------------------------
    def _as_file(self, arg: str) -> Optional[EditTarget]:
        name = os.path.expanduser(arg)
        for candidate in (name, name + ".py"):
            if os.path.isfile(candidate):
                return EditTarget(os.path.abspath(candidate))
        if name.endswith(".py"):
            return EditTarget(os.path.abspath(name))
        return None

    def _as_history(self, arg: str) -> Optional[EditTarget]:
        if not re.match(r"^[\d~/:\-\s]+$", arg):
            return None
        text = self.shell.extract_input_lines(arg, self.raw)
        if not text:
            raise UsageError(f"%edit: no input history matches {arg!r}")
        return self._temporary(text)

    def _as_value(self, arg: str) -> Optional[EditTarget]:
        try:
            value = eval(arg, self.shell.user_global_ns, self.shell.user_ns)
        except (NameError, SyntaxError):
            return None
        except Exception as exc:
            raise UsageError(f"%edit: evaluating {arg!r} failed: {type(exc).__name__}: {exc}") from None
        from IPython.core.macro import Macro

        if isinstance(value, str):
            return self._temporary(value)
        if isinstance(value, Macro):
            return self._temporary(value.value)
        return self._definition_of(arg, value)

    # -- objects -------------------------------------------------------------------
    def _definition_of(self, arg: str, obj: Any) -> EditTarget:
        filename, line = _source_location(obj)
        if filename is None:
            raise UsageError(f"%edit: cannot find the file where {arg} is defined "
                             f"(a {type(obj).__name__} defined in C, or created at run time?)")
        cell = _CELL_FILENAME.match(os.path.basename(filename))
        if cell:
            # The code exactly as compiled (line numbers match), kept by
            # IPython for tracebacks; the history may number cells differently.
            text = "".join(linecache.getlines(os.path.basename(filename)))
            if not text:
                raise UsageError(f"%edit: {arg} was defined in input {cell.group(1)}, "
                                 "whose code is no longer available")
            target = self._temporary(text)
            target.line_number = _class_line(text, obj) or line
            return target
        if not os.path.isfile(filename):
            raise UsageError(f"%edit: {arg} was defined in {filename}, which does not exist")
        return EditTarget(os.path.abspath(filename), line)

    def _temporary(self, text: str) -> EditTarget:
        return EditTarget(self.shell.mktempfile(text))


def _source_location(obj: Any) -> tuple:
    """(file, 1-based line) where ``obj``, its class, or its class's methods
    are defined; (None, None) when Python does not know."""
    candidates: list = [obj]
    if not (inspect.ismodule(obj) or inspect.isroutine(obj)):
        cls = obj if inspect.isclass(obj) else type(obj)
        # A class defined in a cell has no file of its own: its methods do.
        candidates += [cls] + [v for v in vars(cls).values() if inspect.isfunction(v)]
    for candidate in candidates:
        filename = find_file(candidate)
        if filename and (os.path.isfile(filename) or _CELL_FILENAME.match(os.path.basename(filename))):
            return filename, find_source_lines(candidate)
    return None, None


def _class_line(text: str, obj: Any) -> Optional[int]:
    """The line of ``class Name`` in ``text``, for a class or an instance."""
    if inspect.ismodule(obj) or inspect.isroutine(obj):
        return None
    name = (obj if inspect.isclass(obj) else type(obj)).__name__
    pattern = re.compile(rf"^\s*class\s+{re.escape(name)}\b")
    for number, line in enumerate(text.splitlines(), 1):
        if pattern.match(line):
            return number
    return None


@magics_class
class KernelMagics(Magics):
    """``%edit``, ``%exit`` and ``%quit`` for a kernel driven by a frontend."""

    _last_edit_arg = ""

    @line_magic
    def edit(self, parameter_s: str = "") -> None:
        """Open a file, an object's source, input history or a new file in
        the frontend's editor, and run it there when editing is done.

        Usage: %edit [-n LINE] [-x] [-r] [-p] [ARG]

        ARG is a file name (created if it ends in .py and does not exist), a
        range of input history like ``3`` or ``1-4 7``, a variable holding a
        string, or an object whose source file is opened at its definition.
        Without ARG a new temporary file is opened.

        -n LINE  open at this line
        -x       open without running the file afterwards
        -r       take history ranges as typed (magics untranslated)
        -p       edit the same target as the previous %edit

        The kernel starts no editor itself: it sends an ``edit_magic`` payload
        and the frontend opens its configured editor.
        """
        opts, arg = self.parse_options(parameter_s, "prxn:")
        if "p" in opts:
            arg = self._last_edit_arg
        line_number: Optional[int] = None
        if "n" in opts:
            try:
                line_number = int(opts["n"])
            except ValueError:
                raise UsageError(f"%edit -n needs a line number, not {opts['n']!r}") from None
        target = EditTargetFinder(self.shell, raw="r" in opts).find(arg)
        self._last_edit_arg = arg
        if line_number is not None:
            target.line_number = line_number
        self.shell.payload_manager.write_payload({
            "source": "edit_magic",
            "filename": target.filename,
            "line_number": target.line_number,
            "run": "x" not in opts,
        })

    @line_magic
    @no_var_expand  # the value is Python: {'png'} is a set, not a {variable}
    def config(self, line: str = "") -> Any:
        """IPython's ``%config``, except that a value a configurable refuses
        (``%config InlineBackend.figure_format = 'gif'``) is an error the user
        sees, not a line in the kernel's log.

        Usage: %config [CLASS[.TRAIT = VALUE]]  (see IPython's %config)
        """
        if "=" not in line:  # listing and reading are IPython's
            from IPython.core.magics.config import ConfigMagics

            ipython_config = vars(ConfigMagics)["config"]  # the attribute is shadowed by a trait
            return ipython_config(self.shell.magics_manager.registry["ConfigMagics"], line)
        from traitlets.config import Config

        self.shell.magics_manager.load_all_lazy_magics()  # their options too

        target, _, _ = line.partition("=")
        if not re.match(r"^\s*[A-Za-z_]\w*\.[A-Za-z_]\w*\s*$", target):
            raise UsageError(f"%config: expected CLASS.TRAIT = VALUE, got {line!r}")
        cfg = Config()
        try:
            exec("cfg." + line.strip(), self.shell.user_ns, {"cfg": cfg})
        except Exception as exc:
            raise UsageError(f"%config: cannot evaluate {line.strip()!r}: {type(exc).__name__}: {exc}") from None
        class_name = target.strip().split(".")[0]
        known = {c.__class__.__name__ for c in self.shell.configurables}
        if class_name not in known:
            raise UsageError(f"%config: no configurable named {class_name!r}; "
                             f"choose from {', '.join(sorted(known))}")
        refused = []
        for configurable in self.shell.configurables:
            try:
                configurable.update_config(cfg)
            except Exception as exc:
                refused.append(f"{type(configurable).__name__}: {exc}")
        if refused:
            raise UsageError("%config: " + "; ".join(refused))

    def _exit(self, name: str, parameter_s: str) -> None:
        opts, arg = self.parse_options(parameter_s, "k")
        if arg.strip():
            raise UsageError(f"%{name} takes no arguments, only -k (keep the kernel running)")
        self.shell.keepkernel_on_exit = "k" in opts
        self.shell.ask_exit()

    @line_magic("exit")
    def exit_magic(self, parameter_s: str = "") -> None:
        """Close the frontend. Usage: %exit [-k]

        -k  keep the kernel running, so another frontend can attach to it
            (the same as ``exit(keep_kernel=True)``)
        """
        self._exit("exit", parameter_s)

    @line_magic("quit")
    def quit_magic(self, parameter_s: str = "") -> None:
        """Close the frontend. Usage: %quit [-k]

        -k  keep the kernel running, so another frontend can attach to it
        """
        self._exit("quit", parameter_s)


@magics_class
class PagerMagics(Magics):
    """``%clear``, ``%less``/``%more`` and ``%man``: what a terminal's pager
    and ``clear`` do, done by the frontend."""

    @line_magic
    def clear(self, parameter_s: str = "") -> None:
        """Clear the console's screen. Usage: %clear (or %cls)

        Consoles (this one, qtconsole) clear their transcript; frontends
        without a screen show nothing.
        """
        if parameter_s.strip():
            raise UsageError("%clear takes no arguments")
        sys.stdout.write(CLEAR_SCREEN)
        sys.stdout.flush()

    cls = line_magic("cls")(clear)

    @line_magic
    def less(self, parameter_s: str = "") -> None:
        """Show a text file in the pager; Python files are highlighted.

        Usage: %less FILE (or %more FILE)
        """
        path = Path(_one_argument("less", parameter_s, "FILE")).expanduser()
        try:
            if path.suffix == ".py":
                from IPython.utils.openpy import read_py_file

                text = self.shell.pycolorize(read_py_file(path, skip_encoding_cookie=False))
            else:
                text = path.read_text(encoding="utf-8", errors="replace")
        except IsADirectoryError:
            raise UsageError(f"%less: {path} is a directory") from None
        except OSError as exc:
            raise UsageError(f"%less: cannot read {path}: {exc.strerror or exc}") from None
        except (SyntaxError, UnicodeDecodeError) as exc:  # a .py file with a bad coding cookie
            raise UsageError(f"%less: cannot read {path}: {exc}") from None
        if "\0" in text[:8192]:
            raise UsageError(f"%less: {path} is not a text file")
        from IPython.core import page

        page.page(text)

    more = line_magic("more")(less)

    @line_magic
    def man(self, parameter_s: str = "") -> None:
        """Show a manual page in the pager. Usage: %man [SECTION] NAME"""
        args = _arguments("man", parameter_s)
        if not args:
            raise UsageError("%man: which manual page? Usage: %man [SECTION] NAME")
        program = shutil.which("man")
        if program is None:
            raise UsageError("%man: this system has no man program")
        env = dict(os.environ, MANPAGER="cat", PAGER="cat", MANWIDTH="80")
        env.pop("MAN_KEEP_FORMATTING", None)
        try:
            done = subprocess.run([program, *args], env=env, stdin=subprocess.DEVNULL, capture_output=True,
                                  text=True, errors="replace", timeout=MAN_TIMEOUT)
        except subprocess.TimeoutExpired:
            raise UsageError(f"%man: man {' '.join(args)} gave no page within {MAN_TIMEOUT} s") from None
        if done.returncode != 0 or not done.stdout.strip():
            reason = done.stderr.strip() or f"no manual entry for {' '.join(args)}"
            raise UsageError(f"%man: {reason}")
        from IPython.core import page

        page.page(re.sub(r".\x08", "", done.stdout))  # overstrike bold and underline, as col -b does


def _arguments(magic: str, parameter_s: str) -> list:
    """The magic's arguments, split and unquoted as a shell would."""
    try:
        return shlex.split(parameter_s)
    except ValueError as exc:
        raise UsageError(f"%{magic}: {exc}") from None


def _one_argument(magic: str, parameter_s: str, what: str) -> str:
    args = _arguments(magic, parameter_s)
    if len(args) != 1:
        raise UsageError(f"%{magic}: expected one {what}, got {len(args)} arguments. Usage: %{magic} {what}")
    return args[0]


@magics_class
class ConnectionMagics(Magics):
    """``%connect_info`` and ``%qtconsole``: other frontends on this kernel."""

    def __init__(self, shell: Any, connection_file: Optional[Path], info: Any):
        super().__init__(shell)
        self.connection_file = connection_file
        self.info = info

    @staticmethod
    def _existing_argument(path: Path) -> str:
        """The shortest ``--existing`` argument that finds the kernel of the
        connection file ``path``: its name when it is in the runtime directory."""
        from .connect import jupyter_runtime_dir

        if path.parent == jupyter_runtime_dir(create=False).resolve():
            return path.name
        return shlex.quote(str(path))

    def _file(self) -> Path:
        if self.connection_file is None:
            raise UsageError("this kernel was started without a connection file")
        return Path(self.connection_file).resolve()

    @line_magic
    def connect_info(self, parameter_s: str = "") -> None:
        """Print this kernel's connection information and how to attach
        another frontend to it. Usage: %connect_info"""
        if parameter_s.strip():
            raise UsageError("%connect_info takes no arguments")
        path = self._file()
        existing = self._existing_argument(path)
        try:  # the file as written, with what the launcher added (the process record)
            document = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            document = self.info.to_dict()
        print(json.dumps(document, indent=2))
        print(f"""
This is the connection file {path}.
Another console on this kernel:
    qtapp --existing {existing}
Any Jupyter frontend:
    jupyter console --existing {existing}
From another machine, save the JSON above to a file there and add --ssh to qtapp:
    qtapp --existing FILE --ssh USER@THIS_HOST""")

    @line_magic
    def qtconsole(self, parameter_s: str = "") -> None:
        """Open another console window on this kernel. Usage: %qtconsole [OPTIONS]

        OPTIONS are qtapp's (see qtapp --help), e.g. %qtconsole --theme dark.
        The window is a process of its own and stays when the kernel ends.
        """
        path = self._file()
        options = _arguments("qtconsole", parameter_s)
        import importlib.util

        by_hand = f"start a console yourself: qtapp --existing {self._existing_argument(path)}"
        if importlib.util.find_spec("qtapp") is None:
            raise UsageError(f"%qtconsole: qtapp is not installed for this kernel's Python ({sys.executable}); "
                             + by_hand)
        if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
                                                     or os.environ.get("QT_QPA_PLATFORM")):
            raise UsageError("%qtconsole: the kernel has no display (no DISPLAY or WAYLAND_DISPLAY) to open "
                             "a window on; " + by_hand)
        # JPY_PARENT_PID names the kernel's launcher: nothing of the console's (a kernel it
        # starts later, say) should end when that process does.
        env = {k: v for k, v in os.environ.items() if k != "JPY_PARENT_PID"}
        argv = [sys.executable, "-m", "qtapp", "--existing", str(path), *options]
        proc = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, start_new_session=True)
        threading.Thread(target=_reap_console, args=(proc,), name="qtconsole-reaper", daemon=True).start()
        print(f"Opening a console on this kernel (qtapp, process {proc.pid}).")


def _reap_console(proc: subprocess.Popen) -> None:
    """Wait for a console %qtconsole started (reading its stderr, so it never
    blocks on a full pipe) and log why it failed, if it did."""
    _, err = proc.communicate()
    if proc.returncode:
        tail = err.decode("utf-8", "replace").strip().splitlines()[-5:]
        log.warning("the console opened by %%qtconsole exited with status %s: %s",
                    proc.returncode, " | ".join(tail) or "no message")


class ExitOptionChecker(PrefilterChecker):
    """``exit -k`` and ``quit -k`` typed without ``%`` mean the magic.

    IPython would autocall the exit object as ``exit(-k)``, a NameError.
    Only the exact option line is taken, and only while ``exit``/``quit``
    still name the shell's own exit object, so user variables win."""

    priority = Integer(250).tag(config=True)  # before IPython's autocall checker

    def check(self, line_info):
        if (line_info.ifun in ("exit", "quit") and line_info.the_rest.strip() == "-k"
                and self.shell.user_ns.get(line_info.ifun) is self.shell.exiter):
            return self.prefilter_manager.get_handler_by_name("magic")
        return None

