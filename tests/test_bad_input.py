"""Hostile and broken input: dropped with a reason, never obeyed, never fatal.

"No reply" is proved without waiting on a clock: requests on one DEALER are
answered in order, so once the reply to a later kernel_info request has
arrived, any reply to the bad message would already have arrived too.
"""

from __future__ import annotations

import json
import sys

import pytest
import zmq

from helpers import iopub_until_idle, raw_dealer, run, shell_reply, wait_until
from kernel.wire import DELIMITER, Session


def recv_until_reply_to(sock, session, msg_id, timeout_ms=60000) -> list:
    """Everything that came back on ``sock`` up to the reply to ``msg_id``."""
    got = []
    while True:
        assert sock.poll(timeout_ms), "the kernel stopped answering"
        _, msg = session.deserialize(sock.recv_multipart())
        got.append(msg)
        if msg["parent_header"].get("msg_id") == msg_id:
            return got


def probe(sock, session) -> list:
    """Send kernel_info on ``sock``; return the replies that preceded its answer."""
    msg = session.msg("kernel_info_request")
    sock.send_multipart(session.serialize(msg))
    got = recv_until_reply_to(sock, session, msg["msg_id"])
    assert got[-1]["msg_type"] == "kernel_info_reply"
    return got[:-1]


@pytest.fixture
def dealer(kc):
    sock = raw_dealer(kc)
    yield sock
    sock.close()


def signed(session, header=None, parent=b"{}", metadata=b"{}", content=b"{}"):
    parts = [header if header is not None else json.dumps(session.header("execute_request")).encode(),
             parent, metadata, content]
    return [DELIMITER, session.sign(parts), *parts]


def bad_frame_sets(kc):
    s = kc.session
    good = s.serialize(s.msg("execute_request", {"code": "import os; os._exit(13)"}))
    return {
        "no delimiter": [b"just", b"garbage"],
        "zero frames after delimiter": [DELIMITER],
        "unsigned": [DELIMITER, b"", *good[2:6]],
        "wrong signature": [DELIMITER, b"0" * 64, *good[2:6]],
        "uppercase signature": [DELIMITER, good[1].upper(), *good[2:6]],
        "truncated signature": [DELIMITER, good[1][:20], *good[2:6]],
        "bad json": signed(s, content=b"{not json"),
        "json array": signed(s, content=b"[1, 2, 3]"),
        "invalid utf-8": signed(s, header=b"\xff\xfe\xfd"),
        "header without msg_type": signed(s, header=json.dumps({"msg_id": "x", "session": "s"}).encode()),
        "header without msg_id": signed(s, header=json.dumps({"msg_type": "execute_request"}).encode()),
    }


@pytest.mark.parametrize("case", ["no delimiter", "zero frames after delimiter", "unsigned", "wrong signature",
                                  "uppercase signature", "truncated signature", "bad json", "json array",
                                  "invalid utf-8", "header without msg_type", "header without msg_id"])
def test_bad_frames_are_dropped_and_the_kernel_lives(km, kc, dealer, case):
    dealer.send_multipart(bad_frame_sets(kc)[case])
    assert probe(dealer, kc.session) == []  # no reply to the bad message
    assert km.is_alive()


def test_dropping_is_logged_with_its_reason(km, kc, dealer):
    dealer.send_multipart(bad_frame_sets(kc)["wrong signature"])
    probe(dealer, kc.session)
    assert "dropped a message on shell: invalid signature" in km.kernel_output()


def sync_iopub(kc) -> None:
    """Read IOPub up to the idle of a fresh kernel_info: everything older is gone."""
    iopub_until_idle(kc, shell_reply(kc, kc.kernel_info())["parent_header"]["msg_id"])


def test_bad_signatures_publish_no_status(kc, dealer):
    sync_iopub(kc)
    for _ in range(20):
        dealer.send_multipart(bad_frame_sets(kc)["wrong signature"])
    msg = kc.session.msg("kernel_info_request")
    dealer.send_multipart(kc.session.serialize(msg))
    recv_until_reply_to(dealer, kc.session, msg["msg_id"])
    parents = []
    while True:  # everything on IOPub up to our probe's idle
        m = kc.get_iopub_msg(timeout=60)
        parents.append(m["parent_header"].get("msg_id"))
        if m["parent_header"].get("msg_id") == msg["msg_id"] and m["content"].get("execution_state") == "idle":
            break
    assert set(parents) == {msg["msg_id"]}


