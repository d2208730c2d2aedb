"""The execution engine: Python, via IPython's InteractiveShell.

The engine knows Python and nothing about sockets. The kernel process hands
it an *outlet* (see :class:`Outlet`) through which side effects leave: output
messages for IOPub and input requests for the frontend. Each request method
returns the content of its reply. This is the whole interface between the
dispatcher (``app.py``) and the language.
"""

from __future__ import annotations

import builtins
import getpass
import inspect
import logging
import re
import threading
from contextlib import contextmanager
from typing import Any, Optional, Protocol

from IPython.core.autocall import ExitAutocall
from IPython.core.displayhook import DisplayHook
from IPython.core.displaypub import DisplayPublisher
from IPython.core.error import StdinNotImplementedError, UsageError
from IPython.core.events import EventManager
from IPython.core.history import HistoryManager
from IPython.core import inputtransformer2 as it2
from IPython.core.interactiveshell import InteractiveShell
from traitlets import Any as AnyTrait, Bool, Integer, Type, default

from .interrupts import interruptible, swallows_interrupts

log = logging.getLogger(__name__)

# IPython's event dispatch, which runs its own callbacks before every cell,
# catches KeyboardInterrupt and runs the cell anyway: an interrupt waits it
# out (see kernel.interrupts).
swallows_interrupts(EventManager.trigger)


class Outlet(Protocol):
    """What the engine may do to the outside world."""

    def publish(self, msg_type: str, content: dict, metadata: Optional[dict] = None) -> None:
        """Send an IOPub message, parented to the request being served.
        Pending stream output is flushed first, so order is preserved."""

    def flush_streams(self) -> None:
        """Send buffered stdout/stderr now."""

    def request_input(self, prompt: str, password: bool) -> str:
        """Ask the requesting frontend for a line; raise KeyboardInterrupt if
        interrupted, StdinNotImplementedError if it cannot answer."""

    def checkpoint(self) -> None:
        """Called as kernel work done for user code returns to it: an
        interrupt that arrived meanwhile is raised here."""

    def call_later(self, delay: float, fn) -> None:
        """Run ``fn`` on another thread after ``delay`` seconds."""


# -- IPython hooks that route output to the outlet --------------------------

class KernelDisplayHook(DisplayHook):
    """Results of expressions become ``execute_result`` messages."""

    def start_displayhook(self) -> None:
        super().start_displayhook()
        self._content = {"execution_count": self.prompt_count, "data": {}, "metadata": {}}

    def write_output_prompt(self) -> None:
        pass  # the frontend draws Out[n]

    def write_format_data(self, format_dict, md_dict=None) -> None:
        self._content["data"] = format_dict
        self._content["metadata"] = md_dict or {}

    def finish_displayhook(self) -> None:
        self._is_active = False
        content, self._content = self._content, None
        if content and content["data"]:
            self.shell.outlet.publish("execute_result", content)


class KernelDisplayPublisher(DisplayPublisher):
    """``display()`` and friends become display/update/clear messages."""

    def publish(self, data, metadata=None, source=None, *, transient=None, update=False, **kwargs) -> None:
        content = {"data": data, "metadata": metadata or {}, "transient": transient or {}}
        self.shell.outlet.publish("update_display_data" if update else "display_data", content)
        self.shell.outlet.checkpoint()

    def clear_output(self, wait: bool = False) -> None:
        self.shell.outlet.publish("clear_output", {"wait": bool(wait)})
        self.shell.outlet.checkpoint()


class KernelExitAutocall(ExitAutocall):
    """``exit()`` asks the frontend to close; ``exit(keep_kernel=True)`` keeps us."""

    def __call__(self, keep_kernel: bool = False) -> None:
        self._ip.keepkernel_on_exit = keep_kernel
        self._ip.ask_exit()


