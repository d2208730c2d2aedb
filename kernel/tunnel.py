"""SSH tunnels to a kernel on another machine.

A kernel listens on five ports of its own machine, normally on loopback
only. To use it from here, one ``ssh`` process forwards five local loopback
ports to them; a local connection file then describes the kernel as if it
ran here, and every client works unchanged.

Why one system ``ssh`` process of our own rather than pyzmq's
``zmq.ssh.tunnel.openssh_tunnel``: that starts one ssh per port, detaches
each (``ssh -f``), so its lifetime is a remote ``sleep`` rather than ours,
and answers password prompts through pexpect. Here:

- the user's ssh configuration, agent and keys apply (it is their ssh);
- ``BatchMode`` turns every prompt into a clear error (a refused key, an
  unknown host key) instead of a hang;
- the tunnel ends when :meth:`SshTunnel.close` is called, and also when this
  process dies however it dies: the remote command reads its standard input,
  which is a pipe from this process, so the remote side sees end-of-file,
  the session ends and ssh exits once the forwarded connections have closed;
- setting up is time-limited: ssh's own ``ConnectTimeout`` plus a deadline on
  the whole (every local port must accept a connection).
"""

from __future__ import annotations

import json
import logging
import os
import re
import secrets
import shlex
import shutil
import socket
import subprocess
import threading
import time
from collections import deque
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Deque, List, Optional, Sequence, Tuple

from .connect import (CHANNELS, LOCALHOST, PATH_FIELD, PROCESS_FIELD, ConnectionFileError, ConnectionInfo,
                      jupyter_runtime_dir, pick_free_ports, process_record, write_connection_file)

log = logging.getLogger(__name__)

#: Seconds allowed for ssh to connect, log in and open the forwards.
TUNNEL_TIMEOUT = 20.0
#: Seconds allowed for the kernel to answer through a new tunnel.
KERNEL_TIMEOUT = 15.0
#: Attempts with fresh local ports when one was taken meanwhile.
PORT_ATTEMPTS = 3
#: Lines of ssh's error output kept for messages.
STDERR_LINES = 200
#: What the remote side runs: it ends when our end of its stdin closes.
LIFELINE_COMMAND = "cat"
#: Remote addresses that mean "every interface": reach them on loopback there.
ANY_ADDRESS = ("0.0.0.0", "::", "*", "")


class TunnelError(RuntimeError):
    """The tunnel could not be set up, or the kernel does not answer through it."""

    def __init__(self, reason: str, details: str = ""):
        super().__init__(reason + (f"\n{details.rstrip()}" if details.strip() else ""))
        self.reason = reason
        self.details = details


@dataclass(frozen=True)
class SshServer:
    """``user@host[:port]`` split up (port None: ssh's default or configuration)."""

    destination: str  # user@host or host, as ssh takes it
    host: str
    port: Optional[int] = None

    def __str__(self) -> str:
        return self.destination + (f":{self.port}" if self.port else "")


def parse_server(text: str) -> SshServer:
    """``host``, ``user@host``, ``user@host:2222``, ``user@[::1]:2222``."""
    text = text.strip()
    if not text or any(c.isspace() for c in text) or text.startswith("-"):
        raise TunnelError(f"not an ssh server: {text!r} (expected user@host or user@host:port)")
    user, at, rest = text.rpartition("@")
    if at and not user:
        raise TunnelError(f"not an ssh server: {text!r} (nothing before '@')")
    port: Optional[int] = None
    m = re.fullmatch(r"\[([^\]]+)\](?::(\d+))?", rest)
    if m:
        host, port_text = m.group(1), m.group(2)
    elif rest.count(":") == 1:
        host, port_text = rest.split(":")
    else:
        host, port_text = rest, None  # a bare IPv6 address has several colons
    if port_text is not None:
        if not port_text.isdigit() or not 0 < int(port_text) < 65536:
            raise TunnelError(f"not an ssh port: {port_text!r} in {text!r}")
        port = int(port_text)
    if not host:
        raise TunnelError(f"not an ssh server: {text!r} (no host)")
    return SshServer(f"{user}@{host}" if at else host, host, port)


