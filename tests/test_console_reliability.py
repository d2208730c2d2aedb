"""The console under faults and abuse (issue 8, console items):

- 8: a hostile publisher on the iopub port a dead kernel freed shows nothing;
- 18: an owned kernel killed with SIGKILL is noticed within 3 s and restarted
  (a new kernel session, prompt back to In [1]); five quick deaths in a row
  and the console stops and offers a manual restart;
- 19: an attached kernel killed is noticed by its heartbeat within 3 s; a
  stopped one (SIGSTOP) is reported as not responding and recovers on SIGCONT;
- 22: two consoles on one kernel, one flooding: the other stays responsive,
  and replies and input requests reach only the console they belong to.
"""

from __future__ import annotations

import os
import signal
import time

import zmq
from PyQt5.QtCore import Qt, QTimer

from console_helpers import TIMEOUT_MS, StallProbe, make_console, run, wait_text
from kernel.client import KernelClient
from kernel.wire import Session


def _attached(qtbot, km, username="bob"):
    return make_console(qtbot, client=KernelClient.from_connection_file(km.connection_file, username=username))


# -- 8: nothing unsigned reaches the console -----------------------------------------------

def test_a_hostile_publisher_on_the_freed_iopub_port_shows_nothing(qtbot, km):
    console = _attached(qtbot, km)
    run(qtbot, console, "print('before the kernel died')")
    port, key = km.info.iopub_port, km.info.key
    km.process.kill()
    km.process.wait(30)
    hostile = zmq.Context.instance().socket(zmq.PUB)
    hostile.linger = 0
    deadline = time.monotonic() + 30
    while True:  # the port is free once the kernel's socket is gone
        try:
            hostile.bind(f"tcp://127.0.0.1:{port}")
            break
        except zmq.ZMQError:
            assert time.monotonic() < deadline, "the kernel's iopub port was never freed"
            qtbot.wait(50)
    try:
        forger = Session(b"not the key", username="mallory")
        unsigned = Session(b"", username="mallory")
        honest = Session(key, username="mallory")

        def stream(text):
            return {"header": forger.header("stream"), "parent_header": forger.header("execute_request"),
                    "metadata": {}, "content": {"name": "stdout", "text": text}}

        good = honest.serialize(stream("HOSTILE-uppercase\n"))
        uppercase = good[:1] + [good[1].upper()] + good[2:]
        truncated = good[:1] + [good[1][:-2]] + good[2:]
        attacks = [forger.serialize(stream("HOSTILE-wrong-key\n")), unsigned.serialize(stream("HOSTILE-unsigned\n")),
                   uppercase, truncated]
        channel = console.client.iopub_channel
        before = channel.dropped
        timer = QTimer()
        timer.timeout.connect(lambda: [hostile.send_multipart(frames) for frames in attacks])
        timer.start(50)
        try:  # the console's subscriber reconnects to whoever now listens on the port
            qtbot.waitUntil(lambda: channel.dropped >= before + 40, timeout=TIMEOUT_MS)
        finally:
            timer.stop()
        assert "HOSTILE" not in console.plain_text(raw=True)
        # the path is live: a message signed with the real key does get through
        hostile.send_multipart(honest.serialize(stream("signed with the key\n")))
        wait_text(qtbot, console, "signed with the key\n")
        assert "HOSTILE" not in console.plain_text(raw=True)
    finally:
        hostile.close(linger=0)


# -- 18: an owned kernel killed ----------------------------------------------------------------------

def test_five_quick_deaths_stop_automatic_restarts_and_a_manual_restart_works(qtbot, km):
    console = make_console(qtbot, km)
    sessions = {console.controller.kernel_info["header"]["session"]}
    for death in range(1, 6):
        run(qtbot, console, "x = 1")
        pid = km.process.pid
        started = time.monotonic()
        os.kill(pid, signal.SIGKILL)
        qtbot.waitUntil(lambda: console.plain_text().count("The kernel died unexpectedly") == death,
                        timeout=TIMEOUT_MS)
        noticed = time.monotonic() - started
        assert noticed < 3.0, f"death {death} noticed after {noticed:.2f} s"
        if death == 5:
            break
        qtbot.waitUntil(lambda: km.process.pid != pid and console.is_ready and console.controller.next_count == 1,
                        timeout=TIMEOUT_MS)
        session = console.controller.kernel_info["header"]["session"]
        assert session not in sessions  # a new kernel, not the old one answering
        sessions.add(session)
        assert console.editor.prompt.strip() == "In [1]:"
        assert run(qtbot, console, "x")["content"]["ename"] == "NameError"
    wait_text(qtbot, console, "The kernel is dead: it died 5 times within 60 s")
    assert console.controller.state == "dead" and not km.is_alive()
    qtbot.waitUntil(lambda: console.notice_bar.isVisible() and bool(console.notice_bar.buttons), timeout=TIMEOUT_MS)
    assert console.notice_bar.buttons[0].text() == "Restart kernel"
    qtbot.mouseClick(console.notice_bar.buttons[0], Qt.LeftButton)
    qtbot.waitUntil(lambda: console.is_ready and console.controller.next_count == 1, timeout=TIMEOUT_MS)
    assert km.is_alive() and run(qtbot, console, "'back'")["content"]["status"] == "ok"
    # a restart by hand starts the count again: the next death is restarted automatically
    pid = km.process.pid
    os.kill(pid, signal.SIGKILL)
    qtbot.waitUntil(lambda: km.process.pid != pid and console.is_ready and console.controller.next_count == 1,
                    timeout=TIMEOUT_MS)


