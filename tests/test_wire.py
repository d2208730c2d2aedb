"""The wire layer with plain bytes: no sockets, no processes."""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import random
import re
from datetime import datetime, timezone

import pytest

from kernel.wire import (DELIMITER, PROTOCOL_VERSION, MalformedMessage, MessageTooLarge, ReplayError,
                         ReplayGuard, Session, SignatureError, UnsupportedScheme, json_packer, pack_content)
from kernel.wire import LONG_STRING

KEY = b"0123456789abcdef" * 4


def session(**kw) -> Session:
    return Session(KEY, **kw)


def test_header_has_every_field_with_iso_utc_date():
    s = Session(KEY, username="alice")
    msg = s.msg("kernel_info_request")
    h = msg["header"]
    assert set(h) == {"msg_id", "msg_type", "username", "session", "date", "version"}
    assert h["msg_type"] == "kernel_info_request" and msg["msg_type"] == h["msg_type"]
    assert h["username"] == "alice" and h["session"] == s.session_id
    assert h["version"] == PROTOCOL_VERSION == "5.4"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", h["date"])
    assert msg["msg_id"] == h["msg_id"]


def test_msg_ids_are_unique():
    s = session()
    ids = {s.msg("x")["msg_id"] for _ in range(10000)}
    assert len(ids) == 10000


def test_clock_and_ids_are_injectable():
    s = Session(KEY, clock=lambda: "2020-01-01T00:00:00.000000Z", id_factory=lambda: "fixed")
    h = s.msg("x")["header"]
    assert h["date"] == "2020-01-01T00:00:00.000000Z" and h["msg_id"] == "fixed"


def test_parent_accepts_message_or_header():
    s = session()
    req = s.msg("execute_request", {"code": "1"})
    assert s.msg("execute_reply", parent=req)["parent_header"] == req["header"]
    assert s.msg("execute_reply", parent=req["header"])["parent_header"] == req["header"]


def test_round_trip_with_identities_metadata_and_buffers():
    a, b = session(), session()
    msg = a.msg("comm_msg", {"data": {"x": "é☃"}}, metadata={"m": 1}, buffers=[b"\x00\x01", b"raw"])
    frames = a.serialize(msg, identities=[b"id1", b"id2"])
    assert frames[:3] == [b"id1", b"id2", DELIMITER]
    idents, back = b.deserialize(frames)
    assert idents == [b"id1", b"id2"]
    assert back["header"] == msg["header"]
    assert back["content"] == {"data": {"x": "é☃"}}
    assert back["metadata"] == {"m": 1}
    assert [bytes(x) for x in back["buffers"]] == [b"\x00\x01", b"raw"]
    assert back["msg_type"] == "comm_msg"


def test_signature_is_hmac_sha256_hex_of_the_four_dicts():
    s = session()
    frames = s.serialize(s.msg("x", {"a": 1}))
    i = frames.index(DELIMITER)
    expected = hmac.new(KEY, b"".join(frames[i + 2:i + 6]), hashlib.sha256).hexdigest().encode()
    assert frames[i + 1] == expected


@pytest.mark.parametrize("scheme,digest", [("hmac-sha512", hashlib.sha512), ("hmac-md5", hashlib.md5),
                                           ("hmac-sha3_256", hashlib.sha3_256)])
def test_any_hashlib_hmac_scheme_works(scheme, digest):
    a, b = Session(KEY, scheme), Session(KEY, scheme)
    frames = a.serialize(a.msg("x"))
    assert len(frames[1]) == digest().digest_size * 2
    b.deserialize(frames)


@pytest.mark.parametrize("scheme", ["sha256", "hmac-nosuchhash", "rsa-sha256", "", "hmac-shake_128"])
def test_unknown_schemes_are_refused_with_a_clear_error(scheme):
    with pytest.raises(UnsupportedScheme) as err:
        Session(KEY, scheme)
    assert "signature_scheme" in str(err.value)


def _tamper(frames, index, value):
    frames = list(frames)
    frames[index] = value
    return frames