# -- why ssh failed ---------------------------------------------------------------------------

#: ssh's message -> what to tell the user ({server}, {host}, {port}, {key}).
_FAILURES: List[Tuple[str, str]] = [
    ("UNPROTECTED PRIVATE KEY FILE", "ssh refuses the key {key}: other users can read it (chmod 600 it)"),
    ("invalid format", "ssh cannot read the key {key}: it is not a private key it understands"),
    ("Permission denied", "{server} refused the login{with_key} (permission denied): is the public key in "
                          "~/.ssh/authorized_keys there, or loaded in your ssh agent?"),
    ("Host key verification failed", "the host key of {host} is not known here, or it changed: connect once "
                                     "with `ssh {server}` to check it and accept it"),
    ("Could not resolve hostname", "cannot reach {host}: the host name is not known"),
    ("Connection refused", "cannot reach {host}: connection refused on port {port} (no ssh server there?)"),
    ("timed out", "cannot reach {host}: the connection timed out"),
    ("No route to host", "cannot reach {host}: no route to the host"),
    ("Network is unreachable", "cannot reach {host}: the network is unreachable"),
    ("Connection closed by", "{server} closed the connection during login"),
]
_PORT_TAKEN = ("Address already in use", "cannot listen to port", "Could not request local forwarding")


def explain_ssh_failure(stderr: str, server: SshServer, key: Optional[str], code: Optional[int]) -> str:
    fields = {"server": server, "host": server.host, "port": server.port or 22, "key": key or "",
              "with_key": f" with the key {key}" if key else ""}
    for needle, message in _FAILURES:
        if needle in stderr:
            return message.format(**fields)
    last = stderr.strip().splitlines()[-3:]
    return f"ssh to {server} failed (exit code {code})" + (f": {' / '.join(last)}" if last else "")


# -- the tunnel ------------------------------------------------------------------------------------

class SshTunnel:
    """A running ssh process forwarding a kernel's five ports to this machine.

    ``info`` describes the kernel as reached here (loopback, local ports,
    the kernel's key); ``remote`` as it is on the server.
    """

    def __init__(self, process: subprocess.Popen, info: ConnectionInfo, remote: ConnectionInfo,
                 server: SshServer, stderr: Deque[str]):
        self.process = process
        self.info = info
        self.remote = remote
        self.server = server
        self.connection_file: Optional[Path] = None
        self._stderr = stderr

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def stderr_text(self) -> str:
        return "".join(self._stderr)

    def write_connection_file(self, path: Optional[Path] = None) -> Path:
        """A local connection file (0600) for this tunnel, so that other local
        clients can attach while it runs; removed when it closes."""
        if path is None:
            host = re.sub(r"[^A-Za-z0-9.-]+", "_", self.server.host)[:40]
            path = jupyter_runtime_dir() / f"kernel-ssh-{host}-{secrets.token_hex(4)}.json"
        info = replace(self.info, extra=dict(self.info.extra))
        # names the ssh process, so a file left by a crash is swept once ssh is gone
        info.extra[PROCESS_FIELD] = process_record(self.process.pid)
        info.extra["ssh_server"] = str(self.server)
        remote_path = info.extra.pop(PATH_FIELD, None)
        if remote_path:
            info.extra["ssh_remote_file"] = remote_path
        self.connection_file = write_connection_file(path, info)
        return self.connection_file

    def take_key(self, key: str, signature_scheme: str) -> None:
        """The kernel restarted with a new key: the local file says so too, so
        local clients (and their consoles) follow it as for a local kernel."""
        self.info.key = key
        self.info.signature_scheme = signature_scheme
        if self.connection_file is not None:
            self.write_connection_file(self.connection_file)

    def close(self, timeout: float = 5.0) -> None:
        """End ssh (its forwarded connections with it) and remove the local file."""
        if self.alive:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout)
        if self.process.stdin is not None:
            try:
                self.process.stdin.close()
            except OSError:
                pass
        if self.connection_file is not None:
            self.connection_file.unlink(missing_ok=True)
            self.connection_file = None

    def __enter__(self) -> "SshTunnel":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _ssh_argv(ssh: str, server: SshServer, sshkey: Optional[str], options: Sequence[str],
              forwards: Sequence[Tuple[int, str, int]], connect_timeout: float,
              command: str = LIFELINE_COMMAND) -> List[str]:
    argv = [ssh, "-T", "-x", "-a",
            "-o", "BatchMode=yes", "-o", "ExitOnForwardFailure=yes",
            "-o", f"ConnectTimeout={max(1, int(connect_timeout))}",
            "-o", "ServerAliveInterval=15", "-o", "ServerAliveCountMax=3"]
    if server.port:
        argv += ["-p", str(server.port)]
    if sshkey:
        argv += ["-i", sshkey, "-o", "IdentitiesOnly=yes"]
    for option in options:
        argv += ["-o", option]
    for local, remote_ip, remote in forwards:
        target = f"[{remote_ip}]" if ":" in remote_ip else remote_ip
        argv += ["-L", f"{LOCALHOST}:{local}:{target}:{remote}"]
    argv += ["--", server.destination, command]
    return argv