class KernelHistoryManager(HistoryManager):
    """Keeps ``exit`` and ``quit`` in the history like any other input.

    IPython leaves them out because in a terminal they end the session; here
    the frontend may decline to close, and a skipped input would shift every
    later ``In[n]``, ``%history`` and ``%edit n`` away from the prompt numbers.
    """

    _exit_re = re.compile(r"(?!)")  # matches nothing

    #: Cells kept before the saving thread must write (see save_soon).
    db_cache_size = Integer(1000).tag(config=True)
    #: The longest a stored cell waits to be written to the database.
    SAVE_DELAY = 1.0

    def save_soon(self, schedule) -> None:
        """Have the cache written within SAVE_DELAY, with one timer for a run
        of cells. IPython writes (and commits, which syncs the disk) after
        every cell, and the saving thread competing for the CPU and the GIL
        added a third to the time of a short cell."""
        if not self.__dict__.get("_save_armed"):
            self.__dict__["_save_armed"] = True
            schedule(self.SAVE_DELAY, self._save_now)

    def _save_now(self) -> None:
        self.__dict__["_save_armed"] = False
        self.save_flag.set()

    def writeout_cache(self, conn=None) -> None:
        """Like IPython's, but the entries leave the cache under its lock and
        are written without it. IPython holds the lock across the commit, so
        a cell finishing right after another waited for the disk in
        ``store_inputs`` (0.6 ms a cell on a quick machine, far more on a
        loaded one)."""
        if not self.enabled:
            return
        conn = conn if conn is not None else self.db
        with self.db_input_cache_lock:
            inputs, self.db_input_cache = self.db_input_cache, []
        with self.db_output_cache_lock:
            outputs, self.db_output_cache = self.db_output_cache, []
        if not inputs and not outputs:
            return
        import sqlite3

        with self._write_lock:
            try:
                self._insert(conn, "INSERT INTO history VALUES (?, ?, ?, ?)", inputs)
            except sqlite3.IntegrityError:
                # Another process wrote this session's line numbers: move on, as IPython does.
                self.new_session(conn)
                log.warning("history session/line number was not unique; now logging to session %d",
                            self.session_number)
                try:
                    self._insert(conn, "INSERT INTO history VALUES (?, ?, ?, ?)", inputs)
                except sqlite3.IntegrityError:
                    pass
            try:
                self._insert(conn, "INSERT INTO output_history VALUES (?, ?, ?)", outputs)
            except sqlite3.IntegrityError:
                log.warning("history output line numbers were not unique; outputs not stored")

    @property
    def _write_lock(self) -> threading.Lock:
        lock = self.__dict__.get("_history_write_lock")
        if lock is None:
            lock = self.__dict__.setdefault("_history_write_lock", threading.Lock())
        return lock

    def _insert(self, conn, sql: str, rows: list) -> None:
        if rows:
            with conn:
                conn.executemany(sql, [(self.session_number,) + tuple(row) for row in rows])


class PlainCellTransformer(it2.TransformerManager):
    """IPython's input transformations, skipped for cells they leave unchanged.

    To find IPython's own syntax (magics, shell escapes, ``?`` help, pasted
    prompts), IPython runs Python's tokenizer over every cell: a third of
    run_cell's time for a short cell, and milliseconds for a long one. Each of
    those constructs needs one of a few characters or prompts (the pattern
    below); a cell without them that starts in its first column comes out of
    the transformations exactly as it went in, so it skips them. This holds
    for the transformations listed in VETTED, whose triggers were checked one
    by one; as soon as the lists differ (an extension added one, or another
    IPython ships other defaults), every cell takes IPython's full path.
    """

    VETTED = (
        (it2.leading_empty_lines, it2.leading_indent, it2.classic_prompt, it2.ipython_prompt),
        (it2.cell_magic,),
        (it2.MagicAssign, it2.SystemAssign, it2.EscapedCommand, it2.HelpEnd),
    )

    #: What any of the vetted transformations looks for, over-approximated.
    NEEDS_TRANSFORMS = re.compile(r"""
          [%!?]                     # magics, %% cell magics, x = %magic, !shell, x = !shell, help?
        | ^[ \t]*[,;/]              # autocall escapes (,f a b  ;f a b  /f a b) opening a line
        | ^[ \t]+$                  # whitespace-only lines: the dedent step empties them
        | >>> | \.\.\. | In\ \[      # pasted Python, doctest and IPython prompts
        | [\r\v\f\x1c-\x1e\x85\u2028\u2029]   # other line breaks: the lines above are \n lines
    """, re.MULTILINE | re.VERBOSE)

    def transform_cell(self, cell: str) -> str:
        if (cell and not cell[0].isspace() and not self.NEEDS_TRANSFORMS.search(cell)
                and self._transforms_are_vetted()):
            return cell if cell.endswith("\n") else cell + "\n"
        return super().transform_cell(cell)

    def _transforms_are_vetted(self) -> bool:
        cleanup, line, token = self.VETTED
        return (tuple(self.cleanup_transforms) == cleanup and tuple(self.line_transforms) == line
                and tuple(self.token_transformers) == token)


