"""Small helpers for tests that talk to real kernels."""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable, Optional

import zmq

DEFAULT_TIMEOUT = 60.0


def kernel_processes(marker: Path) -> list:
    """PIDs of live processes whose command line mentions ``marker``."""
    mark = str(marker).encode()
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                cmd = f.read()
            with open(f"/proc/{entry}/stat", "rb") as f:
                state = f.read().rsplit(b")", 1)[1].split()[0]
        except OSError:
            continue
        if mark in cmd and state != b"Z":
            found.append(int(entry))
    return found


def iopub_until_idle(kc, msg_id: str, timeout: float = DEFAULT_TIMEOUT) -> list:
    """Every IOPub message parented to ``msg_id``, up to and including idle."""
    out = []
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError(f"no idle for {msg_id}; got {[m['msg_type'] for m in out]}")
        msg = kc.get_iopub_msg(timeout=left)
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        out.append(msg)
        if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
            return out


def shell_reply(kc, msg_id: str, timeout: float = DEFAULT_TIMEOUT) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError(f"no shell reply for {msg_id}")
        msg = kc.get_shell_msg(timeout=left)
        if msg["parent_header"].get("msg_id") == msg_id:
            return msg


def run(kc, code: str, timeout: float = DEFAULT_TIMEOUT, **kwargs) -> tuple:
    """Execute and return (reply, iopub messages of this request)."""
    msg_id = kc.execute(code, **kwargs)
    reply = shell_reply(kc, msg_id, timeout)
    return reply, iopub_until_idle(kc, msg_id, timeout)


def stdout_of(msgs: list, name: str = "stdout") -> str:
    return "".join(m["content"]["text"] for m in msgs
                   if m["msg_type"] == "stream" and m["content"]["name"] == name)


def wait_until(predicate: Callable[[], bool], timeout: float = DEFAULT_TIMEOUT,
               interval: float = 0.02, what: str = "condition") -> None:
    """Poll a cheap predicate (process state, a file) until true or timeout."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} not met within {timeout} s")
        time.sleep(interval)


def raw_dealer(kc, channel: str = "shell", identity: Optional[bytes] = None) -> zmq.Socket:
    """A bare DEALER to one of the kernel's ROUTERs, for hand-made frames."""
    sock = kc.context.socket(zmq.DEALER)
    sock.linger = 0
    if identity:
        sock.setsockopt(zmq.IDENTITY, identity)
    sock.connect(kc.info.url(channel))
    return sock


def start_kernel_process(args: list, env: Optional[dict] = None, **kwargs) -> subprocess.Popen:
    full_env = dict(os.environ)
    full_env.update(env or {})
    return subprocess.Popen([sys.executable, "-m", "kernel", *args], env=full_env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kwargs)


def drain(channel) -> list:
    out = []
    while True:
        try:
            out.append(channel.get_msg(timeout=0.05))
        except queue.Empty:
            return out


_ANSI = __import__("re").compile(r"\x1b\[[0-9;]*[A-Za-z]")


def strip_ansi(text: str) -> str:
    return _ANSI.sub("", text)


# -- looking at a kernel process from outside (Linux /proc) --------------------

_CLK_TCK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time a process has used so far."""
    with open(f"/proc/{pid}/stat", "rb") as f:
        fields = f.read().rsplit(b")", 1)[1].split()
    # after the command: state is field 3 of stat(5); utime and stime are 14 and 15
    return (int(fields[11]) + int(fields[12])) / _CLK_TCK


def process_gone(pid: int) -> bool:
    """True once ``pid`` has exited (a zombie waiting to be reaped counts as gone)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[1].split()[0] == b"Z"
    except FileNotFoundError:
        return True


def _socket_inodes(pid: int) -> set:
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[len("socket:["):-1])
    return inodes


def _decode_address(hex_addr: str) -> tuple:
    """``0100007F:1F90`` (tcp) or a 32-hex-digit IPv6 address -> (ip, port)."""
    import ipaddress

    host, port = hex_addr.split(":")
    raw = bytes.fromhex(host)
    # /proc prints each 32-bit word in host byte order
    words = [raw[i:i + 4][::-1] if sys.byteorder == "little" else raw[i:i + 4] for i in range(0, len(raw), 4)]
    return str(ipaddress.ip_address(b"".join(words))), int(port, 16)


def listening_tcp_sockets(pid: int) -> list:
    """(ip, port) of every TCP socket in LISTEN state that ``pid`` holds open."""
    mine = _socket_inodes(pid)
    found = []
    for table in ("tcp", "tcp6"):
        try:
            with open(f"/proc/{pid}/net/{table}") as f:
                rows = f.read().splitlines()[1:]
        except FileNotFoundError:
            continue
        for row in rows:
            cols = row.split()
            local, state, inode = cols[1], cols[3], cols[9]
            if state == "0A" and inode in mine:  # 0A: TCP_LISTEN
                found.append(_decode_address(local))
    return found
