"""Start-up failures of the window system, found before Qt aborts: an xcb plugin
whose system libraries are missing (tested with a real copy of Qt's plugin
that needs a library no system has), and a DISPLAY where no X server is."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from desktop_helpers import display_env, real_window_unavailable
from qtapp.__main__ import NO_DISPLAY_EXIT
from qtapp.platformcheck import (PACKAGES, find_xcb_plugin, install_advice, missing_libraries, package_manager,
                                 uses_xcb, x_server_problem, xcb_problem)
from xvfb import XVFB, xvfb_display

#: same length as the name it replaces in the plugin's dynamic string table
ABSENT = "libqtappgone.so.4"
REPLACED = "libxcb-icccm.so.4"


@pytest.fixture(scope="module")
def broken_plugin_dir(tmp_path_factory) -> Path:
    """platforms/libqxcb.so needing ABSENT instead of libxcb-icccm.so.4 (a real ELF file)."""
    plugin = find_xcb_plugin({})
    if plugin is None:
        pytest.skip("Qt's xcb platform plugin is not installed")
    data = plugin.read_bytes()
    needle = REPLACED.encode() + b"\0"
    if data.count(needle) != 1:
        pytest.skip(f"this build of the xcb plugin does not link {REPLACED} directly")
    root = tmp_path_factory.mktemp("qt")
    platforms = root / "plugins" / "platforms"
    platforms.mkdir(parents=True)
    (platforms / "libqxcb.so").write_bytes(data.replace(needle, ABSENT.encode() + b"\0"))
    (root / "lib").symlink_to(plugin.parent.parent.parent / "lib")  # its RUNPATH is $ORIGIN/../../lib
    return platforms


def test_ldd_names_a_library_that_cannot_be_found(broken_plugin_dir):
    assert missing_libraries(broken_plugin_dir / "libqxcb.so") == [ABSENT]


def test_without_ldd_loading_the_plugin_names_the_missing_library(broken_plugin_dir):
    assert missing_libraries(broken_plugin_dir / "libqxcb.so", ldd="") == [ABSENT]


def test_the_installed_plugin_has_everything_it_needs():
    reason = real_window_unavailable()
    if reason.startswith("Qt's xcb plugin lacks"):
        pytest.skip(reason)
    plugin = find_xcb_plugin({})
    assert plugin is not None and missing_libraries(plugin) == []


def test_the_problem_is_one_line_with_the_libraries_and_how_to_install_them(broken_plugin_dir):
    env = {"DISPLAY": ":0", "QT_QPA_PLATFORM_PLUGIN_PATH": str(broken_plugin_dir)}
    debian = 'ID=debian\nPRETTY_NAME="Debian GNU/Linux 12"\n'
    line = xcb_problem(env, os_release=debian, as_root=False)
    assert "\n" not in line
    assert line.startswith("qtapp: cannot open a window: Qt's X11 platform plugin needs system libraries")
    assert f"not installed: {ABSENT};" in line and f"with: apt-file search {ABSENT}" in line


def test_advice_names_the_packages_for_each_package_manager():
    missing = ["libxcb-icccm.so.4", "libxkbcommon-x11.so.0", "libxcb-xinerama.so.0"]
    assert install_advice(missing, "apt", as_root=False) == (
        "install them with: sudo apt-get install libxcb-icccm4 libxkbcommon-x11-0 libxcb-xinerama0")
    assert install_advice(missing, "apt", as_root=True).startswith("install them with: apt-get install ")
    assert install_advice(missing, "dnf", as_root=False) == (
        "install them with: sudo dnf install xcb-util-wm libxkbcommon-x11 libxcb")
    assert install_advice(missing, "pacman", as_root=False) == (
        "install them with: sudo pacman -S xcb-util-wm libxkbcommon-x11 libxcb")
    assert install_advice(missing, "zypper", as_root=False) == (
        "install them with: sudo zypper install libxcb-icccm4 libxkbcommon-x11-0 libxcb-xinerama0")
    assert install_advice(["libxcb-icccm.so.4", ABSENT], "dnf", as_root=True) == (
        f"install them with: dnf install xcb-util-wm; find the package of {ABSENT} with: "
        f"dnf provides '*/{ABSENT}'")
    assert install_advice(missing, None, as_root=False) == "install them with your system's package manager"
    assert all(set(p) == {"apt", "dnf", "pacman", "zypper"} for p in PACKAGES.values())


@pytest.mark.parametrize("os_release, manager", [
    ('NAME="Ubuntu"\nID=ubuntu\nID_LIKE=debian\n', "apt"),
    ("ID=linuxmint\nID_LIKE=\"ubuntu debian\"\n", "apt"),
    ('ID="fedora"\n', "dnf"),
    ('ID="rocky"\nID_LIKE="rhel centos fedora"\n', "dnf"),
    ("ID=arch\n", "pacman"),
    ('ID="opensuse-tumbleweed"\nID_LIKE="opensuse suse"\n', "zypper"),
])
def test_the_package_manager_comes_from_os_release(os_release, manager):
    assert package_manager(os_release, which=lambda name: None) == manager


def test_an_unknown_system_is_recognised_by_its_programs():
    assert package_manager("ID=weird\n", which=lambda name: "/usr/bin/zypper" if name == "zypper" else None) == "zypper"
    assert package_manager("ID=weird\n", which=lambda name: None) is None


@pytest.mark.parametrize("env, xcb", [
    ({"DISPLAY": ":0"}, True),
    ({}, False),
    ({"QT_QPA_PLATFORM": "xcb"}, True),
    ({"QT_QPA_PLATFORM": "xcb:nograb", "DISPLAY": ":1"}, True),
    ({"QT_QPA_PLATFORM": "offscreen", "DISPLAY": ":0"}, False),
    ({"QT_QPA_PLATFORM": "wayland", "DISPLAY": ":0"}, False),
    ({"DISPLAY": ":0", "WAYLAND_DISPLAY": "w", "XDG_SESSION_TYPE": "wayland", "XDG_CURRENT_DESKTOP": "KDE"}, False),
    ({"DISPLAY": ":0", "WAYLAND_DISPLAY": "w", "XDG_SESSION_TYPE": "wayland", "XDG_CURRENT_DESKTOP": "GNOME"}, True),
])
def test_the_check_runs_only_where_qt_would_use_xcb(env, xcb):
    assert uses_xcb(env, "linux") is xcb
    assert uses_xcb({"DISPLAY": ":0"}, "darwin") is False


def _free_display_number() -> int:
    """A display number no X server uses (checked the way the console checks)."""
    for number in range(6123, 6200):
        if x_server_problem({"DISPLAY": f":{number}"}) is not None:
            return number
    raise AssertionError("no free display number")


def test_a_display_without_an_x_server_is_one_clear_line():
    number = _free_display_number()
    env = {k: v for k, v in os.environ.items() if k not in ("QT_QPA_PLATFORM", "WAYLAND_DISPLAY")}
    env["DISPLAY"] = f":{number}"
    out = subprocess.run([sys.executable, "-m", "qtapp"], capture_output=True, text=True, env=env, timeout=60)
    assert out.returncode == NO_DISPLAY_EXIT and out.stdout == ""
    assert out.stderr.strip().splitlines() == [
        f"qtapp: cannot open a window: no X server answers at DISPLAY=:{number} "
        f"(nothing listens on /tmp/.X11-unix/X{number}); check DISPLAY, or run it under a virtual display: "
        "xvfb-run qtapp"]
    assert x_server_problem({"DISPLAY": "remote.example:0"}) is None  # not guessed at


@pytest.mark.skipif(XVFB is None, reason="Xvfb is not installed (apt-get install xvfb)")
def test_missing_libraries_stop_qtapp_before_qt_with_one_line(broken_plugin_dir):
    """The real application, on a real X server, with Qt's plugin path pointing at the plugin
    that needs a library no system has: one line, no abort, no core dump."""
    with xvfb_display() as display:
        assert x_server_problem({"DISPLAY": display}) is None
        env = display_env(display, QT_QPA_PLATFORM_PLUGIN_PATH=str(broken_plugin_dir))
        out = subprocess.run([sys.executable, "-m", "qtapp"], capture_output=True, text=True, env=env, timeout=60)
    assert out.returncode == NO_DISPLAY_EXIT, out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1, out.stderr
    assert ABSENT in lines[0]
    manager = package_manager()
    if manager == "apt":
        assert f"apt-file search {ABSENT}" in lines[0]
    assert "core dumped" not in out.stderr and "Aborted" not in out.stderr
