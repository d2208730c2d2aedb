"""Logging helpers shared by the kernel and its clients."""

from __future__ import annotations

import logging
import time
from typing import Any


class RateLimitedLog:
    """One log line per key per ``period``, with a count of what was suppressed."""

    def __init__(self, logger: logging.Logger, period: float = 10.0):
        self.logger = logger
        self.period = period
        self._last: dict = {}
        self._suppressed: dict = {}

    def warning(self, key: str, fmt: str, *args: Any) -> None:
        now = time.monotonic()
        last = self._last.get(key)
        if last is not None and now - last < self.period:
            self._suppressed[key] = self._suppressed.get(key, 0) + 1
            return
        self._last[key] = now
        hidden = self._suppressed.pop(key, 0)
        suffix = f" ({hidden} more like it since the last report)" if hidden else ""
        self.logger.warning(fmt + suffix, *args)
