"""The Jupyter wire protocol as plain data: build, sign, verify, serialize, parse.

This module is deliberately sans-I/O. It never touches a socket, a thread, a
log or the clock on its own: a :class:`Session` turns message dicts into lists
of byte frames and back, and everything it needs from the outside world (the
key, the clock, the id generator) is handed to it. That keeps every rule of
the wire testable with plain bytes.

Frames on the wire::

    [identities..., b"<IDS|MSG>", signature, header, parent_header, metadata,
     content, buffers...]

Messages in Python are plain dicts, shaped as Jupyter clients expect::

    {"header": {...}, "parent_header": {...}, "metadata": {...},
     "content": {...}, "buffers": [...], "msg_id": str, "msg_type": str}
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import math
import threading
import uuid
from collections import OrderedDict
from datetime import date, datetime, timezone
from typing import Any, Callable, Iterable, Sequence

PROTOCOL_VERSION = "5.4"
DELIMITER = b"<IDS|MSG>"
DEFAULT_SCHEME = "hmac-sha256"
DEFAULT_REPLAY_WINDOW = 65536
#: The header fields without which a message cannot be routed or answered.
REQUIRED_HEADER_FIELDS = ("msg_id", "msg_type")


class WireError(Exception):
    """Base of every wire failure; ``reason`` is a short, loggable phrase."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class SignatureError(WireError):
    """The message is unsigned, or signed with another key or scheme."""


class ReplayError(WireError):
    """A correctly signed message was seen before (a replay)."""


class MalformedMessage(WireError):
    """The frames or their JSON do not form a Jupyter message."""


class MessageTooLarge(MalformedMessage):
    """The frames add up to more than the configured cap."""


class UnsupportedScheme(WireError, ValueError):
    """The connection asks for a signature scheme we cannot provide."""


def utcnow_iso() -> str:
    """The default clock: ISO 8601 UTC with microseconds and a ``Z``."""
    d = datetime.now(timezone.utc)  # formatted by hand: a third of isoformat's cost
    return "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ" % (d.year, d.month, d.day, d.hour, d.minute, d.second, d.microsecond)


def new_id() -> str:
    return uuid.uuid4().hex


def counter_ids(prefix: str) -> Callable[[], str]:
    """Message ids ``<prefix>_<n>``: unique when the prefix is (a random
    session id), and far cheaper than a uuid per message."""
    counter = itertools.count(1)
    return lambda: f"{prefix}_{next(counter)}"


def make_digester(key: bytes, scheme: str) -> "hmac.HMAC | None":
    """An HMAC object for ``scheme`` (``hmac-<hashlib name>``), or None for no key.

    Raises UnsupportedScheme for anything that is not a working HMAC scheme,
    so a bad connection file fails at start and never at the first message.
    """
    if not isinstance(scheme, str) or not scheme.startswith("hmac-"):
        raise UnsupportedScheme(
            f"unsupported signature_scheme {scheme!r}: expected 'hmac-<hash>', e.g. 'hmac-sha256'"
        )
    hash_name = scheme[len("hmac-"):]
    if hash_name not in hashlib.algorithms_available:
        raise UnsupportedScheme(f"unsupported signature_scheme {scheme!r}: no hash named {hash_name!r}")
    try:
        digester = hmac.new(key or b"probe", digestmod=hash_name)
        digester.copy().hexdigest()
    except (TypeError, ValueError) as exc:
        raise UnsupportedScheme(f"unsupported signature_scheme {scheme!r}: {exc}") from None
    return digester if key else None


def _json_default(obj: Any) -> Any:
    if isinstance(obj, datetime):
        if obj.tzinfo is None:
            obj = obj.replace(tzinfo=timezone.utc)
        return obj.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if isinstance(obj, date):
        return obj.isoformat()
    if isinstance(obj, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(obj)).decode("ascii")
    if isinstance(obj, (set, frozenset, tuple)):
        return list(obj)
    item = getattr(obj, "item", None)  # numpy scalars and 0-d arrays
    if callable(item):
        return item()
    tolist = getattr(obj, "tolist", None)
    if callable(tolist):
        return tolist()
    raise TypeError(f"{type(obj).__name__} is not JSON serializable")


