"""The kernel's main-thread loops: plain ZeroMQ, or a GUI toolkit's.

A loop's ``run(app)`` serves the shell channel by calling
``app.process_shell()`` whenever the shell socket may have messages, and
returns when ``app.stopping`` is set or ``app.event_loop`` is no longer this
loop (``%gui`` switched toolkits), so the kernel can start the next one.
"""

from __future__ import annotations

import os

import zmq


def drain_pipe(fd: int) -> None:
    try:
        while os.read(fd, 4096):
            pass
    except BlockingIOError:
        pass


class ZmqLoop:
    """No toolkit: block in zmq_poll until a request or a wake-up arrives."""

    name = None

    def run(self, app) -> None:
        poller = zmq.Poller()
        poller.register(app.shell_socket, zmq.POLLIN)
        poller.register(app.wake_fd, zmq.POLLIN)
        while not app.stopping and app.event_loop is self:
            events = dict(poller.poll())
            if app.wake_fd in events:
                drain_pipe(app.wake_fd)
            app.process_shell()