class KernelShell(InteractiveShell):
    """InteractiveShell whose side effects go through an Outlet."""

    displayhook_class = Type(KernelDisplayHook)
    display_pub_class = Type(KernelDisplayPublisher)
    outlet = AnyTrait()
    # The console's pager renders HTML (highlighted source, headings); every
    # page payload keeps its text/plain for frontends that prefer text.
    enable_html_pager = Bool(True, help="send text/html as well as text/plain in page payloads").tag(config=True)
    gui_handler = AnyTrait(help="callable(gui) -> None that runs a toolkit's loop; set by the kernel")
    keepkernel_on_exit = False
    last_error: Optional[dict] = None

    @default("input_transformer_manager")
    def _input_transformer_manager_default(self):
        return PlainCellTransformer()

    @default("exiter")
    def _exiter_default(self):
        return KernelExitAutocall(self)

    def init_io(self) -> None:
        pass  # streams are the kernel's, installed before the shell exists

    @contextmanager
    def _tee(self, channel):
        """IPython (9.x) wraps ``sys.stdout.write`` during each cell to keep a
        copy of everything printed in the history's output records. In a
        kernel that copy is paid for on every write (it made 200,000 prints
        four times slower) and it keeps every byte ever printed in memory;
        the frontends already hold the output. So: no tee."""
        yield

    def should_run_async(self, raw_cell: str, *, transformed_cell: Optional[str] = None,
                         preprocessing_exc_tuple: Any = None) -> bool:
        """Top-level ``await``, ``async for`` and ``async with`` each spell one
        of two words; without them a cell needs no coroutine runner, and
        IPython would compile the whole cell an extra time to learn so."""
        if transformed_cell is not None and "await" not in transformed_cell and "async" not in transformed_cell:
            return False
        return super().should_run_async(raw_cell, transformed_cell=transformed_cell,
                                        preprocessing_exc_tuple=preprocessing_exc_tuple)

    def init_history(self) -> None:
        self.history_manager = KernelHistoryManager(shell=self, parent=self)
        self.configurables.append(self.history_manager)

    def init_magics(self) -> None:
        super().init_magics()
        from .magics import ExitOptionChecker, KernelMagics, PagerMagics

        self.register_magics(KernelMagics)  # %edit, %exit, %quit, %config for a frontend
        self.register_magics(PagerMagics)  # %clear, %less, %more, %man
        ExitOptionChecker(shell=self, prefilter_manager=self.prefilter_manager, parent=self.prefilter_manager)

    def _get_exc_info(self, exc_tuple=None):
        etype, value, tb = super()._get_exc_info(exc_tuple)
        if etype is not None and issubclass(etype, KeyboardInterrupt):
            tb = _without_interrupt_handler(tb)
        return etype, value, tb

    def _showtraceback(self, etype, evalue, stb) -> None:
        try:
            value = str(evalue)
        except Exception:
            value = f"<unprintable {type(evalue).__name__} object>"
        content = {"ename": getattr(etype, "__name__", str(etype)), "evalue": value, "traceback": list(stb)}
        self.last_error = content
        self.outlet.publish("error", content)

    def set_next_input(self, text: str, replace: bool = False) -> None:
        self.payload_manager.write_payload({"source": "set_next_input", "text": text, "replace": replace})

    def ask_exit(self) -> None:
        self.payload_manager.write_payload({"source": "ask_exit", "keepkernel": self.keepkernel_on_exit})

    def enable_matplotlib(self, gui: Optional[str] = None) -> tuple:
        """``%matplotlib [gui]``: ``inline`` (and, by default, no name) is the
        kernel's own backend; other names switch matplotlib's backend and run
        the GUI toolkit's event loop through :meth:`enable_gui`."""
        from . import plotting

        return plotting.enable_matplotlib(self, gui)

    def enable_gui(self, gui=None) -> None:
        if self.gui_handler is None:
            if gui in (None, "", "inline"):
                return
            raise UsageError(f"this kernel cannot run a {gui!r} event loop")
        self.gui_handler(gui)


