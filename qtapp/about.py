"""Versions of everything the console is made of, for --version and Help > About.

A bug report is only as good as the versions in it: the console's, Qt's as
built and as run, PyQt's, Python's, pyzmq's and libzmq's, and what the kernel
says about itself in ``kernel_info_reply`` (its implementation and the
protocol version it speaks).
"""

from __future__ import annotations

import html
import platform
from typing import List, Optional, Tuple

from kernel._version import __version__

Row = Tuple[str, str]


def component_versions() -> List[Row]:
    """(component, version) for the console's side; needs no display."""
    import zmq
    from PyQt5.QtCore import PYQT_VERSION_STR, QT_VERSION_STR, qVersion

    qt = qVersion()
    return [
        ("qtapp", __version__),
        ("Python", f"{platform.python_version()} ({platform.python_implementation()})"),
        ("Qt", qt if qt == QT_VERSION_STR else f"{qt} (PyQt built with {QT_VERSION_STR})"),
        ("PyQt", PYQT_VERSION_STR),
        ("pyzmq", f"{zmq.__version__} (libzmq {zmq.zmq_version()})"),
    ]


def kernel_versions(kernel_info: Optional[dict]) -> List[Row]:
    """What the kernel reported about itself (nothing before it answered)."""
    if not kernel_info:
        return [("Kernel", "not connected")]
    content = kernel_info.get("content") or {}
    language = content.get("language_info") or {}
    impl = content.get("implementation") or "unknown"
    impl_version = content.get("implementation_version") or ""
    return [
        ("Kernel", f"{impl} {impl_version}".strip()),
        ("Protocol", str(content.get("protocol_version") or "unknown")),
        ("Language", f"{language.get('name', 'unknown')} {language.get('version', '')}".strip()),
    ]


def version_text() -> str:
    """``qtapp --version``: the first line is the console's version alone, as tools expect."""
    rows = component_versions()
    width = max(len(name) for name, _ in rows)
    return "\n".join([f"qtapp {__version__}"] + [f"  {name:<{width}}  {value}" for name, value in rows[1:]])


def about_html(rows: List[Row], extra: List[Row] = ()) -> str:
    """The About box's text: a short line, then a table of versions and paths."""
    cells = "".join(f"<tr><td style='padding-right:12px'><b>{html.escape(name)}</b></td>"
                    f"<td>{html.escape(value)}</td></tr>" for name, value in [*rows, *extra])
    return (f"<h3>qtapp {html.escape(__version__)}</h3>"
            "<p>A rich console for Python, with its kernel in a separate process.</p>"
            f"<table>{cells}</table>")
