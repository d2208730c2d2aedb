"""What the kernel says about itself in ``kernel_info_reply``.

Kept apart from the engine so the kernel can answer ``kernel_info_request``
before IPython has finished importing.
"""

from __future__ import annotations

import sys

from ._version import __version__

IMPLEMENTATION = "qtapp-kernel"
IMPLEMENTATION_VERSION = __version__


def language_info() -> dict:
    return {
        "name": "python",
        "version": "%d.%d.%d" % sys.version_info[:3],
        "mimetype": "text/x-python",
        "file_extension": ".py",
        "pygments_lexer": "ipython3",
        "codemirror_mode": {"name": "ipython", "version": 3},
        "nbconvert_exporter": "python",
    }


def banner() -> str:
    return (
        f"Python {sys.version.split()[0]} | {IMPLEMENTATION} {__version__} (IPython engine)\n"
        "Type '?' for help, 'object?' for details about an object, '%magic' for magics.\n"
    )


def help_links() -> list:
    v = "%d.%d" % sys.version_info[:2]
    return [
        {"text": "Python Reference", "url": f"https://docs.python.org/{v}"},
        {"text": "IPython Reference", "url": "https://ipython.readthedocs.io/en/stable/"},
        {"text": "Matplotlib Reference", "url": "https://matplotlib.org/stable/"},
    ]
