"""``%gui tk``: the kernel's main thread runs Tcl's event loop between requests.

Tcl dispatches events per thread, whichever interpreter asks, so the kernel
drives the loop through a Tcl interpreter of its own with no window. The
user's first ``tkinter.Tk()`` therefore stays tkinter's default root, as in a
plain script, and ``root.mainloop()`` still ends when the user's windows are
gone (Tk counts main windows, and the kernel has none).

The loop sleeps in ``Tcl_DoOneEvent`` with file handlers on the shell
socket's FD (only while idle, so a ``mainloop()`` in user code does not spin
on a waiting request) and on ``app.wake_fd`` (always, so that SIGINT
interrupts even a ``mainloop()`` run by user code). Where Tk cannot watch
descriptors (Windows), it checks every ``POLL_MS`` instead.
"""

from __future__ import annotations

import gc
import logging
import sys

import zmq

from . import guisupport
from .eventloops import GuiUnavailable, drain_pipe, sigint_blocked
from .interrupts import interruptible

log = logging.getLogger(__name__)

POLL_MS = 10


class TkLoop:
    """Tcl's event loop between requests."""

    name = "tk"

    def __init__(self):
        try:
            import tkinter
        except ImportError as exc:
            raise GuiUnavailable(f"%gui tk needs tkinter, which cannot be imported here: {exc}") from None
        self.tkinter = tkinter
        with sigint_blocked():  # Tcl's notifier thread must not take SIGINT
            try:
                probe = tkinter.Tcl()
                probe.tk.loadtk()  # connects to the display, or says why it cannot
                probe.tk.call("destroy", ".")
                self.driver = tkinter.Tcl()
            except tkinter.TclError as exc:
                raise GuiUnavailable(
                    f"cannot start the Tk event loop: {exc}. Tk needs a display: run the kernel "
                    "where DISPLAY names a running X server (on a machine without a screen, Xvfb)"
                ) from None
        self.polling = not hasattr(self.driver.tk, "createfilehandler")
        guisupport.share_tk_loop(self.driver)

    def activate(self) -> None:
        self.driver._in_event_loop = True

    def deactivate(self) -> None:
        self.driver._in_event_loop = False

    def run(self, app) -> None:
        tk = self.driver.tk
        readable = self.tkinter.READABLE
        shell_fd = app.shell_socket.getsockopt(zmq.FD)
        woke = False

        def on_ready(*_args) -> None:
            nonlocal woke
            woke = True

        @interruptible  # a Tk file handler: what it raises leaves the user's mainloop()
        def on_wake(*_args) -> None:
            drain_pipe(app.wake_fd)
            on_ready()

        if not self.polling:
            tk.createfilehandler(app.wake_fd, readable, on_wake)
        try:
            while not app.stopping and app.event_loop is self:
                if app.shell_pending():
                    app.process_shell()
                    continue
                woke = False
                if self.polling:
                    tk.createtimerhandler(POLL_MS, on_wake)
                else:
                    tk.createfilehandler(shell_fd, readable, on_ready)
                try:
                    while not woke:
                        tk.dooneevent(0)
                finally:
                    if not self.polling:
                        tk.deletefilehandler(shell_fd)
        finally:
            if not self.polling:
                tk.deletefilehandler(app.wake_fd)

    def close_windows(self) -> None:
        """Destroy every Tk root of the process (their <Destroy> bindings
        run), matplotlib's figure windows first so that pyplot forgets them."""
        pyplot = sys.modules.get("matplotlib.pyplot")
        if pyplot is not None:
            try:
                pyplot.close("all")
            except Exception:
                log.exception("closing matplotlib figures failed")
        # Tk keeps no list of its interpreters; the garbage collector knows them.
        roots = [o for o in gc.get_objects() if isinstance(o, self.tkinter.Tk) and o is not self.driver]
        for root in roots:
            try:
                if root.tk.call("winfo", "exists", "."):
                    root.destroy()
            except self.tkinter.TclError:
                pass  # an interpreter without Tk, or already gone
        tk = self.driver.tk
        while tk.dooneevent(self.tkinter.DONT_WAIT | self.tkinter.ALL_EVENTS):
            pass