def _without_interrupt_handler(tb):
    """A KeyboardInterrupt is raised inside the kernel's SIGINT handler, and
    may land while the kernel is busy on the cell's behalf (sending output
    from print or a flush, publishing a display): users should see their own
    code end the traceback, not the kernel's machinery. So the traceback is
    cut at the first kernel frame below user code (IPython hides marked
    frames, but never the last one)."""
    import os

    kernel_dir = os.path.dirname(os.path.abspath(__file__)) + os.sep
    prev, t = None, tb
    while t is not None:
        if prev is not None and t.tb_frame.f_code.co_filename.startswith(kernel_dir):
            prev.tb_next = None
            break
        prev, t = t, t.tb_next
    return tb


# -- the engine ---------------------------------------------------------------

_RUN_CELL = getattr(InteractiveShell, "_run_cell", None)


def _close_unstarted_cell(tb) -> None:
    """IPython makes a cell's coroutine before it runs it. Interrupted in
    between, the coroutine is never started, and Python warns "coroutine
    'InteractiveShell.run_cell_async' was never awaited" whenever it is
    collected, in some later cell. Close it quietly. (It is a local of
    IPython's private ``_run_cell``; should that change, nothing is closed,
    and tests/test_interrupts.py says so.)"""
    while tb is not None:
        if _RUN_CELL is not None and tb.tb_frame.f_code is _RUN_CELL.__code__:
            coro = tb.tb_frame.f_locals.get("coro")
            if inspect.iscoroutine(coro) and inspect.getcoroutinestate(coro) == inspect.CORO_CREATED:
                coro.close()
        tb = tb.tb_next


