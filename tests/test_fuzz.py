"""Fuzzing a real kernel's shell and control sockets with hostile frame sets.

Hypothesis generates 10,000 frame sets of every shape the wire can carry:
no delimiter, only a delimiter, too few frames, thousands of frames, the
delimiter as an identity, bad signatures, valid signatures over garbage
(invalid UTF-8, JSON arrays, deeply nested JSON), headers missing fields or
with fields of the wrong type, and well-signed requests whose contents have
the wrong types or out-of-range values. They are sent without waiting for
answers; afterwards the kernel must answer kernel_info promptly on both
sockets and must never have printed a traceback.

The profile is deterministic (derandomized, no example database), so a
failure reproduces on every run and nothing is written into the repository.
"""

from __future__ import annotations

import json
import time

import zmq
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from helpers import raw_dealer, run
from kernel.wire import DELIMITER, Session, WireError

FUZZ_EXAMPLES = 10_000
FUZZ_PROFILE = settings(max_examples=FUZZ_EXAMPLES, derandomize=True, deadline=None, database=None,
                        phases=[Phase.generate], suppress_health_check=list(HealthCheck))

# Strategies are built once, here: building them inside a draw costs more
# than the draw itself, and the run must stay well under a minute.
TENTHS = st.integers(0, 9)


def mostly(right: st.SearchStrategy, wrong: st.SearchStrategy, tenths: int = 8) -> st.SearchStrategy:
    """``right`` in ``tenths`` out of ten draws, else ``wrong``."""
    @st.composite
    def pick(draw):
        return draw(right if draw(TENTHS) < tenths else wrong)
    return pick()


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=16),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=5,
)
TEXT = st.text(max_size=24)
INT = st.integers(-3, 40) | st.integers(-(1 << 70), 1 << 70)   # out of range, negative, huge
BOOL = st.booleans()
# Code that is safe to run: generated text could be a shell escape (!...).
SAFE_CODE = st.sampled_from(["", "pass", "1", "x = 1", "1/0", "def (", "print('fuzz')", "input()",
                             "import sys; sys.stderr.write('e')", "get_ipython().set_next_input('x')"])
EXPRESSIONS = st.dictionaries(st.text(max_size=6), mostly(st.sampled_from(["x", "1/0", "nope", "(", ""]),
                                                          json_values), max_size=3)


def fields(**shapes: st.SearchStrategy) -> st.SearchStrategy:
    """Request content: each field present or not, mostly of its right type."""
    return st.fixed_dictionaries({}, optional={name: mostly(s, json_values) for name, s in shapes.items()})


# Every request type either socket serves, with the fields its handler
# reads, except shutdown_request: obeying a signed shutdown is correct and
# would end the run. Plus replies and types that nobody serves.
CONTENT = {
    "execute_request": fields(code=mostly(SAFE_CODE, json_values.filter(lambda v: not isinstance(v, str)), 9),
                              silent=BOOL, store_history=BOOL, user_expressions=EXPRESSIONS,
                              allow_stdin=BOOL, stop_on_error=BOOL),
    "complete_request": fields(code=TEXT, cursor_pos=INT),
    "inspect_request": fields(code=TEXT, cursor_pos=INT, detail_level=INT),
    "is_complete_request": fields(code=TEXT),
    "history_request": fields(hist_access_type=st.sampled_from(["tail", "range", "search", "all"]) | TEXT,
                              output=BOOL, raw=BOOL, session=INT, start=INT, stop=INT, n=INT,
                              pattern=st.sampled_from(["*", "x*", "[", ""]) | TEXT, unique=BOOL),
    "comm_open": fields(comm_id=TEXT, target_name=TEXT, data=json_values),
    "comm_msg": fields(comm_id=TEXT, data=json_values),
    "comm_close": fields(comm_id=TEXT, data=json_values),
    "comm_info_request": fields(target_name=TEXT),
    "kernel_info_request": fields(),
    "connect_request": fields(),
    "interrupt_request": fields(),
    "input_reply": fields(value=TEXT),
    "execute_reply": fields(status=TEXT),
    "frobnicate_request": fields(code=TEXT),
}
CONTENT_OR_GARBAGE = {t: mostly(c, json_values, 9) for t, c in CONTENT.items()}
MSG_TYPE = mostly(st.sampled_from(sorted(CONTENT)), TEXT)
HEADER_FIELDS = st.sampled_from(["msg_id", "msg_type", "username", "session", "date", "version"])
HEADER_DAMAGE = mostly(st.just("none"), st.sampled_from(["drop", "retype", "replace"]), 9)
PLAIN_DICT = mostly(st.just({}), json_values, 9)
BUFFERS = mostly(st.just([]), st.lists(st.binary(max_size=32), max_size=3)
                 | st.integers(1000, 3000).map(lambda n: [b"b"] * n), 9)
IDENTITIES = mostly(st.just([]), st.just([DELIMITER]) | st.lists(st.binary(min_size=1, max_size=8), max_size=3), 9)


def _nested(depth: int, kind: str) -> bytes:
    return (b"[" * depth + b"]" * depth) if kind == "list" else (b'{"a":' * depth + b"1" + b"}" * depth)


