"""How the console reacts to the kernel's health: death, restarts, a silent
heartbeat and its return.

Each event becomes a line in the transcript (so the record shows what
happened and when) and, where the user can act, a notice above the input
with a button. The controller owns one of these.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..bridge import KernelBridge
from .outputs import NoticeOp

if TYPE_CHECKING:
    from .controller import ConsoleController

RESTART = "Restart kernel"


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


class KernelHealth:
    def __init__(self, controller: "ConsoleController"):
        self.c = controller
        lc = controller.lifecycle
        lc.died.connect(self.on_died)
        lc.restarting.connect(self.on_restarting)
        lc.restarted.connect(self.on_restarted)
        lc.restart_failed.connect(self.on_restart_failed)
        lc.gave_up.connect(self.on_gave_up)

    def watch(self, bridge: KernelBridge) -> None:
        bridge.heartbeat_lost.connect(self.on_heartbeat_lost)
        bridge.heartbeat_recovered.connect(self.on_heartbeat_recovered)
        bridge.key_changed.connect(self.on_key_changed)

    def _tell(self, text: str, level: str = "info", offer_restart: bool = False, notice: str = "") -> None:
        view = self.c.view
        view.present(NoticeOp(text, level=level))
        if offer_restart:
            view.show_notice(notice or text + ".", [(RESTART, self.c.restart)])

    def on_restarting(self) -> None:
        self.c.set_state("restarting")
        self.c.view.show_notice("Restarting the kernel…")
        self.c.forget_executions()

    def on_restarted(self, automatic: bool) -> None:
        self._tell("Kernel restarted" + (" automatically" if automatic else ""))
        self.c.view.set_prompt_number(None)
        if self.c.bridge is not None:
            self.c.bridge.reset_heartbeat()
            self.c.bridge.handshake()
        self.c.set_state("starting")

    def on_key_changed(self) -> None:
        """An attached kernel was restarted by its owner (new key, same ports)."""
        self.c.forget_executions()
        self._tell("Kernel restarted")
        self.c.view.set_prompt_number(None)
        self.c.set_state("starting")

    def on_restart_failed(self, reason: str, output: str) -> None:
        self.c.set_state("dead")
        details = f"\n{output.rstrip()}" if output.strip() else ""
        self._tell(f"Restarting the kernel failed: {reason}{details}", "error", offer_restart=True,
                   notice=f"The kernel could not be restarted: {reason}")

    def on_died(self, what: str) -> None:
        self.c.forget_executions()
        self.c.set_state("dead")
        automatic = self.c.lifecycle.autorestart and self.c.lifecycle.owned
        self._tell(_sentence(what), "error", offer_restart=not automatic)

    def on_gave_up(self, why: str) -> None:
        self.c.set_state("dead")
        self._tell(f"The kernel is dead: {why}", "error", offer_restart=True)

    def on_heartbeat_lost(self, seconds: float) -> None:
        if self.c.state in ("restarting", "dead", "shutdown"):
            return
        self.c.set_state("unresponsive")
        text = f"The kernel is not responding (no heartbeat for {seconds:.0f} s)"
        if self.c.lifecycle.owned:
            self._tell(text, "error", offer_restart=True)
        else:
            text += "; it may have died"
            self._tell(text, "error", offer_restart=True,
                       notice=text + ". The console reconnects if it comes back.")

    def on_heartbeat_recovered(self) -> None:
        if self.c.state == "unresponsive":
            self._tell("The kernel is responding again")
            self.c.view.clear_notice()
            self.c.set_state("busy" if self.c.busy else "idle")
