"""Why Qt would fail to open a window on X11, found out before Qt aborts.

When Qt's xcb platform plugin cannot be loaded, Qt prints a paragraph about
plugins and calls abort(): the user sees a core dump, not the cause. The
usual cause with PyQt5 wheels is a system library the plugin links to that
the machine lacks (libxcb-icccm4, libxkbcommon-x11-0...). So before creating
the QApplication, the console asks the dynamic linker (``ldd``) what the
plugin would fail to find, and says in one message which libraries are
missing and the package-manager command that installs them. It also checks
that an X server answers at $DISPLAY.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
from pathlib import Path
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

PLUGIN_FILE = "libqxcb.so"

#: soname -> package, per package manager (Debian/Ubuntu, Fedora/RHEL, Arch, openSUSE)
PACKAGES: Dict[str, Dict[str, str]] = {
    "libxcb-icccm.so.4": {"apt": "libxcb-icccm4", "dnf": "xcb-util-wm", "pacman": "xcb-util-wm",
                          "zypper": "libxcb-icccm4"},
    "libxcb-image.so.0": {"apt": "libxcb-image0", "dnf": "xcb-util-image", "pacman": "xcb-util-image",
                          "zypper": "libxcb-image0"},
    "libxcb-keysyms.so.1": {"apt": "libxcb-keysyms1", "dnf": "xcb-util-keysyms", "pacman": "xcb-util-keysyms",
                            "zypper": "libxcb-keysyms1"},
    "libxcb-render-util.so.0": {"apt": "libxcb-render-util0", "dnf": "xcb-util-renderutil",
                                "pacman": "xcb-util-renderutil", "zypper": "libxcb-render-util0"},
    "libxcb-xinerama.so.0": {"apt": "libxcb-xinerama0", "dnf": "libxcb", "pacman": "libxcb",
                             "zypper": "libxcb-xinerama0"},
    "libxcb-randr.so.0": {"apt": "libxcb-randr0", "dnf": "libxcb", "pacman": "libxcb", "zypper": "libxcb-randr0"},
    "libxcb-shape.so.0": {"apt": "libxcb-shape0", "dnf": "libxcb", "pacman": "libxcb", "zypper": "libxcb-shape0"},
    "libxcb-xfixes.so.0": {"apt": "libxcb-xfixes0", "dnf": "libxcb", "pacman": "libxcb",
                           "zypper": "libxcb-xfixes0"},
    "libxcb-xkb.so.1": {"apt": "libxcb-xkb1", "dnf": "libxcb", "pacman": "libxcb", "zypper": "libxcb-xkb1"},
    "libxcb-shm.so.0": {"apt": "libxcb-shm0", "dnf": "libxcb", "pacman": "libxcb", "zypper": "libxcb-shm0"},
    "libxcb-sync.so.1": {"apt": "libxcb-sync1", "dnf": "libxcb", "pacman": "libxcb", "zypper": "libxcb-sync1"},
    "libxcb-render.so.0": {"apt": "libxcb-render0", "dnf": "libxcb", "pacman": "libxcb",
                           "zypper": "libxcb-render0"},
    "libxcb-xinput.so.0": {"apt": "libxcb-xinput0", "dnf": "libxcb", "pacman": "libxcb",
                           "zypper": "libxcb-xinput0"},
    "libxcb-util.so.1": {"apt": "libxcb-util1", "dnf": "xcb-util", "pacman": "xcb-util", "zypper": "libxcb-util1"},
    "libxcb-cursor.so.0": {"apt": "libxcb-cursor0", "dnf": "xcb-util-cursor", "pacman": "xcb-util-cursor",
                           "zypper": "libxcb-cursor0"},
    "libxcb.so.1": {"apt": "libxcb1", "dnf": "libxcb", "pacman": "libxcb", "zypper": "libxcb1"},
    "libxkbcommon-x11.so.0": {"apt": "libxkbcommon-x11-0", "dnf": "libxkbcommon-x11",
                              "pacman": "libxkbcommon-x11", "zypper": "libxkbcommon-x11-0"},
    "libxkbcommon.so.0": {"apt": "libxkbcommon0", "dnf": "libxkbcommon", "pacman": "libxkbcommon",
                          "zypper": "libxkbcommon0"},
    "libX11-xcb.so.1": {"apt": "libx11-xcb1", "dnf": "libX11-xcb", "pacman": "libx11", "zypper": "libX11-xcb1"},
    "libX11.so.6": {"apt": "libx11-6", "dnf": "libX11", "pacman": "libx11", "zypper": "libX11-6"},
    "libXext.so.6": {"apt": "libxext6", "dnf": "libXext", "pacman": "libxext", "zypper": "libXext6"},
    "libSM.so.6": {"apt": "libsm6", "dnf": "libSM", "pacman": "libsm", "zypper": "libSM6"},
    "libICE.so.6": {"apt": "libice6", "dnf": "libICE", "pacman": "libice", "zypper": "libICE6"},
    "libfontconfig.so.1": {"apt": "libfontconfig1", "dnf": "fontconfig", "pacman": "fontconfig",
                           "zypper": "libfontconfig1"},
    "libfreetype.so.6": {"apt": "libfreetype6", "dnf": "freetype", "pacman": "freetype2",
                         "zypper": "libfreetype6"},
    "libGL.so.1": {"apt": "libgl1", "dnf": "libglvnd-glx", "pacman": "libglvnd", "zypper": "libGL1"},
    "libEGL.so.1": {"apt": "libegl1", "dnf": "libglvnd-egl", "pacman": "libglvnd", "zypper": "libEGL1"},
    "libdbus-1.so.3": {"apt": "libdbus-1-3", "dnf": "dbus-libs", "pacman": "dbus", "zypper": "libdbus-1-3"},
    "libglib-2.0.so.0": {"apt": "libglib2.0-0", "dnf": "glib2", "pacman": "glib2", "zypper": "libglib-2_0-0"},
    "libgthread-2.0.so.0": {"apt": "libglib2.0-0", "dnf": "glib2", "pacman": "glib2",
                            "zypper": "libgthread-2_0-0"},
}

#: package manager -> (command that installs, how to find the package of an unknown file)
MANAGERS: Dict[str, Tuple[str, str]] = {
    "apt": ("apt-get install", "apt-file search {lib}"),
    "dnf": ("dnf install", "dnf provides '*/{lib}'"),
    "pacman": ("pacman -S", "pacman -F {lib}"),
    "zypper": ("zypper install", "zypper search --provides {lib}"),
}
#: /etc/os-release ID or ID_LIKE word -> package manager
OS_FAMILIES = {
    "debian": "apt", "ubuntu": "apt", "linuxmint": "apt", "pop": "apt", "raspbian": "apt",
    "fedora": "dnf", "rhel": "dnf", "centos": "dnf", "rocky": "dnf", "almalinux": "dnf",
    "arch": "pacman", "manjaro": "pacman", "endeavouros": "pacman",
    "opensuse": "zypper", "suse": "zypper", "sles": "zypper", "opensuse-leap": "zypper",
    "opensuse-tumbleweed": "zypper",
}
#: package manager -> its program, when /etc/os-release says nothing we know
MANAGER_PROGRAMS = {"apt": "apt-get", "dnf": "dnf", "pacman": "pacman", "zypper": "zypper"}

_NOT_FOUND = re.compile(r"^\s*(\S+)\s+=>\s+not found\s*$")
_DLOPEN_MISSING = re.compile(r"(\S+\.so[.\d]*): cannot open shared object file")


def requested_platform(env: Mapping[str, str]) -> str:
    """The platform plugin Qt will try first ("" means its default: xcb on Linux)."""
    return env.get("QT_QPA_PLATFORM", "").split(";", 1)[0].split(":", 1)[0].strip()


def uses_xcb(env: Mapping[str, str], platform: str = sys.platform) -> bool:
    if not platform.startswith("linux") and "bsd" not in platform:
        return False
    requested = requested_platform(env)
    if requested == "" and _session_picks_wayland(env):
        return False
    return requested == "xcb" or (requested == "" and bool(env.get("DISPLAY")))


def _session_picks_wayland(env: Mapping[str, str]) -> bool:
    """Qt 5 follows XDG_SESSION_TYPE=wayland (except on GNOME, where it keeps X11)."""
    if env.get("XDG_SESSION_TYPE", "").lower() != "wayland" or not env.get("WAYLAND_DISPLAY"):
        return False
    desktops = (env.get("XDG_CURRENT_DESKTOP", "") + ":" + env.get("XDG_SESSION_DESKTOP", "")).lower()
    return "gnome" not in desktops


def plugin_dirs(env: Mapping[str, str]) -> List[Path]:
    """Where Qt looks for platform plugins, in its order."""
    dirs = [Path(p) for p in env.get("QT_QPA_PLATFORM_PLUGIN_PATH", "").split(os.pathsep) if p]
    dirs += [Path(p) / "platforms" for p in env.get("QT_PLUGIN_PATH", "").split(os.pathsep) if p]
    try:
        from PyQt5.QtCore import QLibraryInfo

        dirs.append(Path(QLibraryInfo.location(QLibraryInfo.PluginsPath)) / "platforms")
    except ImportError:  # pragma: no cover - PyQt5 is a dependency
        pass
    return dirs


def find_xcb_plugin(env: Mapping[str, str]) -> Optional[Path]:
    for directory in plugin_dirs(env):
        candidate = directory / PLUGIN_FILE
        if candidate.is_file():
            return candidate
    return None


def missing_libraries(library: Path, ldd: Optional[str] = None) -> List[str]:
    """Shared libraries ``library`` needs that the dynamic linker cannot find.

    ``ldd`` lists every one (and follows the library's RUNPATH); without it,
    loading the library in a child process names the first one missing.
    """
    ldd = ldd if ldd is not None else shutil.which("ldd")
    if ldd:
        try:
            out = subprocess.run([ldd, str(library)], capture_output=True, text=True, timeout=30,
                                 env={**os.environ, "LC_ALL": "C"})
        except (OSError, subprocess.TimeoutExpired):
            pass
        else:
            return list(dict.fromkeys(m.group(1) for m in map(_NOT_FOUND.match, out.stdout.splitlines()) if m))
    return _first_missing_by_loading(library)


def _first_missing_by_loading(library: Path) -> List[str]:
    code = "import ctypes, sys; ctypes.CDLL(sys.argv[1])"
    try:
        out = subprocess.run([sys.executable, "-c", code, str(library)], capture_output=True, text=True,
                             timeout=30, env={**os.environ, "LC_ALL": "C"})
    except (OSError, subprocess.TimeoutExpired):
        return []
    found = _DLOPEN_MISSING.search(out.stderr)
    return [found.group(1)] if out.returncode != 0 and found else []


def package_manager(os_release: Optional[str] = None, which=shutil.which) -> Optional[str]:
    """apt, dnf, pacman or zypper: from /etc/os-release, else from the programs present."""
    if os_release is None:
        for path in ("/etc/os-release", "/usr/lib/os-release"):
            try:
                os_release = Path(path).read_text(encoding="utf-8", errors="replace")
                break
            except OSError:
                continue
    words: List[str] = []
    for line in (os_release or "").splitlines():
        key, _, value = line.partition("=")
        if key.strip() in ("ID", "ID_LIKE"):
            words += value.strip().strip("\"'").lower().split()
    for word in words:
        if word in OS_FAMILIES:
            return OS_FAMILIES[word]
    for manager, program in MANAGER_PROGRAMS.items():
        if which(program):
            return manager
    return None


def install_advice(missing: Sequence[str], manager: Optional[str], as_root: bool) -> str:
    """The command that installs the packages holding ``missing`` (and how to find the rest)."""
    if manager is None:
        return "install them with your system's package manager"
    command, search = MANAGERS[manager]
    packages = list(dict.fromkeys(PACKAGES[lib][manager] for lib in missing if lib in PACKAGES))
    unknown = [lib for lib in missing if lib not in PACKAGES]
    sudo = "" if as_root else "sudo "
    parts = []
    if packages:
        parts.append(f"install them with: {sudo}{command} {' '.join(packages)}")
    if unknown:
        finds = "; ".join(search.format(lib=lib) for lib in unknown)
        parts.append(f"find the package{'s' if len(unknown) > 1 else ''} of "
                     f"{', '.join(unknown)} with: {finds}")
    return "; ".join(parts)


def xcb_problem(env: Mapping[str, str] = os.environ, *, ldd: Optional[str] = None,
                os_release: Optional[str] = None, as_root: Optional[bool] = None) -> Optional[str]:
    """One line saying why the xcb plugin cannot load, or None when it can (or is not used)."""
    if not uses_xcb(env):
        return None
    plugin = find_xcb_plugin(env)
    if plugin is None:
        where = ", ".join(str(d) for d in plugin_dirs(env)) or "any plugin folder"
        return (f"qtapp: cannot open a window: Qt's X11 platform plugin ({PLUGIN_FILE}) is not in {where}; "
                "reinstall PyQt5 (pip install --force-reinstall PyQt5)")
    missing = missing_libraries(plugin, ldd)
    if not missing:
        return None
    as_root = os.geteuid() == 0 if as_root is None else as_root
    advice = install_advice(missing, package_manager(os_release), as_root)
    return (f"qtapp: cannot open a window: Qt's X11 platform plugin needs system libraries that are not "
            f"installed: {', '.join(missing)}; {advice}")


def _x_socket_number(display: str) -> Optional[int]:
    """The display number of a local X display (":1", "unix:1.0"); None for remote ones."""
    m = re.fullmatch(r"(unix)?:(\d+)(\.\d+)?", display.strip())
    return int(m.group(2)) if m else None


def x_server_problem(env: Mapping[str, str] = os.environ, socket_dir: str = "/tmp/.X11-unix") -> Optional[str]:
    """One line when $DISPLAY names a local X display where no server listens."""
    if not uses_xcb(env):
        return None
    display = env.get("DISPLAY", "")
    number = _x_socket_number(display)
    if number is None:
        return None  # remote or unusual displays: Qt will say what goes wrong
    path = f"{socket_dir}/X{number}"
    for address in ("\0" + path, path):  # Linux X servers also listen on the abstract name
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(5)
            try:
                s.connect(address)
                return None
            except OSError:
                continue
    return (f"qtapp: cannot open a window: no X server answers at DISPLAY={display} (nothing listens on {path}); "
            "check DISPLAY, or run it under a virtual display: xvfb-run qtapp")


def window_system_problem(env: Mapping[str, str] = os.environ) -> Optional[str]:
    """The first reason Qt could not open a window here, as one line; None when it should work."""
    return x_server_problem(env) or xcb_problem(env)
