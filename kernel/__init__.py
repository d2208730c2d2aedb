"""The kernel side: wire protocol, connection files, the kernel process,
and the client and manager that talk to it. Imports no Qt."""

from ._version import __version__

__all__ = ["__version__", "KernelClient", "KernelManager", "find_connection_file"]


def __getattr__(name):
    # Lazy, so that ``python -m kernel`` does not import the client side.
    if name == "KernelClient":
        from .client import KernelClient
        return KernelClient
    if name == "KernelManager":
        from .manager import KernelManager
        return KernelManager
    if name == "find_connection_file":
        from .connect import find_connection_file
        return find_connection_file
    raise AttributeError(name)
