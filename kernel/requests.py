"""What the kernel does for each request: the handlers that
:class:`kernel.app.KernelApp` dispatches shell and control messages to.

A mixin of KernelApp, apart from the sockets, threads and dispatch in
:mod:`kernel.app`. Each handler takes (socket, identities, message), reads its
fields with :mod:`kernel.fields` (a field of the wrong type raises BadRequest,
which the dispatcher answers with an error reply) and answers with
``self.reply``. What the handlers use of the app: ``reply``, ``receive``,
``engine``, ``iopub``, ``streams``, ``publish``, ``interrupts``, ``info``,
``shell_socket`` and its queue of messages read ahead (``_deferred``).
"""

from __future__ import annotations

import logging

from . import language
from .fields import cursor_field, field
from .wire import PROTOCOL_VERSION

log = logging.getLogger(__name__)


class RequestHandlers:
    """The request handlers of KernelApp, and which channel serves which."""

    def shell_request_handlers(self) -> dict:
        return {
            "execute_request": self.execute_request,
            "kernel_info_request": self.kernel_info_request,
            "complete_request": self.complete_request,
            "inspect_request": self.inspect_request,
            "is_complete_request": self.is_complete_request,
            "history_request": self.history_request,
            "comm_info_request": self.comm_info_request,
            "connect_request": self.connect_request,
            "shutdown_request": self.shutdown_request,
            "comm_open": self.comm_open,
            "comm_msg": self.comm_ignored,
            "comm_close": self.comm_ignored,
        }

    def control_request_handlers(self) -> dict:
        """Answered even while the main thread runs a cell."""
        return {
            "kernel_info_request": self.kernel_info_request,
            "shutdown_request": self.shutdown_request,
            "interrupt_request": self.interrupt_request,
            "connect_request": self.connect_request,
            "comm_info_request": self.comm_info_request,
        }

    def kernel_info_request(self, sock, idents, msg) -> None:
        self.reply(sock, idents, msg, self.kernel_info())

    def kernel_info(self) -> dict:
        return {
            "status": "ok",
            "protocol_version": PROTOCOL_VERSION,
            "implementation": language.IMPLEMENTATION,
            "implementation_version": language.IMPLEMENTATION_VERSION,
            "language_info": language.language_info(),
            "banner": language.banner(),
            "help_links": language.help_links(),
            "debugger": False,
            "supported_features": ["iopub_welcome"],
        }

    def execute_request(self, sock, idents, msg) -> None:
        c = msg["content"]
        code = field(c, "code", str)
        silent = field(c, "silent", bool, False)
        store_history = field(c, "store_history", bool, not silent) and not silent
        user_expressions = field(c, "user_expressions", dict, {})
        allow_stdin = field(c, "allow_stdin", bool, True)
        stop_on_error = field(c, "stop_on_error", bool, True)
        engine = self.engine
        self._set_executing(True)  # an interrupt from here on is for this cell
        self.streams.begin_request()
        try:
            if not silent:
                self.publish("execute_input", {"code": code, "execution_count": engine.execution_count})
            content = engine.execute(code, silent=silent, store_history=store_history,
                                     user_expressions=user_expressions, allow_stdin=allow_stdin)
        except KeyboardInterrupt:
            # Interrupted outside the user's code (the cell was still being
            # compiled, say): the engine could not report it, so report it
            # here as it reports an interrupted cell, on IOPub too.
            error = {"ename": "KeyboardInterrupt", "evalue": "", "traceback": ["KeyboardInterrupt"]}
            if not silent:
                self.publish("error", error)
            content = {"status": "error", **error, "execution_count": engine.execution_count - 1,
                       "user_expressions": {}, "payload": []}
        finally:
            self._set_executing(False)
            self.streams.end_request()
        # The executes to abort are those queued before the error reply goes
        # out: a client that waits for this reply before sending its next cell
        # must never see that cell aborted.
        doomed = self._take_queued_executes() if content["status"] == "error" and stop_on_error else []
        self.reply(sock, idents, msg, content, metadata={"status": content["status"]})
        self._abort_executes(doomed)

    def _take_queued_executes(self) -> list:
        """Executes already waiting on shell; other requests stay queued, in order."""
        taken = []
        while (received := self.receive(self.shell_socket, "shell")) is not None:
            if received[1]["msg_type"] == "execute_request":
                taken.append(received)
            else:
                self._deferred.append(received)
        return taken

    def _abort_executes(self, queued: list) -> None:
        """After a failed cell, the executes queued behind it are answered 'aborted'."""
        for idents, msg in queued:
            self.iopub.send("status", {"execution_state": "busy"}, parent=msg["header"])
            self.reply(self.shell_socket, idents, msg,
                       {"status": "aborted", "execution_count": self.engine.execution_count - 1},
                       metadata={"status": "aborted"})
            self.iopub.send("status", {"execution_state": "idle"}, parent=msg["header"])

    def complete_request(self, sock, idents, msg) -> None:
        c = msg["content"]
        code = field(c, "code", str)
        self.reply(sock, idents, msg, self.engine.complete(code, cursor_field(c, code)))

    def inspect_request(self, sock, idents, msg) -> None:
        c = msg["content"]
        code = field(c, "code", str)
        content = self.engine.inspect(code, cursor_field(c, code),
                                      field(c, "detail_level", int, 0))
        self.reply(sock, idents, msg, content)

    def is_complete_request(self, sock, idents, msg) -> None:
        self.reply(sock, idents, msg, self.engine.is_complete(field(msg["content"], "code", str)))

    def history_request(self, sock, idents, msg) -> None:
        c = msg["content"]
        content = self.engine.history(
            field(c, "hist_access_type", str, "tail"),
            output=field(c, "output", bool, False), raw=field(c, "raw", bool, True),
            session=field(c, "session", int, 0), start=field(c, "start", int, 0),
            stop=field(c, "stop", int, None), n=field(c, "n", int, None),
            pattern=field(c, "pattern", str, "*"), unique=field(c, "unique", bool, False),
        )
        self.reply(sock, idents, msg, content)

    def comm_info_request(self, sock, idents, msg) -> None:
        self.reply(sock, idents, msg, {"status": "ok", "comms": {}})

    def connect_request(self, sock, idents, msg) -> None:
        i = self.info
        self.reply(sock, idents, msg, {
            "status": "ok", "shell_port": i.shell_port, "iopub_port": i.iopub_port,
            "stdin_port": i.stdin_port, "hb_port": i.hb_port, "control_port": i.control_port,
        })

    def comm_open(self, sock, idents, msg) -> None:
        comm_id = field(msg["content"], "comm_id", str)
        target = msg["content"].get("target_name")
        log.debug("no comm target %r; closing comm %r", target, comm_id)
        self.iopub.send("comm_close", {"comm_id": comm_id, "data": {}}, parent=msg["header"])

    def comm_ignored(self, sock, idents, msg) -> None:
        log.debug("ignoring %r for an unknown comm", msg["msg_type"])

    def shutdown_request(self, sock, idents, msg) -> None:
        restart = field(msg["content"], "restart", bool, False)
        content = {"status": "ok", "restart": restart}
        self.reply(sock, idents, msg, content)
        self.iopub.send("shutdown_reply", content, parent=msg["header"])
        log.info("shutdown requested (restart=%s)", restart)
        self.shutdown_requested = True

    def interrupt_request(self, sock, idents, msg) -> None:
        log.debug("interrupt requested (executing=%s)", self.executing)
        self.interrupts.interrupt()
        self.reply(sock, idents, msg, {"status": "ok"})
