"""Security promises that need a whole kernel process to prove: where the key
may appear, where the kernel listens, and what a flood of forged messages costs.
"""

from __future__ import annotations

import logging
import re
import sys

from helpers import (cpu_seconds, iopub_until_idle, listening_tcp_sockets, raw_dealer, run,
                     shell_reply, start_kernel_process, wait_until)
from kernel.connect import PORT_FIELDS, read_connection_file
from kernel.manager import KernelManager
from kernel.wire import DELIMITER


def test_keys_never_appear_in_debug_logs_and_change_on_every_start(caplog):
    """With --debug the kernel logs every step of start, execute and restart;
    none of those lines may carry a key, old or new. The manager's and the
    client's own logs (this process) are checked too."""
    caplog.set_level(logging.DEBUG)
    km = KernelManager(kernel_cmd=[sys.executable, "-m", "kernel", "-f", "{connection_file}", "--debug"])
    km.start()
    kc = km.client()
    keys = [km.info.key]
    try:
        kc.wait_for_ready(timeout=60)
        reply, _ = run(kc, "print('hello'); 1/0")
        assert reply["content"]["status"] == "error"
        forged = raw_dealer(kc)
        forged.send_multipart([DELIMITER, b"0" * 64, b"{}", b"{}", b"{}", b"{}"])  # a drop gets logged
        wait_until(lambda: "dropped a message on shell" in km.kernel_output(limit=1 << 24),
                   what="the forged message to be logged")
        forged.close()
        km.restart()
        keys.append(km.info.key)
        kc.wait_for_ready(timeout=60)
        run(kc, "import sys; print(sys.argv)")
        km.restart()
        keys.append(km.info.key)
        kc.wait_for_ready(timeout=60)
        output = km.kernel_output(limit=1 << 24)
    finally:
        kc.stop_channels()
        km.shutdown()
    other = KernelManager()
    other.start()
    try:
        keys.append(other.info.key)
    finally:
        other.shutdown()
    assert "[kernel DEBUG" in output  # debug logging really was on
    assert len(set(keys)) == len(keys) and all(re.fullmatch("[0-9a-f]{64}", k) for k in keys)
    logged_here = "\n".join(r.getMessage() for r in caplog.records)
    for key in keys:
        assert key not in output
        assert key not in logged_here


def _assert_loopback_only(pid: int, ports: set) -> None:
    listening = listening_tcp_sockets(pid)
    assert ports <= {port for _, port in listening}, f"not every channel is listening: {listening}"
    assert {ip for ip, _ in listening} == {"127.0.0.1"}, f"listening beyond loopback: {listening}"


def test_all_five_sockets_listen_on_loopback_only(km):
    info = read_connection_file(km.connection_file)
    ports = {getattr(info, f) for f in PORT_FIELDS}
    assert len(ports) == 5
    _assert_loopback_only(km.process.pid, ports)


def test_a_kernel_started_by_hand_listens_on_loopback_only():
    proc = start_kernel_process([])
    try:
        line = ""
        while "--existing" not in line:
            line = proc.stdout.readline().decode()
            assert line, proc.stderr.read().decode()
        from kernel.connect import jupyter_runtime_dir

        path = jupyter_runtime_dir() / line.split()[-1]
        info = read_connection_file(path)
        assert info.ip == "127.0.0.1"
        _assert_loopback_only(proc.pid, {getattr(info, f) for f in PORT_FIELDS})
    finally:
        proc.terminate()
        proc.wait(30)


def _forged_variants(kc) -> list:
    """Wrong, empty, truncated and uppercase signatures over a request that
    would end the kernel if it were ever obeyed."""
    s = kc.session
    good = s.serialize(s.msg("execute_request", {"code": "import os; os._exit(13)"}))
    sig, parts = good[1], good[2:6]
    return [
        [DELIMITER, b"f" * 64, *parts],
        [DELIMITER, b"", *parts],
        [DELIMITER, sig[:31], *parts],
        [DELIMITER, sig.upper(), *parts],
    ]


def test_ten_thousand_forged_messages_cost_little_and_change_nothing(km, kc):
    """Forged messages are dropped before any JSON is read: no reply, no
    status, a rate-limited log line per reason, and little CPU."""
    pid = km.process.pid
    iopub_until_idle(kc, shell_reply(kc, kc.kernel_info())["parent_header"]["msg_id"])  # IOPub in sync
    log_before = km.kernel_output(limit=1 << 24).count("dropped a message")
    dealer = raw_dealer(kc)
    try:
        variants = _forged_variants(kc)
        cpu_before = cpu_seconds(pid)
        for i in range(10_000):
            dealer.send_multipart(variants[i % len(variants)])
        probe = kc.session.msg("kernel_info_request")
        dealer.send_multipart(kc.session.serialize(probe))
        assert dealer.poll(120_000), "the kernel stopped answering"
        _, reply = kc.session.deserialize(dealer.recv_multipart())
        cpu_used = cpu_seconds(pid) - cpu_before
        # Requests on one DEALER are answered in order: the first thing back
        # is the reply to the probe, so none of the 10,000 got a reply.
        assert reply["parent_header"]["msg_id"] == probe["msg_id"]
        assert reply["msg_type"] == "kernel_info_reply"
    finally:
        dealer.close()
    assert cpu_used < 5.0, f"the kernel spent {cpu_used:.2f} s of CPU on 10,000 forged messages"
    # Nothing on IOPub but the probe's busy and idle.
    parents = [m["parent_header"].get("msg_id") for m in iopub_until_idle(kc, probe["msg_id"])]
    assert set(parents) == {probe["msg_id"]}
    # One line per reason ("unsigned message", "invalid signature") per period.
    output = km.kernel_output(limit=1 << 24)
    new_lines = output.count("dropped a message") - log_before
    assert 1 <= new_lines <= 4, f"{new_lines} log lines for 10,000 forged messages"
    assert run(kc, "6 * 7")[0]["content"]["status"] == "ok"
    assert km.is_alive()


def test_a_flood_of_forged_messages_cannot_flush_the_replay_record(km, kc):
    """Only verified signatures are recorded, so more forged messages than the
    record holds (65,536) do not make room for a captured request to run again."""
    from kernel.wire import DEFAULT_REPLAY_WINDOW

    s = kc.session
    captured = s.serialize(s.msg("execute_request", {
        "code": "runs = globals().get('runs', 0) + 1", "silent": False, "store_history": False,
        "user_expressions": {}, "allow_stdin": False}))
    dealer = raw_dealer(kc)
    try:
        dealer.send_multipart(captured)
        forged = [DELIMITER, b"e" * 64, *captured[2:6]]
        for _ in range(DEFAULT_REPLAY_WINDOW + 5000):
            dealer.send_multipart(forged)
        dealer.send_multipart(captured)  # the replay
        probe = s.msg("kernel_info_request")
        dealer.send_multipart(s.serialize(probe))
        replies = []
        while True:
            assert dealer.poll(120_000), "the kernel stopped answering"
            _, msg = s.deserialize(dealer.recv_multipart())
            replies.append(msg["msg_type"])
            if msg["parent_header"].get("msg_id") == probe["msg_id"]:
                break
    finally:
        dealer.close()
    assert replies == ["execute_reply", "kernel_info_reply"]  # the original ran, the replay did not
    reply, _ = run(kc, "pass", user_expressions={"runs": "runs"})
    assert reply["content"]["user_expressions"]["runs"]["data"]["text/plain"] == "1"