@pytest.mark.parametrize("make_bad", [
    lambda f: _tamper(f, 1, b""),                                   # empty signature
    lambda f: _tamper(f, 1, f[1][:-2]),                             # truncated
    lambda f: _tamper(f, 1, f[1].upper()),                          # uppercase hex
    lambda f: _tamper(f, 1, b"0" * 64),                             # wrong
    lambda f: _tamper(f, 5, b'{"code":"import os"}'),               # content changed
    lambda f: _tamper(f, 2, f[2].replace(b"x", b"y")),              # header changed
])
def test_bad_signatures_are_rejected(make_bad):
    a, b = session(), session()
    frames = a.serialize(a.msg("x", {"code": "1"}))
    with pytest.raises(SignatureError):
        b.deserialize(make_bad(frames))


def test_wrong_key_is_rejected():
    a, b = Session(b"one-key"), Session(b"other-key")
    with pytest.raises(SignatureError):
        b.deserialize(a.serialize(a.msg("x")))


def test_signature_is_checked_before_any_json_is_parsed():
    s = session()
    frames = [DELIMITER, b"0" * 64, b"not json", b"{}", b"{}", b"{}"]
    with pytest.raises(SignatureError):
        s.deserialize(frames)


def test_replayed_message_is_rejected():
    a, b = session(), session()
    frames = a.serialize(a.msg("execute_request", {"code": "1"}))
    b.deserialize(frames)
    with pytest.raises(ReplayError):
        b.deserialize(frames)


def test_only_verified_signatures_enter_the_replay_record():
    a, b = session(), Session(KEY, replay_window=4)
    good = a.serialize(a.msg("x"))
    b.deserialize(good)
    for i in range(100):  # forged traffic must not push the good signature out
        with pytest.raises(SignatureError):
            b.deserialize(_tamper(good, 1, b"%064x" % i))
    assert len(b.replay_guard) == 1
    with pytest.raises(ReplayError):
        b.deserialize(good)


def test_replay_record_is_bounded_and_evicts_oldest_first():
    guard = ReplayGuard(3)
    for sig in (b"a", b"b", b"c", b"d"):
        guard.check_and_record(sig)
    assert len(guard) == 3 and b"a" not in guard and b"d" in guard
    guard.check_and_record(b"a")  # evicted, so accepted again
    with pytest.raises(ReplayError):
        guard.check_and_record(b"d")


def test_default_replay_window_is_65536():
    assert session().replay_guard.maxsize == 65536


def test_new_key_starts_a_fresh_replay_record():
    s = session()
    s.deserialize(s.serialize(s.msg("x")))
    s.key = b"another key"
    assert len(s.replay_guard) == 0


@pytest.mark.parametrize("frames,reason", [
    ([], "delimiter"),
    ([b"a", b"b"], "delimiter"),
    ([DELIMITER, b"", b"{}"], "expected signature"),
])
def test_structurally_broken_frames_are_malformed(frames, reason):
    with pytest.raises(MalformedMessage) as err:
        Session(b"").deserialize(frames)
    assert reason in err.value.reason


def _signed(s, parts):
    return [DELIMITER, s.sign(parts), *parts]


@pytest.mark.parametrize("parts,reason", [
    ([b"\xff\xfe", b"{}", b"{}", b"{}"], "not valid JSON"),
    ([b"[1, 2]", b"{}", b"{}", b"{}"], "not an object"),
    ([b'{"msg_type": "x"}', b"{}", b"{}", b"{}"], "msg_id"),
    ([b'{"msg_id": "1"}', b"{}", b"{}", b"{}"], "msg_type"),
    ([b'{"msg_id": 5, "msg_type": "x"}', b"{}", b"{}", b"{}"], "msg_id"),
    ([b'{"msg_id": "1", "msg_type": "x"}', b"{}", b"{}", b"null"], "content"),
    ([b'{"msg_id": "1", "msg_type": "x"}', b"{}", b"{}", b'{"a": '], "content is not valid JSON"),
    ([b'{"msg_id": "1", "msg_type": "x"}', b"[" * 100_000 + b"]" * 100_000, b"{}", b"{}"],
     "parent_header is JSON nested too deeply"),
    ([b'{"msg_id": "1", "msg_type": "x"}', b'{"a":' * 50_000 + b"1" + b"}" * 50_000, b"{}", b"{}"],
     "parent_header is JSON nested too deeply"),
    # UTF-16 would parse if the bytes were sniffed; the wire is UTF-8 only
    ([b'{"msg_id": "1", "msg_type": "x"}', b"{}", "{}".encode("utf-16-le"), b"{}"],
     "metadata is not valid JSON"),
])
def test_signed_but_malformed_messages_get_a_specific_reason(parts, reason):
    s = session()
    with pytest.raises(MalformedMessage) as err:
        s.deserialize(_signed(s, parts))
    assert reason in err.value.reason


