"""How a kernel process ends, whoever ends it.

- Its launcher dies (a console killed with SIGKILL): the kernel follows at
  once, and removes its connection file if the file still describes this
  kernel, because nobody else will.
- It shuts down: the processes its user code started in the kernel's own
  process group end with it.
- User code forks it: the child may run the rest of the cell, but it never
  speaks on the kernel's sockets and never serves requests; it ends when
  control comes back to the kernel.
"""

from __future__ import annotations

import json
import logging
import os
import select
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Optional

log = logging.getLogger(__name__)


def wait_for_exit(pid: int) -> None:
    """Block until process ``pid`` has exited.

    A pidfd (Linux 5.3+) becomes readable when the process exits, so this
    costs no CPU; elsewhere the process is probed twice a second.
    """
    try:
        fd = os.pidfd_open(pid)
    except (AttributeError, OSError):
        fd = None  # no pidfd support, or the process is already gone
    if fd is not None:
        try:
            select.select([fd], [], [])
        finally:
            os.close(fd)
        return
    while True:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        except PermissionError:
            pass  # alive, and someone else's: keep waiting
        time.sleep(0.5)


def remove_connection_file_if_ours(path: Optional[Path], key: str) -> bool:
    """Delete ``path`` if it still holds ``key``. Keys are fresh on every
    start, so a file rewritten for another kernel since is left alone."""
    if path is None:
        return False
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, ValueError):
        return False
    if not isinstance(data, dict) or data.get("key") != key:
        return False
    try:
        os.unlink(path)
    except FileNotFoundError:
        return False
    log.info("removed the connection file %s: its launcher is gone", path)
    return True


def end_own_process_group() -> None:
    """Send SIGTERM to every other process in the kernel's process group.

    Only when the kernel leads its own session (it was started with
    ``start_new_session``, as KernelManager and Jupyter launch kernels): then
    the group holds nothing but what the kernel's user code started. A
    kernel run from a shell shares its group with the shell's job, which is
    not the kernel's to end.
    """
    if os.name != "posix":
        return
    pid = os.getpid()
    try:
        if os.getsid(0) != pid or os.getpgrp() != pid:
            return
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, signal.SIG_IGN)  # the group includes us
            os.killpg(pid, signal.SIGTERM)
            return
    except OSError:
        return
    # Another thread cannot ignore SIGTERM for the process: name the others.
    for member in _group_members(pid):
        try:
            os.kill(member, signal.SIGTERM)
        except OSError:
            pass


def _group_members(pgid: int) -> list:
    """Other live processes in process group ``pgid`` (Linux /proc; else none)."""
    members = []
    try:
        entries = os.listdir("/proc")
    except OSError:
        return members
    me = os.getpid()
    for entry in entries:
        if not entry.isdigit() or int(entry) == me:
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                fields = f.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != b"Z":  # pgrp is field 5 of stat(5)
            members.append(int(entry))
    return members


def leave_if_forked_child(kernel_pid: int, failed: bool = False) -> None:
    """End a process that user code forked from the kernel, if this is one.

    The child ran the rest of the cell; what comes next (the reply, status
    messages, serving the next request) belongs to the parent alone. The
    child's captured output went to the process's own streams (see
    :class:`kernel.iostream.OutStream`); flush them and leave without
    running exit handlers, which would close the parent's sockets.
    """
    if os.getpid() == kernel_pid:
        return
    for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
        try:
            stream.flush()
        except (AttributeError, OSError, ValueError):
            pass
    os._exit(1 if failed else 0)
