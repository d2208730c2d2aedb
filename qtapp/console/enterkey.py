"""Enter in the input area: run the cell, or start a new line in it.

The kernel decides whether a cell is complete (``is_complete_request``), so
the rules are its language's. While it is busy, not yet ready, or silent for
longer than ``IS_COMPLETE_TIMEOUT_MS``, the console decides locally with
:func:`~.completeness.check_complete`. An answer that arrives after the user
typed on is stale and ignored.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Optional, Tuple

from PyQt5.QtCore import QObject, QTimer

from .completeness import check_complete

if TYPE_CHECKING:
    from .controller import ConsoleController

log = logging.getLogger(__name__)

#: How long Enter waits for is_complete_reply before deciding locally.
IS_COMPLETE_TIMEOUT_MS = 1000


class EnterKey(QObject):
    def __init__(self, controller: "ConsoleController"):
        super().__init__(controller)
        self.controller = controller
        self._pending: Optional[Tuple[Optional[str], str]] = None  # (msg_id, source)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(IS_COMPLETE_TIMEOUT_MS)
        self._timer.timeout.connect(self._timed_out)

    def press(self, force: bool = False) -> None:
        """Enter: run the cell if complete (``force``: run regardless)."""
        c, view = self.controller, self.controller.view
        source = view.input_text()
        if force:
            self._run(source)
            return
        if not source.strip():
            return
        if not view.input_cursor_at_end() and "\n" in source:
            view.insert_input_newline(self._current_line_indent())
            return
        if not c.is_ready or c.busy:
            self._act(source, *check_complete(source, c.language))
            return
        self._pending = (c.request("is_complete", source), source)
        self._timer.start()

    def on_reply(self, msg: dict) -> None:
        """An is_complete_reply: act on it if it answers the latest Enter."""
        pending = self._pending
        if pending is None or msg["parent_header"].get("msg_id") != pending[0]:
            return
        self.forget()
        content = msg["content"]
        self._act(pending[1], content.get("status", "unknown"), content.get("indent", ""))

    def forget(self) -> None:
        """No answer is awaited any more (answered, restarted, stopped)."""
        self._pending = None
        self._timer.stop()

    def _timed_out(self) -> None:
        pending, self._pending = self._pending, None
        if pending is not None:
            log.info("no is_complete_reply within %d ms; deciding locally", IS_COMPLETE_TIMEOUT_MS)
            self._act(pending[1], *check_complete(pending[1], self.controller.language))

    def _act(self, source: str, status: str, indent: str) -> None:
        view = self.controller.view
        if view.input_text() != source:
            log.debug("Enter: ignored (typed on meanwhile)")
            return  # typed on meanwhile: that Enter is stale
        log.debug("Enter: the cell is %s", status)
        if status in ("complete", "invalid"):
            self._run(source)
        else:
            view.insert_input_newline(indent if isinstance(indent, str) else "")

    def _current_line_indent(self) -> str:
        line = self.controller.view.input_text().split("\n")[-1]
        return line[:len(line) - len(line.lstrip())]

    def _run(self, source: str) -> None:
        if not source.strip():
            return
        self.controller.view.set_input_text("")
        self.controller.execute(source)
