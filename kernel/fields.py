"""Checking the content of requests before any of it is used.

Clients are trusted with the key, not with the shape of what they send: a
field of the wrong type or out of range gets a BadRequest naming the field,
which the kernel turns into an error reply, never a traceback.
"""

from __future__ import annotations

from typing import Any

_INT64_MIN, _INT64_MAX = -(1 << 63), (1 << 63) - 1


class BadRequest(ValueError):
    """A request whose content does not have the fields its type requires."""


def field(content: dict, name: str, kind: type | tuple, default: Any = BadRequest) -> Any:
    """``content[name]`` checked against ``kind``; a clear BadRequest otherwise."""
    if name not in content or content[name] is None:
        if default is BadRequest:
            raise BadRequest(f"missing required field {name!r}")
        return default
    value = content[name]
    if kind is bool and isinstance(value, int):
        return bool(value)
    if kind is int and isinstance(value, bool) or not isinstance(value, kind):
        want = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise BadRequest(f"field {name!r} must be {want}, got {type(value).__name__}")
    if kind is int and not _INT64_MIN <= value <= _INT64_MAX:
        raise BadRequest(f"field {name!r} is out of range: {value}")  # sqlite, C APIs: 64 bits at most
    return value


def cursor_field(content: dict, code: str) -> int:
    """``cursor_pos``, defaulting to the end of ``code`` and inside it."""
    pos = field(content, "cursor_pos", int, len(code))
    if not 0 <= pos <= len(code):
        raise BadRequest(f"cursor_pos {pos} is outside the code (0 to {len(code)})")
    return pos
