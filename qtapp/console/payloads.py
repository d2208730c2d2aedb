"""Payloads in execute_reply: a table keyed by ``source``.

Payloads are how the kernel asks the frontend to do something after a cell
(fill the next input, close, page text, open an editor). Each source has one
handler; a source nobody handles is reported once per console, in the
transcript, so it is never silently lost.
"""

from __future__ import annotations

import logging
from typing import Callable, Dict, Set

log = logging.getLogger(__name__)

PayloadHandler = Callable[[dict, dict], None]  # (payload, reply message)


class PayloadTable:
    def __init__(self, report_unknown: Callable[[str], None]):
        self.handlers: Dict[str, PayloadHandler] = {}
        self._report = report_unknown
        self._reported: Set[str] = set()

    def register(self, source: str, handler: PayloadHandler) -> None:
        """Handle payloads whose ``source`` is ``source`` (replacing any handler)."""
        self.handlers[source] = handler

    def handle(self, payloads: list, reply: dict) -> None:
        for payload in payloads or ():
            if not isinstance(payload, dict):
                log.warning("ignoring a payload that is not an object: %r", payload)
                continue
            source = str(payload.get("source", ""))
            handler = self.handlers.get(source)
            if handler is None:
                if source not in self._reported:
                    self._reported.add(source)
                    self._report(source)
                continue
            try:
                handler(payload, reply)
            except Exception:
                log.exception("the %s payload handler failed", source)
