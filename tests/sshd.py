"""A throwaway OpenSSH server on 127.0.0.1 for tunnel tests.

Everything it needs lives in a temporary directory: host key, a client key
pair, authorized_keys, known_hosts, its configuration and pid file. The only
change to the system is installing the openssh-server package when sshd is
missing (as root, with apt-get, non-interactively), and creating sshd's
privilege-separation directory /run/sshd when running as root (the package's
service would create it at boot).
"""

from __future__ import annotations

import getpass
import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional

SSHD_CANDIDATES = ("/usr/sbin/sshd", "/usr/local/sbin/sshd", "/sbin/sshd")
#: Seconds per apt-get step (install, or update then install again).
INSTALL_TIMEOUT = 300


def find_sshd() -> Optional[str]:
    for path in SSHD_CANDIDATES:
        if os.access(path, os.X_OK):
            return path
    return shutil.which("sshd")


def ensure_sshd() -> tuple:
    """(path to sshd, "") or (None, why it cannot be had)."""
    sshd = find_sshd()
    if sshd:
        return sshd, ""
    if os.geteuid() != 0:
        return None, "sshd is not installed, and installing openssh-server needs root"
    if not shutil.which("apt-get"):
        return None, "sshd is not installed, and there is no apt-get to install openssh-server with"
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    install = ["apt-get", "install", "-y", "-q", "--no-install-recommends", "openssh-server"]
    out = ""
    for step in (install, ["apt-get", "update", "-q"], install):
        try:
            done = subprocess.run(step, env=env, capture_output=True, text=True, timeout=INSTALL_TIMEOUT)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return None, f"installing openssh-server failed: {exc}"
        out = done.stdout + done.stderr
        if step is install and done.returncode == 0:
            break
    sshd = find_sshd()
    if not sshd:
        return None, "installing openssh-server failed: " + " / ".join(out.strip().splitlines()[-3:])
    return sshd, ""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _keygen(path: Path) -> None:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "qtapp-test", "-f", str(path)],
                   check=True, capture_output=True, timeout=60)


@dataclass
class Sshd:
    process: subprocess.Popen
    port: int
    user: str
    key: Path          # the client's private key, authorized here
    other_key: Path    # a client key this server does not accept
    known_hosts: Path
    log: Path

    @property
    def server(self) -> str:
        return f"{self.user}@127.0.0.1:{self.port}"

    @property
    def ssh_options(self) -> List[str]:
        """Trust exactly this server's host key, and nothing from ~/.ssh."""
        return [f"UserKnownHostsFile={self.known_hosts}", "GlobalKnownHostsFile=/dev/null",
                "StrictHostKeyChecking=yes"]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)


def start_sshd(sshd: str, directory: Path, timeout: float = 30.0) -> Sshd:
    directory.mkdir(parents=True, exist_ok=True)
    host_key, key, other = directory / "host_key", directory / "id_test", directory / "id_other"
    for path in (host_key, key, other):
        _keygen(path)
    (directory / "authorized_keys").write_text(Path(f"{key}.pub").read_text())
    port = _free_port()
    host_pub = Path(f"{host_key}.pub").read_text().split()
    known_hosts = directory / "known_hosts"
    known_hosts.write_text(f"[127.0.0.1]:{port} {host_pub[0]} {host_pub[1]}\n")
    config = directory / "sshd_config"
    config.write_text("\n".join([
        f"Port {port}",
        "ListenAddress 127.0.0.1",
        f"HostKey {host_key}",
        f"AuthorizedKeysFile {directory / 'authorized_keys'}",
        f"PidFile {directory / 'sshd.pid'}",
        "PubkeyAuthentication yes",
        "PasswordAuthentication no",
        "KbdInteractiveAuthentication no",
        "UsePAM no",
        "StrictModes no",
        "AllowTcpForwarding yes",
        "PermitRootLogin prohibit-password",
        "X11Forwarding no",
        "PrintMotd no",
        "",
    ]))
    if os.geteuid() == 0:
        os.makedirs("/run/sshd", mode=0o755, exist_ok=True)
    log = directory / "sshd.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([sshd, "-D", "-e", "-f", str(config)], stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
    server = Sshd(proc, port, getpass.getuser(), key, other, known_hosts, log)
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"sshd exited ({proc.returncode}): {log.read_text(errors='replace')}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return server
        except OSError:
            if time.monotonic() > deadline:
                server.stop()
                raise RuntimeError(f"sshd did not listen within {timeout} s: {log.read_text(errors='replace')}")
            time.sleep(0.05)
