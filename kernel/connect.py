"""Connection files: where kernels live, how to reach them, and the key.

A connection file is the JSON document Jupyter defined: ports for the five
channels, the address, the transport and the signing key. Whoever holds it can
run code as its owner, so it is written 0600, read only when nobody else could
have read or changed it, and found only in the runtime directory unless a
path is given on purpose.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import stat
import sys
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .wire import DEFAULT_SCHEME, UnsupportedScheme, make_digester

CHANNELS = ("shell", "iopub", "stdin", "control", "hb")
PORT_FIELDS = tuple(f"{c}_port" for c in CHANNELS)
LOCALHOST = "127.0.0.1"
#: One digest's worth of key material: 256 bits, as 64 hex characters.
KEY_BYTES = 32


class ConnectionFileError(ValueError):
    """A connection file is missing, unreadable, unsafe or invalid."""


@dataclass
class ConnectionInfo:
    """Everything a client needs to reach a kernel."""

    ip: str = LOCALHOST
    transport: str = "tcp"
    shell_port: int = 0
    iopub_port: int = 0
    stdin_port: int = 0
    control_port: int = 0
    hb_port: int = 0
    key: str = ""
    signature_scheme: str = DEFAULT_SCHEME
    kernel_name: str = ""
    extra: dict = field(default_factory=dict, repr=False)

    def url(self, channel: str) -> str:
        port = getattr(self, f"{channel}_port")
        if self.transport == "tcp":
            ip = f"[{self.ip}]" if ":" in self.ip else self.ip
            return f"tcp://{ip}:{port}"
        return f"{self.transport}://{self.ip}-{port}"

    def to_dict(self) -> dict:
        d = asdict(self)
        extra = d.pop("extra")
        return {**extra, **d}

    @classmethod
    def from_dict(cls, d: Any, *, allow_insecure: bool = False, source: str = "connection info") -> "ConnectionInfo":
        """Validate a parsed connection document; every problem says where it is."""
        if not isinstance(d, dict):
            raise ConnectionFileError(f"{source}: expected a JSON object, got {type(d).__name__}")
        known = {f for f in cls.__dataclass_fields__ if f != "extra"}
        kwargs: dict = {}
        transport = d.get("transport", "tcp")
        if transport not in ("tcp", "ipc"):
            raise ConnectionFileError(f"{source}: unknown transport {transport!r} (expected 'tcp' or 'ipc')")
        kwargs["transport"] = transport
        ip = d.get("ip", LOCALHOST)
        if not isinstance(ip, str) or not ip:
            raise ConnectionFileError(f"{source}: 'ip' must be a non-empty string")
        kwargs["ip"] = ip
        for name in PORT_FIELDS:
            if name not in d:
                raise ConnectionFileError(f"{source}: missing field {name!r}")
            port = d[name]
            if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
                raise ConnectionFileError(f"{source}: {name} must be a port number 1-65535, got {port!r}")
            kwargs[name] = port
        key = d.get("key", "")
        if not isinstance(key, str):
            raise ConnectionFileError(f"{source}: 'key' must be a string")
        if not key and not allow_insecure:
            raise ConnectionFileError(
                f"{source}: the key is empty, so messages would be unsigned and anyone who can reach "
                "the ports could run code; refusing (pass the explicit insecure option to allow it)"
            )
        kwargs["key"] = key
        scheme = d.get("signature_scheme", DEFAULT_SCHEME)
        try:
            make_digester(key.encode("ascii", "replace"), scheme)
        except UnsupportedScheme as exc:
            raise ConnectionFileError(f"{source}: {exc.reason}") from None
        kwargs["signature_scheme"] = scheme
        name = d.get("kernel_name", "")
        kwargs["kernel_name"] = name if isinstance(name, str) else ""
        extra = {k: v for k, v in d.items() if k not in known}
        return cls(**kwargs, extra=extra)


def new_key() -> str:
    """A fresh 256-bit key as hex, from the OS's CSPRNG."""
    return secrets.token_hex(KEY_BYTES)


def new_kernel_id() -> str:
    return str(uuid.uuid4())


# -- directories ---------------------------------------------------------

def jupyter_data_dir() -> Path:
    env = os.environ.get("JUPYTER_DATA_DIR")
    if env:
        return Path(env).expanduser()
    home = Path.home()
    if sys.platform == "darwin":
        return home / "Library" / "Jupyter"
    if os.name == "nt":
        appdata = os.environ.get("APPDATA")
        return Path(appdata) / "jupyter" if appdata else home / ".jupyter" / "data"
    xdg = os.environ.get("XDG_DATA_HOME")
    return (Path(xdg) if xdg else home / ".local" / "share") / "jupyter"