def _ssh_executable(ssh_command: Optional[str]) -> str:
    ssh = ssh_command or shutil.which("ssh")
    if not ssh:
        raise TunnelError("no ssh command found: install the OpenSSH client")
    return ssh


def _key_file(sshkey: Optional[str]) -> Optional[str]:
    if not sshkey:
        return None
    key_path = Path(sshkey).expanduser()
    if not key_path.is_file():
        raise TunnelError(f"no such ssh key: {key_path}")
    if not os.access(key_path, os.R_OK):
        raise TunnelError(f"cannot read the ssh key {key_path}")
    return str(key_path)


def read_remote_connection_file(server: str, path: str, sshkey: Optional[str] = None, *,
                                ssh_options: Sequence[str] = (), timeout: float = 15.0,
                                ssh_command: Optional[str] = None) -> ConnectionInfo:
    """The connection file at ``path`` on ``server``, read through ssh (the
    way to learn a remote kernel's new key after a restart)."""
    target = parse_server(server)
    argv = _ssh_argv(_ssh_executable(ssh_command), target, _key_file(sshkey), ssh_options, (), min(timeout, 15.0),
                     command=f"cat -- {shlex.quote(path)}")
    try:
        done = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise TunnelError(f"reading {path} on {target} took longer than {timeout:.0f} s") from None
    except OSError as exc:
        raise TunnelError(f"cannot run ssh: {exc.strerror or exc}") from None
    stderr = done.stderr.decode("utf-8", "replace")
    if done.returncode != 0:
        if "No such file" in stderr:
            raise TunnelError(f"{path} does not exist on {target} (the kernel was shut down?)", stderr)
        raise TunnelError(explain_ssh_failure(stderr, target, sshkey, done.returncode), stderr)
    source = f"{target}:{path}"
    try:
        data = json.loads(done.stdout.decode("utf-8"))
    except ValueError as exc:
        raise TunnelError(f"{source}: not valid JSON ({exc})") from None
    try:
        return ConnectionInfo.from_dict(data, source=source)
    except ConnectionFileError as exc:
        raise TunnelError(str(exc)) from None


def _read_lines(stream, into: Deque[str]) -> None:
    for raw in iter(stream.readline, b""):
        line = raw.decode("utf-8", "replace")
        into.append(line)
        log.debug("ssh: %s", line.rstrip())
    stream.close()


def _listening(port: int) -> bool:
    try:
        with socket.create_connection((LOCALHOST, port), timeout=0.5):
            return True
    except OSError:
        return False


