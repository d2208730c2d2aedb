"""A kernel on another machine, reached through an ssh tunnel.

The tunnel is opened when the first console connects (on the lifecycle's
worker thread, so the window stays live while ssh logs in) and closed when
the last console using it closes. Consoles see an ordinary local kernel:
the tunnel's local connection file (0600, in the runtime directory) lets
other tabs and local tools attach while it runs.

A restart gives the kernel a new key, written by its manager into the
connection file over there. Files written by our manager say where they
are, so after a restart the original is read again through ssh and its new
key written into the local file, which the consoles follow as usual.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import Optional, Sequence

from kernel.client import KernelClient
from kernel.connect import CHANNELS, PATH_FIELD, ConnectionInfo
from kernel.tunnel import (KERNEL_TIMEOUT, TUNNEL_TIMEOUT, SshTunnel, TunnelError, read_remote_connection_file,
                           tunnel_to_kernel, wait_for_kernel)

log = logging.getLogger(__name__)

#: How long to look for a restarted remote kernel's new key, and how often.
FOLLOW_TIMEOUT = 60.0
FOLLOW_INTERVAL = 0.5


class RemoteKernel:
    """Connects consoles to the kernel ``info`` (as seen on ``server``)."""

    def __init__(self, info: ConnectionInfo, server: str, sshkey: Optional[str] = None, *,
                 ssh_options: Sequence[str] = (), source: Optional[Path] = None,
                 tunnel_timeout: float = TUNNEL_TIMEOUT, kernel_timeout: float = KERNEL_TIMEOUT):
        self.info = info
        self.server = server
        self.sshkey = sshkey
        self.ssh_options = list(ssh_options)
        self.source = source
        self.tunnel_timeout = tunnel_timeout
        self.kernel_timeout = kernel_timeout
        self.tunnel: Optional[SshTunnel] = None
        self._users = 0
        self._closing = False
        self._lock = threading.Lock()

    def describe(self) -> str:
        return f"{self.source.name if self.source else 'kernel'} on {self.server}"

    def connect(self, username: Optional[str] = None) -> KernelClient:
        """A client for one more console (blocking: call it off the GUI thread).

        Raises TunnelError saying why the kernel cannot be reached.
        """
        with self._lock:
            self._users += 1
            self._closing = False
            tunnel = self.tunnel if self.tunnel is not None and self.tunnel.alive else None
        try:
            if tunnel is None:
                tunnel = tunnel_to_kernel(self.info, self.server, self.sshkey, ssh_options=self.ssh_options,
                                          timeout=self.tunnel_timeout, cancelled=lambda: self._closing)
                try:
                    wait_for_kernel(tunnel, self.kernel_timeout, username=username)
                    path = tunnel.write_connection_file()
                except BaseException:
                    tunnel.close()
                    raise
                with self._lock:
                    old, self.tunnel = self.tunnel, tunnel
                if old is not None:
                    old.close()
                log.info("the kernel %s is reachable here as %s", self.describe(), path)
            assert tunnel.connection_file is not None
            return KernelClient.from_connection_file(tunnel.connection_file, username=username)
        except BaseException:
            self.release()
            raise

    @property
    def remote_path(self) -> Optional[str]:
        path = self.info.extra.get(PATH_FIELD)
        return path if isinstance(path, str) and path else None

    def follow_restart(self, old_key: bytes) -> bool:
        """Look for the restarted kernel's new key on the server, in the
        background; False if its connection file does not say where it is."""
        path, tunnel = self.remote_path, self.tunnel
        if path is None or tunnel is None:
            return False
        threading.Thread(target=self._follow, args=(path, tunnel, old_key), name="ssh-follow-restart",
                         daemon=True).start()
        return True

    def _follow(self, path: str, tunnel: SshTunnel, old_key: bytes) -> None:
        deadline = time.monotonic() + FOLLOW_TIMEOUT
        while time.monotonic() < deadline and tunnel.alive and not self._closing:
            try:
                fresh = read_remote_connection_file(self.server, path, self.sshkey, ssh_options=self.ssh_options)
            except TunnelError as exc:
                log.debug("reading %s on %s: %s", path, self.server, exc.reason)
            else:
                if fresh.key.encode() != old_key:
                    if any(getattr(fresh, f"{c}_port") != getattr(self.info, f"{c}_port") for c in CHANNELS):
                        log.warning("the kernel on %s came back on other ports; attach to it again", self.server)
                        return
                    self.info.key = fresh.key
                    tunnel.take_key(fresh.key, fresh.signature_scheme)
                    log.info("the kernel on %s restarted; its new key is in %s", self.server, tunnel.connection_file)
                    return
            time.sleep(FOLLOW_INTERVAL)

    def release(self) -> None:
        """One console less; the last one closes the tunnel."""
        with self._lock:
            self._users = max(0, self._users - 1)
            if self._users:
                return
            self._closing = True
            tunnel, self.tunnel = self.tunnel, None
        if tunnel is not None:
            log.info("closing the tunnel to %s", self.server)
            tunnel.close()


__all__ = ["RemoteKernel", "TunnelError"]
