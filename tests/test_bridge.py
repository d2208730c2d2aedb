"""KernelBridge: ZeroMQ sockets read through QSocketNotifier, against real kernels."""

from __future__ import annotations

import os
import signal

import pytest

from qtapp.bridge import KernelBridge


@pytest.fixture
def bridge(qtbot, shared_km):
    client = shared_km.client()
    b = KernelBridge(client)
    with qtbot.waitSignal(b.ready, timeout=30000) as blocker:
        b.start()
    assert blocker.args[0]["content"]["implementation"] == "qtapp-kernel"
    yield b
    b.stop()


def test_handshake_reports_kernel_info_and_live_iopub(bridge):
    assert bridge.is_ready
    assert bridge.kernel_info["content"]["language_info"]["pygments_lexer"] == "ipython3"


def test_execute_reply_and_output_arrive_as_signals(qtbot, bridge):
    got = []
    bridge.iopub_message.connect(got.append)
    replies = []
    bridge.shell_message.connect(replies.append)
    msg_id = bridge.send("execute", "print('hello from the kernel')")

    def idle():
        return any(m["msg_type"] == "status" and m["parent_header"].get("msg_id") == msg_id
                   and m["content"]["execution_state"] == "idle" for m in got)

    qtbot.waitUntil(idle, timeout=30000)
    qtbot.waitUntil(lambda: any(r["parent_header"].get("msg_id") == msg_id for r in replies), timeout=30000)
    texts = [m["content"]["text"] for m in got
             if m["msg_type"] == "stream" and m["parent_header"].get("msg_id") == msg_id]
    assert "".join(texts) == "hello from the kernel\n"


def test_many_messages_in_a_burst_are_all_delivered(qtbot, bridge):
    # 300 separate stream messages (flushes) arrive faster than one drain budget
    got = []
    bridge.iopub_message.connect(got.append)
    msg_id = bridge.send("execute", "import sys\nfor i in range(300):\n    print(i); sys.stdout.flush()")
    qtbot.waitUntil(lambda: any(m["msg_type"] == "status" and m["parent_header"].get("msg_id") == msg_id
                                and m["content"]["execution_state"] == "idle" for m in got), timeout=30000)
    text = "".join(m["content"]["text"] for m in got
                   if m["msg_type"] == "stream" and m["parent_header"].get("msg_id") == msg_id)
    assert text == "".join(f"{i}\n" for i in range(300))


def test_heartbeat_loss_and_recovery_are_signalled(qtbot, km):
    bridge = KernelBridge(km.client(), heartbeat_timeout=1.5)
    with qtbot.waitSignal(bridge.ready, timeout=30000):
        bridge.start()
    try:
        os.kill(km.process.pid, signal.SIGSTOP)  # the heartbeat thread stops too
        try:
            with qtbot.waitSignal(bridge.heartbeat_lost, timeout=15000):
                pass
        finally:
            os.kill(km.process.pid, signal.SIGCONT)
        with qtbot.waitSignal(bridge.heartbeat_recovered, timeout=15000):
            pass
        assert bridge.heartbeat_ok
    finally:
        bridge.stop()


def test_key_change_after_someone_else_restarts_is_followed(qtbot, km, tmp_path):
    from kernel.client import KernelClient

    # attached like `--existing`: from the connection file, not from the manager
    client = KernelClient.from_connection_file(km.connection_file)
    bridge = KernelBridge(client)
    with qtbot.waitSignal(bridge.ready, timeout=30000):
        bridge.start()
    try:
        km.restart()  # new key in the connection file; this client was not told
        assert client.session.key != km.info.key.encode()
        with qtbot.waitSignal(bridge.key_changed, timeout=30000):
            pass  # the new kernel's welcome fails verification -> reload
        with qtbot.waitSignal(bridge.ready, timeout=30000):
            pass
        assert client.session.key == km.info.key.encode()
    finally:
        bridge.stop()