def tunnel_to_kernel(info: ConnectionInfo, server: str, sshkey: Optional[str] = None, *,
                     ssh_options: Sequence[str] = (), timeout: float = TUNNEL_TIMEOUT,
                     ssh_command: Optional[str] = None,
                     cancelled: Callable[[], bool] = lambda: False) -> SshTunnel:
    """Forward the five ports of the kernel ``info`` describes (as seen on
    ``server``) to loopback here, through one ssh process.

    ``server`` is ``user@host[:port]``; ``sshkey`` a private key file;
    ``ssh_options`` more ``-o`` options for ssh (``UserKnownHostsFile=...``).
    Raises TunnelError with a reason a person can act on; never waits longer
    than ``timeout`` seconds (plus ssh's exit).
    """
    target = parse_server(server)
    if info.transport != "tcp":
        raise TunnelError(f"the kernel uses the {info.transport} transport; only tcp kernels can be "
                          "reached through ssh")
    ssh = _ssh_executable(ssh_command)
    sshkey = _key_file(sshkey)
    remote_ip = LOCALHOST if info.ip in ANY_ADDRESS else info.ip
    deadline = time.monotonic() + timeout
    for attempt in range(PORT_ATTEMPTS):
        local_ports = pick_free_ports(len(CHANNELS))
        forwards = [(lp, remote_ip, getattr(info, f"{ch}_port")) for lp, ch in zip(local_ports, CHANNELS)]
        argv = _ssh_argv(ssh, target, sshkey, ssh_options, forwards, min(timeout, 15.0))
        log.info("tunnelling to %s: %s", target, " ".join(argv))
        try:
            proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.PIPE, start_new_session=True)
        except OSError as exc:
            raise TunnelError(f"cannot run {ssh}: {exc.strerror or exc}") from None
        stderr: Deque[str] = deque(maxlen=STDERR_LINES)
        threading.Thread(target=_read_lines, args=(proc.stderr, stderr), name="ssh-stderr", daemon=True).start()
        local = replace(info, ip=LOCALHOST, extra={k: v for k, v in info.extra.items() if k != PROCESS_FIELD},
                        **{f"{ch}_port": lp for lp, ch in zip(local_ports, CHANNELS)})
        tunnel = SshTunnel(proc, local, info, target, stderr)
        pending = list(local_ports)
        while pending:
            if proc.poll() is not None:
                break
            if cancelled():
                tunnel.close()
                raise TunnelError("cancelled")
            if time.monotonic() > deadline:
                tunnel.close()
                raise TunnelError(f"ssh did not set up the tunnel to {target} within {timeout:.0f} s",
                                  tunnel.stderr_text())
            pending = [p for p in pending if not _listening(p)]
            if pending:
                time.sleep(0.05)
        if proc.poll() is None:
            log.info("tunnel to %s is up (ssh pid %d)", target, proc.pid)
            return tunnel
        code = proc.wait()
        time.sleep(0.05)  # let the reader take ssh's last words
        text = tunnel.stderr_text()
        tunnel.close()
        if any(s in text for s in _PORT_TAKEN) and attempt + 1 < PORT_ATTEMPTS:
            log.info("a local port was taken before ssh could listen on it; trying new ports")
            continue
        raise TunnelError(explain_ssh_failure(text, target, sshkey, code), text)
    raise TunnelError(f"no free local ports for the tunnel after {PORT_ATTEMPTS} attempts")


def wait_for_kernel(tunnel: SshTunnel, timeout: float = KERNEL_TIMEOUT, username: Optional[str] = None) -> dict:
    """The kernel's kernel_info reply through ``tunnel``, or TunnelError saying
    that it does not answer (the tunnel works, but nothing replies there)."""
    from .client import KernelClient

    client = KernelClient(replace(tunnel.info, extra={}), username=username)
    try:
        return client.wait_for_ready(timeout=timeout)
    except TimeoutError:
        refused = [line.strip() for line in tunnel.stderr_text().splitlines() if "open failed" in line]
        hint = f" (ssh: {refused[-1]})" if refused else ""
        if not tunnel.alive:
            raise TunnelError(f"the ssh tunnel to {tunnel.server} closed", tunnel.stderr_text()) from None
        raise TunnelError(
            f"the tunnel to {tunnel.server} works, but the kernel does not answer through it within "
            f"{timeout:.0f} s{hint}: is it running there, and is this its current connection file "
            "(a restarted kernel has a new key)?") from None
    finally:
        client.stop_channels()

