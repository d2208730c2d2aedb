"""Restarts and shutdowns by someone else: every console on the kernel says
who did it; after a restart each one follows the new key and numbering; after
a shutdown each one offers to close or to start a kernel again."""

from __future__ import annotations

from PyQt5.QtCore import Qt

from console_helpers import TIMEOUT_MS, make_console, run, wait_text
from kernel.client import KernelClient


def _pair(qtbot, km):
    owner = make_console(qtbot, km, username="alice")
    other = make_console(qtbot, client=KernelClient.from_connection_file(km.connection_file, username="bob"))
    return owner, other


def _ready_at_1(qtbot, console):
    qtbot.waitUntil(lambda: console.is_ready and console.controller.next_count == 1, timeout=TIMEOUT_MS)


def _button(console, label):
    for button in console.notice_bar.buttons:
        if button.text() == label:
            return button
    raise AssertionError(f"no {label!r} button in {[b.text() for b in console.notice_bar.buttons]}")


def test_a_restart_by_the_owner_is_announced_and_followed_by_the_other(qtbot, km):
    owner, other = _pair(qtbot, km)
    run(qtbot, owner, "shared = 1")
    run(qtbot, other, "shared += 1")
    old_key, old_pid = km.info.key, km.process.pid
    owner.restart_kernel(confirm=False)
    wait_text(qtbot, other, "alice restarted the kernel")
    wait_text(qtbot, other, "Kernel restarted")
    _ready_at_1(qtbot, other)
    _ready_at_1(qtbot, owner)
    assert km.process.pid != old_pid and km.info.key != old_key
    assert other.client.session.key == km.info.key.encode()  # re-read from the connection file
    assert "restarted the kernel" not in owner.plain_text()  # its own doing is not someone else's
    assert run(qtbot, other, "shared")["content"]["ename"] == "NameError"
    reply = run(qtbot, owner, "'after'")
    assert reply["content"]["execution_count"] == 2
    qtbot.waitUntil(lambda: other.controller.next_count == 3, timeout=TIMEOUT_MS)


def test_a_restart_asked_by_an_attached_console_is_announced_to_the_owner(qtbot, km):
    owner, other = _pair(qtbot, km)
    old_pid = km.process.pid
    other.restart_kernel(confirm=False)
    wait_text(qtbot, owner, "bob restarted the kernel")
    qtbot.waitUntil(lambda: km.process is not None and km.process.pid != old_pid, timeout=TIMEOUT_MS)
    _ready_at_1(qtbot, owner)
    _ready_at_1(qtbot, other)
    assert run(qtbot, other, "1 + 1")["content"]["status"] == "ok"
    assert run(qtbot, owner, "2 + 2")["content"]["status"] == "ok"


def test_a_console_from_the_same_manager_follows_its_restart_too(qtbot, km):
    owner = make_console(qtbot, km, username="alice")
    other = make_console(qtbot, client=km.client(username="bob"))  # its key is kept in step by the manager
    owner.restart_kernel(confirm=False)
    wait_text(qtbot, other, "alice restarted the kernel")
    wait_text(qtbot, other, "Kernel restarted")
    _ready_at_1(qtbot, other)
    assert run(qtbot, other, "'fine'")["content"]["status"] == "ok"


def test_a_shutdown_by_an_attached_console_lets_the_owner_start_again(qtbot, km):
    owner, other = _pair(qtbot, km)
    old_key = km.info.key
    other.shutdown_kernel()
    wait_text(qtbot, owner, "bob shut down the kernel")
    qtbot.waitUntil(lambda: owner.notice_bar.isVisible() and len(owner.notice_bar.buttons) == 2,
                    timeout=TIMEOUT_MS)
    assert owner.controller.state == "shutdown"
    assert "The kernel was shut down by bob (exit code 0)" in owner.plain_text()
    assert not km.is_alive()
    qtbot.mouseClick(_button(owner, "Start kernel again"), Qt.LeftButton)
    qtbot.waitUntil(km.is_alive, timeout=TIMEOUT_MS)
    _ready_at_1(qtbot, owner)
    assert km.is_alive() and km.info.key != old_key
    assert run(qtbot, owner, "'again'")["content"]["status"] == "ok"


def test_a_shutdown_by_the_owner_offers_the_other_a_kernel_of_its_own(qtbot, km):
    owner, other = _pair(qtbot, km)
    owner.shutdown_kernel()
    wait_text(qtbot, other, "alice shut down the kernel")
    qtbot.waitUntil(lambda: other.notice_bar.isVisible() and len(other.notice_bar.buttons) == 2,
                    timeout=TIMEOUT_MS)
    assert other.controller.state == "shutdown"
    assert other.manager is None
    qtbot.mouseClick(_button(other, "Start a new kernel"), Qt.LeftButton)
    qtbot.waitUntil(lambda: other.manager is not None and other.manager.is_alive(), timeout=TIMEOUT_MS)
    _ready_at_1(qtbot, other)
    manager = other.manager
    assert manager is not km
    assert other.client.connection_file == manager.connection_file != km.connection_file
    assert run(qtbot, other, "import os; os.getpid()")["content"]["status"] == "ok"
    assert str(manager.process.pid) in other.plain_text(raw=True)
    other.close()  # it owns that kernel now: closing it stops it
    qtbot.waitUntil(lambda: not manager.is_alive(), timeout=TIMEOUT_MS)


def test_close_is_offered_after_a_shutdown_elsewhere(qtbot, km):
    owner, other = _pair(qtbot, km)
    owner.shutdown_kernel()
    qtbot.waitUntil(lambda: other.notice_bar.isVisible() and len(other.notice_bar.buttons) == 2,
                    timeout=TIMEOUT_MS)
    with qtbot.waitSignal(other.exit_requested, timeout=TIMEOUT_MS) as blocker:
        qtbot.mouseClick(_button(other, "Close"), Qt.LeftButton)
    assert blocker.args == [True]  # not its kernel to stop
