"""Deciding locally whether a cell is complete, when the kernel cannot say.

Enter asks the kernel (``is_complete_request``) so the rules are the
language's own. A kernel busy running code answers only when it is done,
so after a short wait, or at once when it is known to be busy, the console
decides with this Python approximation of IPython's rules:

- a compound statement needs a blank line to end it;
- an open bracket or string, or a trailing ``:`` or ``\\``, means more to come;
- anything that does not compile (magics, shell escapes) is sent as is and
  the kernel reports its own error.
"""

from __future__ import annotations

import codeop
import re
import warnings
from typing import Tuple

INDENT = "    "
_BLOCK_OPENER = re.compile(r":\s*(#.*)?$")


def _indent_of(line: str) -> str:
    return line[:len(line) - len(line.lstrip(" \t"))]


def check_complete(code: str, language: str = "python") -> Tuple[str, str]:
    """('complete' | 'incomplete' | 'invalid', indent for the next line)."""
    if language.lower() not in ("python", "ipython", "python3", "ipython3"):
        return "complete", ""
    if not code.strip():
        return "complete", ""
    lines = code.split("\n")
    last = lines[-1]
    if last.rstrip().endswith("\\"):
        return "incomplete", _indent_of(last)
    if _BLOCK_OPENER.search(last.rstrip()) and not last.lstrip().startswith(("%", "!", "#")):
        return "incomplete", _indent_of(last) + INDENT
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = codeop.compile_command(code, "<input>", "exec")
    except (SyntaxError, ValueError, OverflowError):
        return "invalid", ""
    if result is None:
        return "incomplete", _indent_of(last)
    # a block that is still indented needs a blank line to finish it
    if len(lines) > 1 and _indent_of(last) and last.strip():
        return "incomplete", _indent_of(last)
    return "complete", ""