def test_oversized_messages_are_refused():
    s = Session(KEY, max_message_size=1000)
    with pytest.raises(MessageTooLarge):
        s.deserialize(s.serialize(s.msg("x", {"blob": "x" * 2000})))
    s.deserialize(s.serialize(s.msg("x", {"blob": "x" * 100})))


def test_unsigned_session_accepts_empty_signatures_only_when_keyless():
    keyless = Session(b"")
    frames = keyless.serialize(keyless.msg("x"))
    assert frames[1] == b""
    keyless.deserialize(frames)
    with pytest.raises(SignatureError):
        session().deserialize(frames)


def test_json_is_strict_and_never_pickles():
    data = json.loads(json_packer({"nan": math.nan, "inf": [math.inf], "ok": 1.5}))
    assert data == {"nan": None, "inf": [None], "ok": 1.5}
    when = datetime(2024, 5, 6, 7, 8, 9, tzinfo=timezone.utc)
    assert json.loads(json_packer({"d": when})) == {"d": "2024-05-06T07:08:09.000000Z"}
    assert json.loads(json_packer({"b": b"\x00\xff"})) == {"b": "AP8="}
    with pytest.raises(TypeError):
        json_packer({"obj": object()})


def _long_texts():
    """Long strings from every branch of the byte-level path: nothing to
    escape, each escapable character alone, sparse and dense mixes, and
    characters outside ASCII (including a lone surrogate)."""
    rng = random.Random(7)
    base = "x" * LONG_STRING
    yield base
    for code in list(range(0x20)) + [ord('"'), ord("\\"), 0x7F]:
        yield base[:1000] + chr(code) + base
    yield chr(0) + base  # an escape in the first byte
    yield base + "\\"  # and in the last
    alphabet = [chr(c) for c in range(0x30)] + ["é", "\u20ac", "\U0001F600", "\ud800", "\\", '"']
    for density in (0.001, 0.02, 0.06, 0.5):
        yield "".join(rng.choice(alphabet) if rng.random() < density else "a" for _ in range(LONG_STRING + 99))
    yield "".join(f"{i}\n" for i in range(LONG_STRING // 4))  # short lines
    yield "é" * LONG_STRING


@pytest.mark.parametrize("text", list(_long_texts()), ids=lambda t: repr(t[:1] + t[1000:1001] + t[-1:]))
def test_long_strings_pack_exactly_as_the_encoder_does(text):
    for content in ({"name": "stdout", "text": text},
                    {"data": {"text/plain": text, "image/png": "iVBOR" * 20000}, "metadata": {"n": math.nan}},
                    {"deep": {"er": {"text": text}}, "list": [text, 1.5]}):
        packed = pack_content(content)
        assert packed == json_packer(content)
        assert json.loads(packed.decode("utf-8", "surrogatepass")) == json.loads(json_packer(content))


def test_long_strings_under_keys_that_are_not_text_fall_back_to_the_encoder():
    content = {"data": {1: "x" * LONG_STRING, None: "y"}}
    assert pack_content(content) == json_packer(content)
    assert json.loads(pack_content(content)) == {"data": {"1": "x" * LONG_STRING, "null": "y"}}


def test_a_long_stream_message_round_trips_through_a_session():
    s = session()
    text = ("line \"quoted\"\tand\\path\n" * (LONG_STRING // 8)) + "\x1b[31mred\x1b[0m é"
    _, msg = s.deserialize(s.serialize(s.msg("stream", {"name": "stdout", "text": text})))
    assert msg["content"] == {"name": "stdout", "text": text}