# -- 19: an attached kernel killed or stopped ---------------------------------------------------------

def test_an_attached_kernel_killed_is_noticed_within_3_s(qtbot, km):
    console = _attached(qtbot, km)
    started = time.monotonic()
    os.kill(km.process.pid, signal.SIGKILL)
    wait_text(qtbot, console, "The kernel is not responding")
    noticed = time.monotonic() - started
    assert noticed < 3.0, f"noticed after {noticed:.2f} s"
    assert console.controller.state == "unresponsive" and console.notice_bar.isVisible()


def test_a_stopped_attached_kernel_is_reported_and_recovers_when_continued(qtbot, km):
    console = _attached(qtbot, km)
    pid = km.process.pid
    os.kill(pid, signal.SIGSTOP)
    try:
        wait_text(qtbot, console, "The kernel is not responding")
        assert console.controller.state == "unresponsive"
    finally:
        os.kill(pid, signal.SIGCONT)
    wait_text(qtbot, console, "The kernel is responding again")
    assert console.controller.state == "idle" and not console.notice_bar.isVisible()
    assert run(qtbot, console, "'alive'")["content"]["status"] == "ok"


# -- 22: a flood from one of two consoles --------------------------------------------------------------

def test_a_flood_from_one_console_leaves_the_other_responsive_and_replies_go_right(qtbot, km):
    flooder = make_console(qtbot, km, username="alice", scrollback_bytes=32 * 1024 * 1024)
    other = _attached(qtbot, km)
    replies = {"alice": [], "bob": []}
    flooder.executed.connect(replies["alice"].append)
    other.executed.connect(replies["bob"].append)
    probe = StallProbe().start()
    typed = "typed during the flood"
    chars = list(typed)
    typing = QTimer()
    typing.timeout.connect(lambda: qtbot.keyClicks(other.editor, chars.pop(0)) if chars else typing.stop())
    typing.start(40)
    flood_id = flooder.execute("for i in range(200_000):\n    print(i)")
    qtbot.waitUntil(lambda: "[alice] In [" in other.plain_text(raw=True), timeout=TIMEOUT_MS)
    other_id = other.controller.execute("print('bob after the flood')")  # queued by the kernel behind it
    qtbot.waitUntil(lambda: len(replies["alice"]) == 1 and len(replies["bob"]) == 1, timeout=240_000)
    qtbot.waitUntil(lambda: not typing.isActive() and len(flooder.queue) == 0 and len(other.queue) == 0,
                    timeout=240_000)
    probe.stop()
    print(f"\ntwo consoles, 200,000 lines: worst stall {probe.worst_stall_ms:.0f} ms, "
          f"busy {probe.worst_busy_ms:.0f} ms, {probe.ticks} ticks")
    assert probe.worst_busy_ms < BUSY_LIMIT_MS
    assert probe.worst_stall_ms < STALL_LIMIT_MS
    assert other.editor.source == typed  # nobody's typing disturbed
    assert [r["parent_header"]["msg_id"] for r in replies["alice"]] == [flood_id]
    assert [r["parent_header"]["msg_id"] for r in replies["bob"]] == [other_id]
    assert other.plain_text().splitlines()[-1] == "bob after the flood"
    assert flooder.plain_text().splitlines()[-1] == "bob after the flood"
    assert "199999" in other.plain_text().splitlines()
    # input requests: only to the console that ran the code
    flooder.execute("input('only alice: ')")
    qtbot.waitUntil(flooder.stdin_bar.isVisible, timeout=TIMEOUT_MS)
    assert not other.stdin_bar.isVisible() and not other.controller.waiting_for_input
    with qtbot.waitSignal(flooder.executed, timeout=TIMEOUT_MS):
        flooder.controller.answer_input("ok")
    assert len(replies["bob"]) == 1


#: The issue's bound on work that blocks the event loop, generous for two
#: consoles drawing the same flood in one thread; wall-clock gaps also count
#: other processes' CPU on a shared 2-core host.
BUSY_LIMIT_MS = 200
STALL_LIMIT_MS = 1000


# -- closing early --------------------------------------------------------------------------------------

def test_a_console_closed_while_its_kernel_starts_stops_that_kernel(qtbot):
    from qtapp import ConsoleWidget
    console = ConsoleWidget(start=False)
    qtbot.addWidget(console)
    manager = console.manager
    console.controller.start()  # the kernel starts on a worker thread
    assert console.lifecycle.busy
    console.close()
    # the kernel process ends first, then its connection file is removed
    qtbot.waitUntil(lambda: manager.process is not None and manager.process.poll() is not None
                    and not manager.connection_file.exists(), timeout=TIMEOUT_MS)
