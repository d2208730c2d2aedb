"""``python -m kernel``: run a kernel, or install its kernelspec.

    python -m kernel                  # new connection file in the runtime dir
    python -m kernel -f FILE          # use FILE (Jupyter's launch convention)
    python -m kernel install --user   # make Jupyter tools aware of this kernel
"""

from __future__ import annotations

import argparse
import ipaddress
import logging
import os
import sys
from pathlib import Path
from typing import Optional

from ._version import __version__
from .kernelspec import READY_FD_ENV
from .connect import (LOCALHOST, PROCESS_FIELD, ConnectionFileError, ConnectionInfo, jupyter_runtime_dir,
                      new_kernel_id, new_key, process_record, read_connection_file, write_connection_file)

EXIT_BAD_CONNECTION = 2


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m kernel",
        description="A Python kernel speaking the Jupyter messaging protocol over ZeroMQ.",
    )
    p.add_argument("-f", "--connection-file", metavar="FILE",
                   help="connection file to use; read if it exists (ports and key from it), "
                        "else written there with fresh ports and a fresh key")
    p.add_argument("--ip", default=None,
                   help=f"address to bind (default {LOCALHOST}); anything else exposes the kernel "
                        "to the network, signed but not encrypted")
    p.add_argument("--transport", choices=("tcp", "ipc"), default="tcp")
    p.add_argument("--insecure", action="store_true",
                   help="accept a connection file with an empty key (messages unsigned: anyone "
                        "who reaches the ports can run code)")
    p.add_argument("--max-message-size", type=int, default=None, metavar="BYTES",
                   help="refuse incoming messages larger than this (default 64 MiB)")
    p.add_argument("--no-capture-fd", dest="capture_fd", action="store_false",
                   help="leave file descriptors 1 and 2 alone: what commands, C code and forked children "
                        "write there goes to the kernel's own stdout/stderr instead of the frontends")
    p.add_argument("--debug", action="store_true", help="log debug messages to stderr")
    p.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = p.add_subparsers(dest="command")
    inst = sub.add_parser("install", help="install a kernelspec for this kernel")
    where = inst.add_mutually_exclusive_group()
    where.add_argument("--user", action="store_true", help="into the user's Jupyter data dir (default)")
    where.add_argument("--sys-prefix", action="store_true", help="into this Python's prefix")
    where.add_argument("--prefix", metavar="DIR", help="into DIR/share/jupyter/kernels")
    inst.add_argument("--name", default=None, help="kernelspec name (default: qtapp)")
    inst.add_argument("--display-name", default=None, help="name shown in kernel pickers")
    return p


def main(argv: Optional[list] = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.debug else logging.INFO,
        format="[kernel %(levelname)s %(name)s] %(message)s",
        stream=sys.stderr,
    )
    log = logging.getLogger("kernel")
    if args.command == "install":
        from .kernelspec import OWN_NAME, install_own_kernel_spec

        dest = install_own_kernel_spec(user=not args.sys_prefix, prefix=args.prefix,
                                       name=args.name or OWN_NAME, display_name=args.display_name)
        print(f"Installed kernelspec {dest.name} in {dest}")
        return 0

    from .app import DEFAULT_MAX_MESSAGE_SIZE, EXIT_PORTS_TAKEN, KernelApp, PortsTaken

    path = Path(args.connection_file).expanduser() if args.connection_file else None
    owns_file = True
    if path is not None and path.exists():
        try:
            info = read_connection_file(path, allow_insecure=args.insecure)
        except ConnectionFileError as exc:
            print(f"kernel: {exc}", file=sys.stderr)
            return EXIT_BAD_CONNECTION
        owns_file = False
        if not info.key:
            log.warning("the connection file has an empty key: messages are NOT signed; "
                        "anyone who can reach these ports can run code as you")
        if args.ip and args.ip != info.ip:
            log.warning("--ip %s ignored: the connection file says %s", args.ip, info.ip)
    else:
        info = ConnectionInfo(ip=args.ip or LOCALHOST, transport=args.transport, key=new_key())
        if path is None:
            path = jupyter_runtime_dir() / f"kernel-{new_kernel_id()}.json"
        if info.transport == "ipc":
            info.ip = str(path.with_suffix("")) + "-ipc"
    if info.transport == "tcp" and not _is_loopback(info.ip):
        log.warning("binding to %s: the kernel is reachable from the network. Messages are signed "
                    "but NOT encrypted; use an ssh tunnel for untrusted networks.", info.ip)

    app = KernelApp(info, path, owns_connection_file=owns_file,
                    max_message_size=args.max_message_size or DEFAULT_MAX_MESSAGE_SIZE,
                    capture_fds=args.capture_fd)
    try:
        app.bind()
    except PortsTaken as exc:
        print(f"kernel: {exc}; the ports in {path} are taken, choose new ones", file=sys.stderr)
        _tell_launcher(b"ports-taken")
        return EXIT_PORTS_TAKEN
    if owns_file:
        info.extra[PROCESS_FIELD] = process_record(os.getpid())  # so a stale file can be swept
        try:
            write_connection_file(path, info)
        except (OSError, ConnectionFileError) as exc:
            print(f"kernel: cannot write the connection file: {exc}", file=sys.stderr)
            return EXIT_BAD_CONNECTION
        name = path.name if path.parent == jupyter_runtime_dir(create=False) else str(path)
        print(f"To connect another client to this kernel, use:\n    --existing {name}", flush=True)
    log.debug("connection file: %s", path)
    _tell_launcher(b"bound")
    app.start()
    app.serve_forever()
    return 0


def _is_loopback(ip: str) -> bool:
    if ip == "localhost":
        return True
    try:
        return ipaddress.ip_address(ip).is_loopback
    except ValueError:
        return False


def _tell_launcher(status: bytes) -> None:
    """Report bind success or a port race to a KernelManager that asked for it."""
    fd = os.environ.pop(READY_FD_ENV, None)
    if fd and fd.isdigit():
        try:
            os.write(int(fd), status + b"\n")
            os.close(int(fd))
        except OSError:
            pass


if __name__ == "__main__":
    sys.exit(main())