def _replace_non_finite(obj: Any) -> Any:
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {k: _replace_non_finite(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_replace_non_finite(v) for v in obj]
    return obj


_encoder = json.JSONEncoder(
    ensure_ascii=False, separators=(",", ":"), allow_nan=False, default=_json_default
)


def _make_fast_encode() -> Callable[[Any], str]:
    """JSONEncoder.encode builds a C encoder on every call; for the many
    small dicts of the message path, build it once. Same output and rules
    (no NaN, same default); no circular-reference check, as none can occur in
    message dicts. Falls back to the public API where the C encoder is absent."""
    c_make_encoder = getattr(json.encoder, "c_make_encoder", None)
    if c_make_encoder is None:
        return _encoder.encode
    enc = c_make_encoder(None, _json_default, json.encoder.encode_basestring, None,
                         ":", ",", False, False, False)

    def encode(obj: Any) -> str:
        if isinstance(obj, dict):
            return "".join(enc(obj, 0))
        return _encoder.encode(obj)
    return encode


_fast_encode = _make_fast_encode()


def json_packer(obj: Any) -> bytes:
    """Strict JSON (NaN/inf become null: the wire must stay valid JSON)."""
    if not obj and type(obj) is dict:
        return b"{}"
    try:
        text = _fast_encode(obj)
    except ValueError:
        text = _encoder.encode(_replace_non_finite(obj))
    return text.encode("utf-8", "surrogatepass")


# -- long strings --------------------------------------------------------------
# A message's content may carry megabytes of text (a big write, a base64 PNG).
# The C encoder escapes a string one character at a time (about 1.4 ms/MiB);
# bytes.translate finds whether any character needs escaping at all in a
# third of that, and bytes.replace then escapes the few that do. Worth it for
# the one place bytes flow in bulk; short strings keep the plain encoder.

#: Content strings this long take the byte-level path.
LONG_STRING = 1 << 16
_ESCAPED = {c: ("\\u%04x" % c).encode("ascii") for c in range(0x20)}
_ESCAPED.update({0x08: b"\\b", 0x09: b"\\t", 0x0A: b"\\n", 0x0C: b"\\f", 0x0D: b"\\r",
                 0x22: b'\\"', 0x5C: b"\\\\"})
_PLAIN = bytes(c for c in range(256) if c not in _ESCAPED)


def _holds_long_string(d: dict, depth: int = 3) -> bool:
    """Whether a value of ``d``, or of the dicts in it down to ``depth``
    levels, is a long string (lists are not searched: the encoder takes them)."""
    for v in d.values():
        if type(v) is str:
            if len(v) >= LONG_STRING:
                return True
        elif type(v) is dict and depth > 1 and _holds_long_string(v, depth - 1):
            return True
    return False


def _pack_long_string(s: str, out: list) -> None:
    """Append ``s`` as a JSON string, as bytes identical to the encoder's."""
    raw = s.encode("utf-8", "surrogatepass")
    # Where escapes are dense (short lines, say) the encoder's loop beats one
    # replace per escape; a sample of the start tells before the whole is read.
    sample = raw[:4096]
    if not _dense(sample.translate(None, _PLAIN), len(sample)):
        special = raw.translate(None, _PLAIN)
        if not _dense(special, len(raw)):
            out += (b'"', _escape_sparse(raw, special), b'"')
            return
    out.append(_json_string(s))


def _json_string(s: str) -> bytes:
    """``s`` as a JSON string by the standard encoder, as json_packer would write it."""
    return json.encoder.encode_basestring(s).encode("utf-8", "surrogatepass")


def _dense(special: bytes, of: int) -> bool:
    return len(special) * 16 > of


def _escape_sparse(raw: bytes, special: bytes) -> bytes:
    """Escape the bytes of ``special`` (those of ``raw`` that need it) in
    ``raw``. UTF-8 bytes below 0x80 are only ever ASCII characters, so
    escaping bytes is escaping characters."""
    if b"\\" in special:  # first, so the backslashes added below stay single
        raw = raw.replace(b"\\", _ESCAPED[0x5C])
    for code, escaped in _ESCAPED.items():
        if code != 0x5C and bytes((code,)) in special:
            raw = raw.replace(bytes((code,)), escaped)
    return raw


class _OtherKeys(Exception):
    """A dict key is not a string: leave the conversion to the encoder."""


def _pack_dict_with_long_strings(d: dict, out: list) -> None:
    out.append(b"{")
    for i, (k, v) in enumerate(d.items()):
        if type(k) is not str:
            raise _OtherKeys
        out += (b"," if i else b"", _json_string(k), b":")
        if type(v) is str and len(v) >= LONG_STRING:
            _pack_long_string(v, out)
        elif type(v) is dict and _holds_long_string(v):
            _pack_dict_with_long_strings(v, out)
        else:
            out.append(json_packer(v))
    out.append(b"}")


def pack_content(content: dict) -> bytes:
    """``json_packer`` for a message's content, fast for long strings in it
    (or in dicts within it, such as a display's ``data``)."""
    if type(content) is dict and _holds_long_string(content):
        out: list = []
        try:
            _pack_dict_with_long_strings(content, out)
            return b"".join(out)
        except _OtherKeys:
            pass
    return json_packer(content)


_scan_once = json.JSONDecoder().scan_once


def json_unpacker(data: bytes) -> Any:
    """Parse one JSON frame. The wire is UTF-8 by definition, so bytes are
    never sniffed as UTF-16/32 (``json.loads`` on bytes would do that).

    The C scanner is called directly: ``json.loads`` only adds whitespace
    handling around it, which costs more than scanning a small dict, and
    every message has four. Frames with surrounding whitespace, and bad
    JSON, go through ``json.loads`` for its exact rules and error messages."""
    text = data.decode("utf-8")
    try:
        value, end = _scan_once(text, 0)
    except StopIteration:
        return json.loads(text)
    return value if end == len(text) else json.loads(text)


class ReplayGuard:
    """Remembers accepted signatures, evicting the oldest beyond ``maxsize``.

    Only verified signatures are recorded, so forged traffic cannot flush the
    record. A lock keeps the record consistent when several threads share one
    Session (the kernel's shell and control threads do).
    """

    def __init__(self, maxsize: int = DEFAULT_REPLAY_WINDOW):
        if maxsize < 1:
            raise ValueError("replay window must hold at least one signature")
        self.maxsize = maxsize
        self._seen: "OrderedDict[bytes, None]" = OrderedDict()
        self._lock = threading.Lock()

    def check_and_record(self, signature: bytes) -> None:
        with self._lock:
            if signature in self._seen:
                raise ReplayError("duplicate signature (replayed message)")
            self._seen[signature] = None
            if len(self._seen) > self.maxsize:
                self._seen.popitem(last=False)

    def __len__(self) -> int:
        return len(self._seen)

    def __contains__(self, signature: object) -> bool:
        return signature in self._seen


class Session:
    """Signs, serializes and parses messages for one peer identity.

    ``session_id`` and ``username`` go into every header this session builds;
    other frontends use them to tell who did what.
    """

    def __init__(
        self,
        key: bytes | str = b"",
        signature_scheme: str = DEFAULT_SCHEME,
        *,
        username: str = "username",
        session_id: str | None = None,
        check_replay: bool = True,
        replay_window: int = DEFAULT_REPLAY_WINDOW,
        max_message_size: int | None = None,
        clock: Callable[[], str] = utcnow_iso,
        id_factory: Callable[[], str] | None = None,
    ):
        self.username = username
        self.session_id = session_id or new_id()
        # Ids are unique across sessions (random prefix) without a uuid each.
        id_factory = id_factory or counter_ids(uuid.uuid4().hex[:12])
        self.check_replay = check_replay
        self.max_message_size = max_message_size
        self.clock = clock
        self.id_factory = id_factory
        self.replay_guard = ReplayGuard(replay_window)
        self._parent_cache: tuple = (None, b"{}")
        self.signature_scheme = signature_scheme
        self.key = key  # property: builds the digester and validates the scheme

    # -- key management ---------------------------------------------------
    @property
    def key(self) -> bytes:
        return self._key

    @key.setter
    def key(self, value: bytes | str) -> None:
        if isinstance(value, str):
            value = value.encode("ascii")
        self._digester = make_digester(value, self.signature_scheme)
        self._key = value
        # A new key starts a new trust epoch: forget what the old key admitted.
        self.replay_guard = ReplayGuard(self.replay_guard.maxsize)

    @property
    def bsession(self) -> bytes:
        return self.session_id.encode("ascii")

    @property
    def signed(self) -> bool:
        return self._digester is not None

    # -- building ---------------------------------------------------------
    def header(self, msg_type: str) -> dict:
        return {
            "msg_id": self.id_factory(),
            "msg_type": msg_type,
            "username": self.username,
            "session": self.session_id,
            "date": self.clock(),
            "version": PROTOCOL_VERSION,
        }

    def msg(
        self,
        msg_type: str,
        content: dict | None = None,
        parent: dict | None = None,
        metadata: dict | None = None,
        header: dict | None = None,
        buffers: Sequence[bytes] | None = None,
    ) -> dict:
        """A new message dict; ``parent`` may be a whole message or a header."""
        header = header if header is not None else self.header(msg_type)
        if parent and "header" in parent:
            parent = parent["header"]
        return {
            "header": header,
            "msg_id": header["msg_id"],
            "msg_type": header["msg_type"],
            "parent_header": parent or {},  # shared, not copied: headers are never mutated
            "metadata": metadata if metadata is not None else {},
            "content": content if content is not None else {},
            "buffers": list(buffers) if buffers else [],
        }

    # -- signing ----------------------------------------------------------
    def sign(self, parts: Iterable[bytes]) -> bytes:
        """Hex HMAC of the four serialized dicts (empty when unsigned)."""
        if self._digester is None:
            return b""
        d = self._digester.copy()
        for p in parts:
            d.update(p)
        return d.hexdigest().encode("ascii")

    def serialize(self, msg: dict, identities: Sequence[bytes] = ()) -> list:
        """Frames for ``msg``: identities, delimiter, signature, dicts, buffers."""
        parent = msg.get("parent_header") or {}
        cached = self._parent_cache  # one tuple: safe to read from any thread
        if cached[0] is parent:
            parent_bytes = cached[1]  # every message of one request shares it
        else:
            parent_bytes = json_packer(parent)
            self._parent_cache = (parent, parent_bytes)
        parts = [
            json_packer(msg["header"]),
            parent_bytes,
            json_packer(msg.get("metadata") or {}),
            pack_content(msg.get("content") or {}),
        ]
        frames = list(identities)
        frames.append(DELIMITER)
        frames.append(self.sign(parts))
        frames.extend(parts)
        frames.extend(msg.get("buffers") or ())
        return frames

    # -- parsing ----------------------------------------------------------
    @staticmethod
    def split_identities(frames: Sequence[Any]) -> tuple[list, list]:
        """Split at the first delimiter: (identities, the rest after it)."""
        for i, f in enumerate(frames):
            if _as_bytes(f) == DELIMITER:
                return list(frames[:i]), list(frames[i + 1:])
        raise MalformedMessage("no <IDS|MSG> delimiter")

    def deserialize(self, frames: Sequence[Any]) -> tuple[list, dict]:
        """Verify and parse ``frames``: returns (identities, message).

        The signature is checked with a constant-time compare before any JSON
        is parsed; then the replay record; then the structure.
        """
        if self.max_message_size is not None:
            total = sum(len(_as_bytes(f)) for f in frames)
            if total > self.max_message_size:
                raise MessageTooLarge(f"message of {total} bytes exceeds the cap of {self.max_message_size}")
        identities, rest = self.split_identities(frames)
        if len(rest) < 5:
            raise MalformedMessage(f"expected signature and 4 dict frames after the delimiter, got {len(rest)} frames")
        signature = _as_bytes(rest[0])
        parts = [_as_bytes(p) for p in rest[1:5]]
        if self._digester is not None:
            if not signature:
                raise SignatureError("unsigned message")
            expected = self.sign(parts)
            if not hmac.compare_digest(signature, expected):
                raise SignatureError("invalid signature")
            if self.check_replay:
                self.replay_guard.check_and_record(signature)
        names = ("header", "parent_header", "metadata", "content")
        dicts = {}
        for name, raw in zip(names, parts):
            try:
                value = json_unpacker(raw)
            except (UnicodeDecodeError, ValueError) as exc:
                raise MalformedMessage(f"{name} is not valid JSON: {_short(exc)}") from None
            except RecursionError:
                raise MalformedMessage(f"{name} is JSON nested too deeply to parse") from None
            if not isinstance(value, dict):
                raise MalformedMessage(f"{name} is a JSON {type(value).__name__}, not an object")
            dicts[name] = value
        header = dicts["header"]
        for field in REQUIRED_HEADER_FIELDS:
            if not isinstance(header.get(field), str) or not header[field]:
                raise MalformedMessage(f"header field {field!r} is missing or not a string")
        msg = dicts
        msg["msg_id"] = header["msg_id"]
        msg["msg_type"] = header["msg_type"]
        msg["buffers"] = [_as_buffer(b) for b in rest[5:]]
        return identities, msg


def _as_bytes(frame: Any) -> bytes:
    """zmq Frames expose ``.bytes``; plain bytes pass through."""
    if isinstance(frame, bytes):
        return frame
    b = getattr(frame, "bytes", None)
    if b is not None:
        return b
    return bytes(frame)


def _as_buffer(frame: Any) -> memoryview:
    buf = getattr(frame, "buffer", None)
    return buf if buf is not None else memoryview(_as_bytes(frame))


def _short(exc: Exception) -> str:
    text = str(exc)
    return text if len(text) <= 80 else text[:77] + "..."