def jupyter_runtime_dir(create: bool = True) -> Path:
    """The runtime directory (created 0700; tightened to 0700 if we own it)."""
    env = os.environ.get("JUPYTER_RUNTIME_DIR")
    path = Path(env).expanduser() if env else jupyter_data_dir() / "runtime"
    if create:
        ensure_private_dir(path)
    return path


def ensure_private_dir(path: Path) -> None:
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    if os.name != "nt":
        st = path.stat()
        if st.st_uid == os.getuid() and stat.S_IMODE(st.st_mode) != 0o700:
            os.chmod(path, 0o700)


def jupyter_path(*subdirs: str) -> list:
    """Jupyter data directories, most specific first (for kernelspecs)."""
    paths: list = []
    env = os.environ.get("JUPYTER_PATH")
    if env:
        paths.extend(Path(p).expanduser() for p in env.split(os.pathsep) if p)
    paths.append(jupyter_data_dir())
    paths.append(Path(sys.prefix) / "share" / "jupyter")
    if os.name != "nt":
        paths.extend([Path("/usr/local/share/jupyter"), Path("/usr/share/jupyter")])
    seen, out = set(), []
    for p in paths:
        p = p.joinpath(*subdirs)
        if p not in seen:
            seen.add(p)
            out.append(p)
    return out


# -- writing and reading -------------------------------------------------

def write_connection_file(path: Path | str, info: ConnectionInfo) -> Path:
    """Write ``info`` to ``path`` atomically with mode 0600, and prove the mode.

    The file is created 0600 from the start (never briefly readable), written
    to a sibling and renamed into place, so readers never see half a file.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        if os.name != "nt":
            os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            fd = -1
            json.dump(info.to_dict(), f, indent=1)
            f.write("\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if fd >= 0:
            os.close(fd)
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    if os.name != "nt":
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode != 0o600:
            path.unlink(missing_ok=True)
            raise ConnectionFileError(f"{path}: could not restrict the file to its owner (mode {mode:o})")
    return path


def check_file_safe(path: Path) -> None:
    """Refuse a connection file another user owns or could read or change."""
    if os.name == "nt":
        return
    st = path.stat()
    if st.st_uid != os.getuid():
        raise ConnectionFileError(
            f"{path}: refusing a connection file owned by another user (uid {st.st_uid}); "
            "its key could have been planted"
        )
    mode = stat.S_IMODE(st.st_mode)
    if mode & 0o077:
        raise ConnectionFileError(
            f"{path}: refusing a connection file that others can access (mode {mode:o}); "
            f"its key may be known to them. If you trust it, run: chmod 600 {path}"
        )


def read_connection_file(path: Path | str, *, allow_insecure: bool = False, check_permissions: bool = True) -> ConnectionInfo:
    path = Path(path)
    try:
        if check_permissions:
            check_file_safe(path)
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConnectionFileError(f"{path}: no such connection file") from None
    except OSError as exc:
        raise ConnectionFileError(f"{path}: cannot read: {exc.strerror or exc}") from None
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ConnectionFileError(f"{path}: not valid JSON ({exc})") from None
    return ConnectionInfo.from_dict(data, allow_insecure=allow_insecure, source=str(path))


def find_connection_file(name_or_fragment: str | None = None, runtime_dir: Path | str | None = None) -> Path:
    """Resolve what a user typed after ``--existing`` to one safe file.

    - nothing: the newest ``kernel-*.json`` in the runtime directory;
    - a path with a directory part (``./k.json``, ``/tmp/k.json``): that file;
    - a bare name: exactly that name (``.json`` optional) in the runtime dir;
    - otherwise a fragment: the newest ``kernel-*FRAGMENT*.json`` there.

    A bare name never resolves against the current directory, so a file
    dropped into a shared working directory cannot be picked up by accident.
    """
    rdir = Path(runtime_dir) if runtime_dir is not None else jupyter_runtime_dir()
    if name_or_fragment:
        given = Path(os.path.expanduser(name_or_fragment))
        if given.is_absolute() or os.sep in name_or_fragment or name_or_fragment.startswith("~"):
            if not given.is_file():
                raise ConnectionFileError(f"{given}: no such connection file")
            check_file_safe(given)
            return given.resolve()
        for candidate in (rdir / name_or_fragment, rdir / f"{name_or_fragment}.json"):
            if candidate.is_file():
                check_file_safe(candidate)
                return candidate
        matches = [p for p in rdir.glob("kernel-*.json") if name_or_fragment in p.name]
        what = f"matching {name_or_fragment!r}"
    else:
        matches = list(rdir.glob("kernel-*.json"))
        what = "at all"
    if not matches:
        raise ConnectionFileError(f"no connection file {what} in {rdir}")
    matches.sort(key=lambda p: p.stat().st_mtime, reverse=True)
    newest = matches[0]
    check_file_safe(newest)
    return newest


# -- which process a file belongs to ----------------------------------------
#
# A kernel killed with SIGKILL cannot remove its connection file, and neither
# can a launcher killed the same way. So the file names the kernel's process,
# and the next KernelManager start removes files whose process is provably
# gone. "Provably" is the point: a pid means nothing on another machine
# sharing the home directory, in another pid namespace, or after a reboot, so
# the record says where the pid lives, and files without a record (written by
# other tools) are never touched.

#: The extra connection-file field holding the kernel's process record.
#: Jupyter's loaders ignore fields they do not know.
PROCESS_FIELD = "kernel_process"
#: Where a manager wrote the file, on the kernel's machine: a client using a
#: copy elsewhere (through ssh) reads the original again after a restart
#: changed the key.
PATH_FIELD = "connection_file_path"


def _read_text(path: str) -> str:
    try:
        with open(path, encoding="ascii") as f:
            return f.read().strip()
    except (OSError, UnicodeDecodeError):
        return ""


def host_identity() -> dict:
    """What a pid is relative to: this machine, this boot, this pid namespace."""
    try:
        pid_ns = os.readlink("/proc/self/ns/pid")
    except OSError:
        pid_ns = ""
    return {"host": socket.gethostname(), "boot_id": _read_text("/proc/sys/kernel/random/boot_id"),
            "pid_ns": pid_ns}


def _start_time(pid: int) -> str | None:
    """When ``pid`` started (clock ticks after boot), None if it is gone or
    a zombie; "" where /proc cannot tell."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()
    except FileNotFoundError:
        return None
    except OSError:
        return ""
    if fields[0] in (b"Z", b"X"):
        return None
    return fields[19].decode()  # starttime is field 22 of stat(5)