def test_a_replayed_request_is_not_executed_twice(kc, dealer):
    s = kc.session
    msg = s.msg("execute_request", {"code": "counter = globals().get('counter', 0) + 1", "silent": False,
                                    "store_history": False, "user_expressions": {}, "allow_stdin": False})
    frames = s.serialize(msg)
    dealer.send_multipart(frames)
    recv_until_reply_to(dealer, s, msg["msg_id"])
    dealer.send_multipart(frames)  # byte-for-byte replay
    assert probe(dealer, s) == []
    reply, _ = run(kc, "pass", user_expressions={"c": "counter"})
    assert reply["content"]["user_expressions"]["c"]["data"]["text/plain"] == "1"


def test_unknown_message_type_gets_busy_idle_and_no_reply(kc, dealer):
    s = kc.session
    msg = s.msg("frobnicate_request", {})
    dealer.send_multipart(s.serialize(msg))
    assert probe(dealer, s) == []
    states = [m["content"]["execution_state"] for m in iopub_until_idle(kc, msg["msg_id"])]
    assert states == ["busy", "idle"]


def test_unknown_type_is_warned_about_once(km, kc, dealer):
    s = kc.session
    for _ in range(3):
        dealer.send_multipart(s.serialize(s.msg("mystery_request", {})))
    probe(dealer, s)
    assert km.kernel_output().count("unknown message type 'mystery_request'") == 1


def test_inventing_message_types_cannot_flood_the_log(km, kc, dealer):
    from kernel.app import MAX_NAMED_UNKNOWN_TYPES

    s = kc.session
    for i in range(MAX_NAMED_UNKNOWN_TYPES + 200):
        dealer.send_multipart(s.serialize(s.msg(f"invented_{i}_request", {})))
    assert probe(dealer, s) == []
    output = km.kernel_output(limit=1 << 24)
    assert output.count("ignoring unknown message type") == MAX_NAMED_UNKNOWN_TYPES
    assert output.count("ignoring more unknown message types") == 1


@pytest.mark.parametrize("msg_type,content,needle", [
    ("complete_request", {"code": "abc", "cursor_pos": 4}, "cursor_pos 4 is outside the code (0 to 3)"),
    ("complete_request", {"code": "abc", "cursor_pos": -1}, "cursor_pos -1 is outside the code"),
    ("inspect_request", {"code": "len", "cursor_pos": 1 << 70}, "field 'cursor_pos' is out of range"),
    ("history_request", {"hist_access_type": "tail", "n": 1 << 70}, "field 'n' is out of range"),
    ("history_request", {"hist_access_type": "range", "session": -(1 << 64)}, "field 'session' is out of range"),
])
def test_out_of_range_numbers_get_clear_error_replies(km, kc, msg_type, content, needle):
    msg = kc.session.msg(msg_type, content)
    kc.shell_channel.send(msg)
    reply = shell_reply(kc, msg["msg_id"])["content"]
    assert reply["status"] == "error" and reply["ename"] == "BadRequest" and needle in reply["evalue"]
    assert "Traceback" not in km.kernel_output()


@pytest.mark.parametrize("content,needle", [
    ({}, "missing required field 'code'"),
    ({"code": 42}, "field 'code' must be str"),
    ({"code": "1", "user_expressions": [1]}, "field 'user_expressions' must be dict"),
    ({"code": "1", "silent": "yes"}, "field 'silent' must be bool"),
])
def test_execute_with_bad_fields_gets_an_error_reply(kc, content, needle):
    msg = kc.session.msg("execute_request", content)
    kc.shell_channel.send(msg)
    reply = shell_reply(kc, msg["msg_id"])["content"]
    assert reply["status"] == "error" and reply["ename"] == "BadRequest" and needle in reply["evalue"]
    assert run(kc, "1")[0]["content"]["status"] == "ok"


def test_wrong_field_types_in_other_requests_get_error_replies(kc):
    for msg_type, content in [("complete_request", {"code": "x", "cursor_pos": "end"}),
                              ("inspect_request", {"code": None}),
                              ("history_request", {"hist_access_type": 3}),
                              ("is_complete_request", {})]:
        msg = kc.session.msg(msg_type, content)
        kc.shell_channel.send(msg)
        reply = shell_reply(kc, msg["msg_id"])
        assert reply["msg_type"] == msg_type.replace("_request", "_reply")
        assert reply["content"]["status"] == "error"


