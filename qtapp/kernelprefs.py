"""Settings the console applies inside the kernel, at every connection.

A kernel starts with its own defaults, and a restart brings them back; so
each time the console's handshake completes (``ready``), it silently runs
the set-up code for the user's settings. Today that is the inline figure
format (``%config InlineBackend.figure_format``), for the kernels known to
have that configurable: ours and ipykernel (both IPython underneath).
"""

from __future__ import annotations

import logging
from typing import Optional

from PyQt5.QtCore import QObject

from .console.outputs import NoticeOp
from .console.widget import ConsoleWidget

log = logging.getLogger(__name__)

#: kernel_info ``implementation`` values whose shell has IPython's %config and an InlineBackend
INLINE_BACKEND_KERNELS = frozenset({"qtapp-kernel", "ipython"})


def figure_format_code(fmt: str) -> str:
    return f"%config InlineBackend.figure_format = {fmt!r}"


class KernelPreferences(QObject):
    """Applies ``figure_format`` whenever ``console`` (re)connects to a kernel."""

    def __init__(self, console: ConsoleWidget, figure_format: Optional[str]):
        super().__init__(console)
        self.console = console
        self.figure_format = figure_format
        #: msg_id of the set-up request whose reply is awaited
        self.pending: Optional[str] = None
        #: how many times the set-up was acknowledged by a kernel (for the curious and the tests)
        self.applied = 0
        console.ready.connect(self._on_ready)

    def _on_ready(self, info: dict) -> None:
        if not self.figure_format:
            return
        implementation = (info.get("content") or {}).get("implementation")
        if implementation not in INLINE_BACKEND_KERNELS:
            log.debug("not setting the figure format in a %r kernel", implementation)
            return
        controller = self.console.controller
        bridge = controller.bridge
        msg_id = controller.execute_internal(figure_format_code(self.figure_format))
        if msg_id is None or bridge is None:
            return
        self.pending = msg_id
        bridge.shell_message.connect(self._on_reply)

    def _on_reply(self, msg: dict) -> None:
        if msg.get("msg_type") != "execute_reply" or msg.get("parent_header", {}).get("msg_id") != self.pending:
            return
        self.pending = None
        try:
            self.sender().shell_message.disconnect(self._on_reply)
        except (TypeError, AttributeError):
            pass
        content = msg.get("content") or {}
        if content.get("status") == "ok":
            self.applied += 1
            log.debug("inline figure format set to %s", self.figure_format)
            return
        reason = f"{content.get('ename', 'error')}: {content.get('evalue', '')}".strip(": ")
        log.warning("the kernel did not take the figure format %r: %s", self.figure_format, reason)
        self.console.present(NoticeOp(f"The kernel did not take the inline figure format "
                                      f"{self.figure_format!r} ({reason})", level="error"))