GARBAGE_PART = st.one_of(
    st.just(b"{}"),
    st.binary(max_size=64),                                                    # anything
    st.sampled_from([b"\xff\xfe\xfd", b'{"a": "\xc3\x28"}', b"\xed\xa0\x80",  # invalid UTF-8
                     "{}".encode("utf-16"), b'{"unterminated": ']),
    json_values.map(lambda v: json.dumps(v).encode()),                          # arrays, scalars, ...
    st.tuples(st.integers(1, 200_000), st.sampled_from(["list", "dict"])).map(lambda a: _nested(*a)),
)
STRUCTURAL_GARBAGE = st.one_of(
    st.lists(st.binary(max_size=48), min_size=1, max_size=8).filter(lambda fs: DELIMITER not in fs),
    st.just([b""]),
    st.lists(st.binary(max_size=16), max_size=4).map(lambda fs: [DELIMITER, *fs]),       # too few frames
    st.integers(1000, 4000).map(lambda n: [b"f"] * n),                                   # thousands, no delimiter
    st.tuples(st.integers(1000, 4000), st.integers(0, 4000)).map(
        lambda a: [b"f"] * min(a) + [DELIMITER] + [b"{}"] * (a[0] - min(a))),           # thousands around one
    st.lists(st.sampled_from([DELIMITER, b"", b"{}", b"x"]), min_size=1, max_size=12),
)


def _damage(header: dict, how: str, key: str, value) -> object:
    if how == "drop":
        header.pop(key, None)
    elif how == "retype":
        header[key] = value
    elif how == "replace":
        return value
    return header


def fuzz_frames(session: Session) -> st.SearchStrategy:
    """Frame sets, six in ten well-signed requests with hostile contents (the
    ones that reach the handlers), the rest broken at the wire level."""

    @st.composite
    def signed_request(draw) -> list:
        msg_type = draw(MSG_TYPE)
        header = session.header(msg_type)
        damage = draw(HEADER_DAMAGE)
        if damage != "none":
            header = _damage(header, damage, draw(HEADER_FIELDS), draw(json_values))
        content = draw(CONTENT_OR_GARBAGE.get(msg_type, json_values))
        parts = [json.dumps(x).encode() for x in (header, draw(PLAIN_DICT), draw(PLAIN_DICT), content)]
        return [*draw(IDENTITIES), DELIMITER, session.sign(parts), *parts, *draw(BUFFERS)]

    @st.composite
    def signed_garbage(draw) -> list:
        """Valid signatures over frames that are not the JSON objects they must be."""
        parts = [draw(GARBAGE_PART) for _ in range(4)]
        return [DELIMITER, session.sign(parts), *parts]

    good = session.serialize(session.msg("execute_request", {"code": "import os; os._exit(13)"}))
    sig, parts = good[1], good[2:6]
    bad_signature = st.one_of(st.sampled_from([b"", sig.upper(), b"0" * 64, sig + b"0", sig[:-1] + b"-"]),
                              st.integers(0, 63).map(lambda n: sig[:n]), st.binary(max_size=80)
                              ).map(lambda bad: [DELIMITER, bad, *parts])
    kinds = [signed_request()] * 6 + [signed_garbage(), bad_signature, STRUCTURAL_GARBAGE, STRUCTURAL_GARBAGE]

    @st.composite
    def frames(draw) -> list:
        return draw(kinds[draw(TENTHS)])
    return frames()



def await_reply(sock: zmq.Socket, session: Session, msg_id: str, timeout: float) -> dict:
    """The reply to ``msg_id``, skipping whatever answers the fuzz earned."""
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        assert left > 0 and sock.poll(max(1, int(left * 1000))), f"no reply to {msg_id} within {timeout} s"
        try:
            _, msg = session.deserialize(sock.recv_multipart())
        except WireError:
            continue  # a reply routed with fuzzed identities
        if msg["parent_header"].get("msg_id") == msg_id:
            return msg


def kernel_info_on(sock: zmq.Socket, session: Session, timeout: float) -> dict:
    msg = session.msg("kernel_info_request")
    sock.send_multipart(session.serialize(msg))
    reply = await_reply(sock, session, msg["msg_id"], timeout)
    assert reply["msg_type"] == "kernel_info_reply" and reply["content"]["status"] == "ok"
    return reply


def test_fuzzed_frames_never_crash_the_kernel(km):
    kc = km.client()  # for its key and addresses; the channels stay closed
    session = kc.session
    sockets = {"shell": raw_dealer(kc, "shell"), "control": raw_dealer(kc, "control")}
    for sock in sockets.values():
        sock.sndtimeo = 60_000  # a socket the kernel stopped reading fails the test, not hangs it
    frame_sets = fuzz_frames(session)
    sent = []

    @FUZZ_PROFILE
    @given(frames=frame_sets, channel=st.sampled_from(["shell", "control"]))
    def send(frames, channel):
        sock = sockets[channel]
        sock.send_multipart(frames)
        sent.append(channel)
        for s in sockets.values():  # replies must not pile up and be dropped
            while s.poll(0):
                s.recv_multipart()

    try:
        send()
        assert len(sent) == FUZZ_EXAMPLES and {"shell", "control"} == set(sent)
        for name, sock in sockets.items():
            kernel_info_on(sock, session, timeout=120)  # the fuzz traffic has been consumed
            t0 = time.monotonic()
            kernel_info_on(sock, session, timeout=120)
            elapsed = time.monotonic() - t0
            assert elapsed < 1.0, f"kernel_info on {name} took {elapsed:.2f} s after the fuzz"
    finally:
        for sock in sockets.values():
            sock.close()
    assert km.is_alive()
    output = km.kernel_output(limit=1 << 26)
    assert "Traceback" not in output, output[output.find("Traceback") - 200:][:3000]
    kc.start_channels()
    try:
        kc.wait_for_ready(timeout=60)
        assert run(kc, "print(6 * 7)")[0]["content"]["status"] == "ok"
    finally:
        kc.stop_channels()