def test_oversized_messages_are_refused_and_the_kernel_lives():
    from kernel.manager import KernelManager

    cap = 1 << 20
    km = KernelManager(kernel_cmd=[sys.executable, "-m", "kernel", "-f", "{connection_file}",
                                   "--max-message-size", str(cap)])
    km.start()
    kc = km.client()
    kc.start_channels()
    hostile = None
    try:
        kc.wait_for_ready(timeout=60)
        hostile = raw_dealer(kc)
        s = kc.session
        hostile.send_multipart(s.serialize(s.msg("execute_request", {"code": "x = '" + "a" * (cap + 10) + "'"})))
        just_under = kc.execute("y = '" + "b" * (cap - 4096) + "'\nlen(y)")
        assert shell_reply(kc, just_under)["content"]["status"] == "ok"
        msgs = iopub_until_idle(kc, just_under)
        assert [m["content"]["data"]["text/plain"] for m in msgs if m["msg_type"] == "execute_result"] \
            == [str(cap - 4096)]
        reply, _ = run(kc, "pass", user_expressions={"x": "'x' in globals()"})
        assert reply["content"]["user_expressions"]["x"]["data"]["text/plain"] == "False"
        assert km.is_alive()
    finally:
        if hostile is not None:
            hostile.close()
        kc.stop_channels()
        km.shutdown(now=True)


def test_delimiter_as_identity_is_dropped(km, kc):
    sock = raw_dealer(kc, identity=DELIMITER)
    try:
        s = kc.session
        sock.send_multipart(s.serialize(s.msg("execute_request", {"code": "print('ran')"})))
        # The kernel splits at the first delimiter (here our identity), so the
        # frames no longer verify: dropped, and the kernel serves others.
        wait_until(lambda: "dropped a message on shell: invalid signature" in km.kernel_output(),
                   what="the drop to be logged")
        assert run(kc, "1")[0]["content"]["status"] == "ok"
    finally:
        sock.close()


def test_session_with_another_key_cannot_run_code(kc, tmp_path):
    marker = tmp_path / "pwned"
    forger = Session(b"not-the-key", username="mallory")
    sock = raw_dealer(kc)
    try:
        sock.send_multipart(forger.serialize(forger.msg("execute_request", {"code": f"open({str(marker)!r}, 'w')"})))
        assert probe(sock, kc.session) == []
    finally:
        sock.close()
    assert not marker.exists()


def test_stdin_replies_must_be_signed(kc):
    msg_id = kc.execute("v = input('> ')")
    kc.get_stdin_msg(timeout=60)
    forged = Session(b"wrong", session_id=kc.session.session_id)
    kc.stdin_channel.socket.send_multipart(forged.serialize(forged.msg("input_reply", {"value": "evil"})))
    kc.input("good")
    assert shell_reply(kc, msg_id)["content"]["status"] == "ok"
    reply, _ = run(kc, "pass", user_expressions={"v": "v"})
    assert reply["content"]["user_expressions"]["v"]["data"]["text/plain"] == "'good'"


def test_control_channel_drops_bad_frames_too(km, kc):
    sock = raw_dealer(kc, "control")
    try:
        sock.send_multipart([DELIMITER, b"0" * 64, b"{}", b"{}", b"{}", b"{}"])
        assert probe(sock, kc.session) == []
    finally:
        sock.close()
    assert km.is_alive()


def test_many_bad_messages_then_normal_service(kc, dealer):
    bad = bad_frame_sets(kc)["wrong signature"]
    for _ in range(2000):
        dealer.send_multipart(bad)
    assert probe(dealer, kc.session) == []
    assert run(kc, "2 + 2")[0]["content"]["status"] == "ok"


def test_zmq_level_identity_frames_are_handled(kc):
    """A ROUTER peer (proxy) adds identities; the kernel must route replies back."""
    ctx = kc.context
    front = ctx.socket(zmq.ROUTER)
    front.linger = 0
    port = front.bind_to_random_port("tcp://127.0.0.1")
    back = ctx.socket(zmq.DEALER)
    back.linger = 0
    back.connect(kc.info.url("shell"))
    client = ctx.socket(zmq.DEALER)
    client.linger = 0
    client.connect(f"tcp://127.0.0.1:{port}")
    try:
        s = kc.session
        msg = s.msg("kernel_info_request")
        client.send_multipart(s.serialize(msg))
        assert front.poll(60000)
        back.send_multipart(front.recv_multipart())   # [client-id, delim, ...]
        assert back.poll(60000)
        frames = back.recv_multipart()
        idents, reply = s.deserialize(frames)
        assert len(idents) == 1 and reply["parent_header"]["msg_id"] == msg["msg_id"]
    finally:
        for sock in (front, back, client):
            sock.close()