class PythonEngine:
    """The kernel's interpreter, one method per request type."""

    def __init__(self, outlet: Outlet, user_ns: Optional[dict] = None):
        self.outlet = outlet
        self.shell = KernelShell.instance(outlet=outlet, user_ns=user_ns)
        from IPython.core import page, payloadpage

        from . import plotting

        plotting.install(self.shell)

        self.shell.set_hook("show_in_pager", page.as_hook(payloadpage.page), 99)
        self.shell.history_manager  # opened now, not during the first request
        self._complete_lock = threading.Lock()  # the completer is not thread-safe

    @property
    def execution_count(self) -> int:
        return self.shell.execution_count

    # -- requests --------------------------------------------------------------
    @interruptible
    def execute(self, code: str, silent: bool = False, store_history: bool = True,
                user_expressions: Optional[dict] = None, allow_stdin: bool = True) -> dict:
        shell = self.shell
        shell.last_error = None
        shell.payload_manager.clear_payload()
        with self._forward_input(allow_stdin):
            try:
                result = shell.run_cell(code, store_history=store_history, silent=silent)
            except KeyboardInterrupt as exc:
                _close_unstarted_cell(exc.__traceback__)
                raise
        self.outlet.flush_streams()
        if store_history and isinstance(shell.history_manager, KernelHistoryManager):
            shell.history_manager.save_soon(self.outlet.call_later)
        reply: dict = {"execution_count": shell.execution_count - 1}
        error = result.error_before_exec or result.error_in_exec
        if error is not None:
            content = shell.last_error or {
                "ename": type(error).__name__, "evalue": str(error), "traceback": [],
            }
            reply.update(status="error", **content)
            reply["user_expressions"] = {}
        else:
            reply["status"] = "ok"
            reply["user_expressions"] = shell.user_expressions(user_expressions or {})
        reply["payload"] = self._take_payloads()
        return reply

    def _take_payloads(self) -> list:
        payloads = self.shell.payload_manager.read_payload()
        self.shell.payload_manager.clear_payload()
        # Several set_next_input in one cell: only the last one can win.
        last_next = max((i for i, p in enumerate(payloads) if p.get("source") == "set_next_input"), default=None)
        return [p for i, p in enumerate(payloads) if p.get("source") != "set_next_input" or i == last_next]

    @contextmanager
    def _forward_input(self, allow_stdin: bool):
        """input()/getpass() ask the frontend for the duration of a request."""
        outlet = self.outlet

        def ask(prompt: Any = "", password: bool = False) -> str:
            if not allow_stdin:
                raise StdinNotImplementedError(
                    "input() is not available: the frontend that ran this code does not accept input requests"
                )
            return outlet.request_input(str(prompt), password)

        def input_(prompt: Any = "") -> str:
            return ask(prompt, False)

        def getpass_(prompt: str = "Password: ", stream: Any = None) -> str:
            return ask(prompt, True)

        saved = builtins.input, getpass.getpass
        builtins.input, getpass.getpass = input_, getpass_
        try:
            yield
        finally:
            builtins.input, getpass.getpass = saved

    def prime(self) -> None:
        """Pay the completer's first-use cost (jedi builds its caches: about a
        quarter of a second) in the background, right after start, instead
        of on the user's first Tab."""
        try:
            self.complete("import o", 8)
        except Exception:
            log.debug("priming the completer failed", exc_info=True)

    def complete(self, code: str, cursor_pos: Optional[int]) -> dict:
        from IPython.core.completer import provisionalcompleter, rectify_completions

        if cursor_pos is None:
            cursor_pos = len(code)
        with self._complete_lock, provisionalcompleter():
            raw = self.shell.Completer.completions(code, cursor_pos)
            completions = list(rectify_completions(code, raw))
        types = [
            {"start": c.start, "end": c.end, "text": c.text, "type": c.type, "signature": c.signature}
            for c in completions
        ]
        if completions:
            start, end = completions[0].start, completions[0].end
        else:
            start = end = cursor_pos
        return {
            "status": "ok",
            "matches": [c.text for c in completions],
            "cursor_start": start,
            "cursor_end": end,
            "metadata": {"_jupyter_types_experimental": types},
        }

    def inspect(self, code: str, cursor_pos: Optional[int], detail_level: int = 0) -> dict:
        from IPython.utils.tokenutil import token_at_cursor

        if cursor_pos is None:
            cursor_pos = len(code)
        name = token_at_cursor(code, cursor_pos)
        try:
            data = self.shell.object_inspect_mime(name, detail_level=detail_level)
        except KeyError:
            return {"status": "ok", "found": False, "data": {}, "metadata": {}}
        # Replies to inspect_request become call tips and tooltips, where the
        # pager's HTML (with its headings) would not fit: plain text only.
        data.pop("text/html", None)
        return {"status": "ok", "found": True, "data": data, "metadata": {}}

    def is_complete(self, code: str) -> dict:
        status, indent = self.shell.input_transformer_manager.check_complete(code)
        reply = {"status": status}
        if status == "incomplete":
            reply["indent"] = " " * (indent or 0)
        return reply

    def history(self, hist_access_type: str, output: bool = False, raw: bool = True,
                session: int = 0, start: int = 0, stop: Optional[int] = None,
                n: Optional[int] = None, pattern: str = "*", unique: bool = False) -> dict:
        hm = self.shell.history_manager
        hm.writeout_cache()  # what was just run is in the answer
        if hist_access_type == "tail":
            rows = hm.get_tail(n or 10, raw=raw, output=output, include_latest=True)
        elif hist_access_type == "range":
            rows = hm.get_range(session, start, stop, raw=raw, output=output)
        elif hist_access_type == "search":
            rows = hm.search(pattern or "*", raw=raw, output=output, n=n, unique=unique)
        else:
            return {"status": "error", "ename": "ValueError",
                    "evalue": f"unknown hist_access_type {hist_access_type!r} (expected tail, range or search)",
                    "traceback": [], "history": []}
        return {"status": "ok", "history": [list(r) for r in rows]}

    def comm_info(self, target_name: Optional[str] = None) -> dict:
        return {"status": "ok", "comms": {}}

    def shutdown(self) -> None:
        """Save history and remove temporary files now: the process may end
        with os._exit, which skips atexit."""
        import atexit

        atexit.unregister(self.shell.atexit_operations)
        try:
            self.shell.atexit_operations()
        except Exception:
            log.exception("engine cleanup failed")
