"""Output written to the process's file descriptors 1 and 2, forwarded.

``sys.stdout`` catches what Python code prints, but not what reaches the
descriptors directly: a command run with ``os.system`` or ``subprocess``, C
code calling ``printf``, a forked child (multiprocessing workers), warnings
from a GUI toolkit. In a terminal all of that lands on the screen; here the
kernel points descriptors 1 and 2 at pipes and forwards what arrives as
``stream`` output, as ipykernel does, so it shows where the user looks.

A reader thread forwards text as it arrives, to the request running then.
Reads happen under one lock, so :meth:`FdCapture.drain` (called as a request
ends) can take what is still in the pipes itself: everything a cell's
commands wrote before it finished is sent before its ``idle``.

The kernel's own log goes on to copies of the original descriptors, which
are where the launcher collects a kernel's output.
"""

from __future__ import annotations

import array
import codecs
import fcntl
import logging
import os
import select
import sys
import termios
import threading
from typing import Callable, Dict, Optional

log = logging.getLogger(__name__)

#: write(name, text): hands forwarded text to the kernel's stream batcher.
WriteFn = Callable[[str, str], None]

#: Bytes read from a pipe at a time.
READ_SIZE = 1 << 16


class FdCapture:
    """Descriptors 1 and 2 redirected into pipes that the kernel forwards."""

    def __init__(self, write: WriteFn):
        self._write = write
        self._lock = threading.Lock()
        self._pipes: Dict[int, str] = {}  # read end -> stream name
        self._decoders: Dict[int, codecs.IncrementalDecoder] = {}
        self._readable = select.poll()  # drain's quick look; used with the lock held
        self._thread: Optional[threading.Thread] = None

    def install(self) -> None:
        """Redirect the descriptors and start forwarding (once, at start)."""
        for stream in (sys.__stdout__, sys.__stderr__):
            if stream is not None:
                stream.flush()  # what is buffered belongs to the original descriptors
        saved = {}
        for fd, name in ((1, "stdout"), (2, "stderr")):
            saved[fd] = os.dup(fd)  # not inherited: children get the pipe, not the launcher's file
            read_end, write_end = os.pipe()
            os.dup2(write_end, fd)
            os.close(write_end)
            os.set_blocking(read_end, False)
            self._pipes[read_end] = name
            self._decoders[read_end] = codecs.getincrementaldecoder("utf-8")("replace")
            self._readable.register(read_end, select.POLLIN)
        self._keep_log_on_original_streams(saved)
        self._thread = threading.Thread(target=self._forward, name="fd-capture", daemon=True)
        self._thread.start()

    @staticmethod
    def _keep_log_on_original_streams(saved: Dict[int, int]) -> None:
        """Log handlers writing to descriptor 1 or 2 write to the saved copy:
        the kernel's log is for whoever launched it, not for the frontends."""
        for handler in logging.getLogger().handlers:
            stream = getattr(handler, "stream", None)
            try:
                fd = stream.fileno() if stream is not None else None
            except (AttributeError, OSError, ValueError):
                continue
            if fd in saved and isinstance(handler, logging.StreamHandler):
                handler.setStream(os.fdopen(saved[fd], "w", buffering=1, encoding="utf-8",
                                            errors="backslashreplace", closefd=False))

    def drain(self) -> None:
        """Forward what is in the pipes now (bytes written later wait for the reader)."""
        if not self._pipes:
            return
        with self._lock:
            for fd, _ in self._readable.poll(0):  # one system call when nothing waits (most requests)
                if fd not in self._pipes:
                    continue
                try:
                    pending = _bytes_waiting(fd)
                except OSError:  # user code closed our end of the pipe
                    self._forget(fd)
                    continue
                while pending > 0:
                    got = self._read(fd, min(pending, READ_SIZE))
                    if not got:
                        break
                    pending -= got

    # -- the reader thread ----------------------------------------------------------------
    def _forward(self) -> None:
        try:
            while True:
                with self._lock:
                    watched = list(self._pipes)
                if not watched:
                    return
                ready, _, _ = select.select(watched, [], [])
                with self._lock:
                    for fd in ready:
                        if fd in self._pipes:
                            self._read(fd, READ_SIZE)
        except Exception:
            log.exception("forwarding descriptor output failed")

    def _read(self, fd: int, size: int) -> int:
        """Read and forward up to ``size`` bytes; returns how many were read.
        Called with the lock held."""
        try:
            data = os.read(fd, size)
        except BlockingIOError:  # the other reader took it first
            return 0
        if not data:  # user code closed the descriptor, and no child holds it
            self._forget(fd)
            os.close(fd)
            return 0
        text = self._decoders[fd].decode(data)
        if text:
            self._write(self._pipes[fd], text)
        return len(data)

    def _forget(self, fd: int) -> None:
        """Stop watching a pipe (with the lock held)."""
        del self._pipes[fd]
        self._readable.unregister(fd)


def _bytes_waiting(fd: int) -> int:
    count = array.array("i", [0])
    fcntl.ioctl(fd, termios.FIONREAD, count)
    return count[0]
