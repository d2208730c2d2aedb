"""A rich Qt desktop console for Python, with its kernel in another process.

``from qtapp import ConsoleWidget`` gives the embeddable console.
"""

from kernel._version import __version__

__all__ = ["ConsoleWidget", "__version__"]


def __getattr__(name):
    # Lazy: ``qtapp --help`` and the display check must not need Qt loaded.
    if name == "ConsoleWidget":
        from .console.widget import ConsoleWidget
        return ConsoleWidget
    raise AttributeError(name)