def process_record(pid: int) -> dict:
    """The record for ``pid``, to store under PROCESS_FIELD."""
    return {"pid": pid, "start_time": _start_time(pid) or "", **host_identity()}


def process_is_gone(record: Any) -> bool:
    """True only if the recorded process has certainly exited.

    Anything unclear (no record, another machine or namespace, a record we
    cannot read) counts as alive: a stale file costs little, deleting the
    file of a live kernel costs its user the kernel.
    """
    if not isinstance(record, dict):
        return False
    pid = record.get("pid")
    if not isinstance(pid, int) or isinstance(pid, bool) or pid <= 0:
        return False
    here = host_identity()
    if any(record.get(k) != here[k] for k in here) or not here["boot_id"]:
        return False
    now = _start_time(pid)
    if now is None:
        return True
    recorded = record.get("start_time")
    return bool(now and recorded and now != recorded)  # the pid was reused


def sweep_stale_connection_files(runtime_dir: Path | str | None = None) -> list:
    """Remove ``kernel-*.json`` files in the runtime directory whose kernel
    process is provably gone (see :func:`process_is_gone`); returns them."""
    rdir = Path(runtime_dir) if runtime_dir is not None else jupyter_runtime_dir(create=False)
    removed = []
    try:
        candidates = list(rdir.glob("kernel-*.json"))
    except OSError:
        return removed
    for path in candidates:
        try:
            if path.is_symlink() or path.stat().st_uid != os.getuid():
                continue
            with open(path, encoding="utf-8") as f:
                data = json.load(f)
        except (OSError, ValueError):
            continue
        if isinstance(data, dict) and process_is_gone(data.get(PROCESS_FIELD)):
            try:
                path.unlink()
            except OSError:
                continue
            removed.append(path)
    return removed


# -- ports ----------------------------------------------------------------

def pick_free_ports(count: int = len(CHANNELS), ip: str = LOCALHOST) -> list:
    """Ports that were free a moment ago. Whoever binds them must still
    handle losing the race (the kernel exits with EXIT_PORTS_TAKEN)."""
    family = socket.AF_INET6 if ":" in ip else socket.AF_INET
    socks, ports = [], []
    try:
        for _ in range(count):
            s = socket.socket(family, socket.SOCK_STREAM)
            s.bind((ip, 0))
            socks.append(s)
            ports.append(s.getsockname()[1])
    finally:
        for s in socks:
            s.close()
    return ports


def new_connection_info(ip: str = LOCALHOST, kernel_name: str = "", transport: str = "tcp") -> ConnectionInfo:
    ports = pick_free_ports(len(CHANNELS), ip) if transport == "tcp" else list(range(1, len(CHANNELS) + 1))
    return ConnectionInfo(ip=ip, transport=transport, key=new_key(), kernel_name=kernel_name, **dict(zip(PORT_FIELDS, ports)))
