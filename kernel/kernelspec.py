"""Kernelspecs: finding installed Jupyter kernels and installing our own.

A kernelspec is a directory ``kernels/<name>/`` in one of the Jupyter data
paths holding ``kernel.json`` (``argv`` with ``{connection_file}``,
``display_name``, ``language``, optional ``env`` and ``interrupt_mode``).
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from .connect import jupyter_data_dir, jupyter_path

OWN_NAME = "qtapp"
#: Our kernel reports "bound" or "ports-taken" on the pipe this names, so
#: a launcher knows when the sockets are listening (see KernelManager).
READY_FD_ENV = "QTAPP_KERNEL_READY_FD"


class NoSuchKernel(LookupError):
    pass


@dataclass
class KernelSpec:
    name: str
    argv: list
    display_name: str = ""
    language: str = ""
    interrupt_mode: str = "signal"
    env: dict = field(default_factory=dict)
    metadata: dict = field(default_factory=dict)
    resource_dir: Optional[Path] = None

    def to_dict(self) -> dict:
        return {"argv": self.argv, "display_name": self.display_name, "language": self.language,
                "interrupt_mode": self.interrupt_mode, "env": self.env, "metadata": self.metadata}


def own_kernel_argv(python: Optional[str] = None) -> list:
    return [python or sys.executable, "-m", "kernel", "-f", "{connection_file}"]


def own_kernel_spec() -> KernelSpec:
    return KernelSpec(
        name=OWN_NAME,
        argv=own_kernel_argv(),
        display_name="Python %d (qtapp)" % sys.version_info[0],
        language="python",
        interrupt_mode="signal",
        metadata={"debugger": False},
    )


def find_kernel_specs() -> dict:
    """name -> directory, the first found in Jupyter path order winning."""
    found: dict = {}
    for base in jupyter_path("kernels"):
        if not base.is_dir():
            continue
        for d in sorted(base.iterdir()):
            if d.name not in found and (d / "kernel.json").is_file():
                found[d.name] = d
    return found


def get_kernel_spec(name: str) -> KernelSpec:
    specs = find_kernel_specs()
    if name not in specs:
        if name == OWN_NAME:
            return own_kernel_spec()
        known = ", ".join(sorted(specs)) or "none"
        raise NoSuchKernel(f"no kernel named {name!r} is installed (installed: {known})")
    path = specs[name] / "kernel.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise NoSuchKernel(f"{path}: unreadable kernelspec ({exc})") from None
    argv = data.get("argv")
    if not isinstance(argv, list) or not argv or not all(isinstance(a, str) for a in argv):
        raise NoSuchKernel(f"{path}: 'argv' must be a non-empty list of strings")
    return KernelSpec(
        name=name,
        argv=argv,
        display_name=data.get("display_name", name),
        language=data.get("language", ""),
        interrupt_mode=data.get("interrupt_mode", "signal"),
        env=data.get("env") or {},
        metadata=data.get("metadata") or {},
        resource_dir=specs[name],
    )


def install_own_kernel_spec(user: bool = True, prefix: Optional[str] = None,
                            name: str = OWN_NAME, display_name: Optional[str] = None) -> Path:
    """Write our kernelspec so Jupyter tools can launch this kernel."""
    if prefix:
        base = Path(prefix) / "share" / "jupyter" / "kernels"
    elif user:
        base = jupyter_data_dir() / "kernels"
    else:
        base = Path(sys.prefix) / "share" / "jupyter" / "kernels"
    dest = base / name
    dest.mkdir(parents=True, exist_ok=True)
    spec = own_kernel_spec()
    if display_name:
        spec.display_name = display_name
    (dest / "kernel.json").write_text(json.dumps(spec.to_dict(), indent=1) + "\n", encoding="utf-8")
    # The logos are package data of qtapp (installed beside this package), so
    # they are found in a source tree and in an installed wheel alike.
    resources = Path(__file__).resolve().parent.parent / "qtapp" / "resources"
    for name in ("logo-32x32.png", "logo-64x64.png"):
        logo = resources / name
        if logo.is_file():
            (dest / name).write_bytes(logo.read_bytes())
    return dest
