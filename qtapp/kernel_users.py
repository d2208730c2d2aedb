"""Which consoles of this process use which kernel, and who else does.

A kernel started by a console lives as long as that console wants it, and
at most as long as this process (a kernel follows its launcher's death).
When the console that owns a kernel closes while others still use it, the
kernel can be handed on: to another console of this process on the same
kernel (it becomes the owner), or, when only other processes' frontends use
it, kept here until the application quits.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import List, Optional, Set

from kernel.manager import KernelManager

from .console.others import Peer
from .console.widget import ConsoleWidget

log = logging.getLogger(__name__)


def kernel_of(console: ConsoleWidget) -> Optional[Path]:
    """The connection file that names a console's kernel (None before it is known)."""
    path = None
    if console.client is not None and console.client.connection_file is not None:
        path = console.client.connection_file
    elif console.manager is not None and console.manager.connection_file is not None:
        path = console.manager.connection_file
    if path is None:
        return None
    try:
        return Path(path).resolve()
    except OSError:
        return Path(path)


class KernelUsers:
    """The live consoles of one application, and kernels it keeps for others."""

    def __init__(self) -> None:
        self._consoles: List[ConsoleWidget] = []
        #: kernels whose console closed while frontends elsewhere still used them
        self.kept: List[KernelManager] = []

    def add(self, console: ConsoleWidget) -> None:
        if console not in self._consoles:
            self._consoles.append(console)

    def discard(self, console: ConsoleWidget) -> None:
        if console in self._consoles:
            self._consoles.remove(console)

    def consoles(self) -> List[ConsoleWidget]:
        return list(self._consoles)

    def sharing(self, console: ConsoleWidget) -> List[ConsoleWidget]:
        """The other consoles of this process on ``console``'s kernel."""
        kernel = kernel_of(console)
        if kernel is None:
            return []
        return [c for c in self._consoles if c is not console and kernel_of(c) == kernel]

    def local_sessions(self) -> Set[str]:
        sessions = set()
        for c in self._consoles:
            sessions |= c.controller.own_sessions()
        return sessions

    def remote_peers(self, console: ConsoleWidget) -> List[Peer]:
        """Frontends of other processes seen on ``console``'s kernel."""
        local = self.local_sessions()
        return [p for p in console.controller.peers.others() if p.session not in local]

    # -- handing a kernel on ----------------------------------------------------------
    def hand_on(self, console: ConsoleWidget, heir: Optional[ConsoleWidget]) -> None:
        """``console`` is closing but its kernel stays: ``heir`` owns it from now
        on, or (None) this application keeps it until it quits."""
        manager = console.manager
        if manager is None:
            return
        console.shutdown_kernel_on_close = False
        console.lifecycle.detach()
        if heir is not None:
            log.info("the kernel of %s now belongs to another console", manager.connection_file)
            heir.lifecycle.adopt(manager)
        else:
            log.info("keeping the kernel of %s for its other users until the application quits",
                     manager.connection_file)
            self.kept.append(manager)

    def shutdown_kept(self) -> None:
        """The application quits: the kernels it kept for others go too."""
        kept, self.kept = self.kept, []
        for manager in kept:
            try:
                manager.shutdown()
            except Exception:
                log.exception("stopping the kernel of %s failed", manager.connection_file)


def describe_peers(peers: List[Peer]) -> str:
    """``bob (seen 2 min ago), carol (seen just now)``"""
    now = time.monotonic()
    parts = []
    for p in peers:
        ago = now - p.last_seen
        when = "just now" if ago < 60 else f"{int(ago // 60)} min ago"
        parts.append(f"{p.username} (seen {when})")
    return ", ".join(parts)
