"""The desktop entry and icon: Exec quoting, install/uninstall into an XDG data
directory, the packaged icons, the window's identity, and launching the
installed entry on a real X server."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PyQt5.QtCore import QSize
from PyQt5.QtGui import QImage

from desktop_helpers import AppProcess, display_env, real_window_unavailable, xprop
from helpers import kernel_processes
from kernel._version import __version__
from qtapp import desktop
from qtapp.desktop import DesktopEntryError, DesktopFiles, exec_quote, exec_split, parse_entry, render_entry
from qtapp.icons import ICON_SIZES, KERNEL_LOGO_SIZES, SVG_PATH, kernel_logo_path, png_path, render
from xvfb import xvfb_display

ROOT = Path(__file__).resolve().parent.parent


# -- Exec quoting --------------------------------------------------------------------------------------
@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(st.characters(blacklist_characters="\0", blacklist_categories=("Cs",))), min_size=1,
                max_size=5))
def test_exec_quoting_round_trips_any_arguments(argv):
    assert exec_split(exec_quote(argv)) == argv


@pytest.mark.parametrize("argv, value", [
    (["/usr/bin/python3", "-m", "qtapp"], "/usr/bin/python3 -m qtapp"),
    (["/opt/My Apps/bin/qtapp"], '"/opt/My Apps/bin/qtapp"'),
    (["/home/a$b/qtapp"], '"/home/a\\\\$b/qtapp"'),  # \$ inside quotes, its backslash escaped again
    (["qtapp", "100%"], "qtapp 100%%"),
    (["qtapp", ""], 'qtapp ""'),
])
def test_exec_values_follow_the_specification(argv, value):
    assert exec_quote(argv) == value
    assert exec_split(value) == argv


def test_field_codes_expand_or_vanish_and_bad_values_are_refused():
    assert exec_split("qtapp %U", files=["a.py", "b.py"]) == ["qtapp", "a.py", "b.py"]
    assert exec_split("qtapp %f --x %i %c") == ["qtapp", "--x"]
    with pytest.raises(DesktopEntryError, match="unterminated quote"):
        exec_split('"qtapp')
    with pytest.raises(DesktopEntryError, match="unknown field code %z"):
        exec_split("qtapp %z")


def test_rendering_points_every_exec_at_the_launcher_and_keeps_template_arguments():
    template = (ROOT / "resources" / "qtapp.desktop").read_text()
    entry = parse_entry(render_entry(template, ["/opt/x y/qtapp"]))
    main = entry["Desktop Entry"]
    assert exec_split(main["Exec"]) == ["/opt/x y/qtapp"]
    assert main["TryExec"] == "/opt/x y/qtapp"
    assert exec_split(entry["Desktop Action attach"]["Exec"]) == ["/opt/x y/qtapp", "--existing"]


# -- install / uninstall -------------------------------------------------------------------------------
def test_install_writes_the_entry_and_hicolor_icons_and_uninstall_removes_them(tmp_path):
    argv = [sys.executable, "-m", "qtapp"]
    written = desktop.install(tmp_path, argv)
    files = DesktopFiles(tmp_path)
    assert files.entry == tmp_path / "applications" / "qtapp.desktop"
    assert set(written) == {files.entry, *files.icons()}
    main = parse_entry(files.entry.read_text())["Desktop Entry"]
    assert main["Type"] == "Application" and main["Name"] == "qtapp" and main["Terminal"] == "false"
    assert main["Icon"] == "qtapp" and main["StartupWMClass"] == "qtapp"
    assert "Development" in main["Categories"].split(";")
    assert exec_split(main["Exec"]) == argv
    for size in ICON_SIZES:
        installed = tmp_path / "icons" / "hicolor" / f"{size}x{size}" / "apps" / "qtapp.png"
        assert installed.read_bytes() == png_path(size).read_bytes()
        assert QImage(str(installed)).size() == QSize(size, size)
    assert (tmp_path / "icons/hicolor/scalable/apps/qtapp.svg").read_bytes() == SVG_PATH.read_bytes()
    assert oct(files.entry.stat().st_mode & 0o777) == "0o644"
    if shutil.which("desktop-file-validate"):
        check = subprocess.run(["desktop-file-validate", str(files.entry)], capture_output=True, text=True)
        assert check.returncode == 0 and not check.stdout.strip(), check.stdout + check.stderr

    removed = desktop.uninstall(tmp_path)
    assert set(removed) == set(written)
    assert not files.entry.exists() and not any(p.exists() for p in files.icons())
    assert desktop.uninstall(tmp_path) == []


def test_data_home_follows_xdg_rules(tmp_path):
    assert desktop.data_home({"XDG_DATA_HOME": str(tmp_path), "HOME": "/h"}) == tmp_path
    assert desktop.data_home({"XDG_DATA_HOME": "relative/dir", "HOME": "/h"}) == Path("/h/.local/share")
    assert desktop.data_home({"HOME": "/h"}) == Path("/h/.local/share")


def test_install_desktop_option_writes_an_entry_whose_exec_runs_qtapp(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env["XDG_DATA_HOME"] = str(tmp_path)
    out = subprocess.run([sys.executable, "-m", "qtapp", "--install-desktop"], capture_output=True, text=True,
                         env=env, timeout=60)
    assert out.returncode == 0, out.stderr
    entry = tmp_path / "applications" / "qtapp.desktop"
    assert str(entry) in out.stdout
    argv = exec_split(parse_entry(entry.read_text())["Desktop Entry"]["Exec"])
    assert os.path.isabs(argv[0]) and os.access(argv[0], os.X_OK)
    version = subprocess.run(argv + ["--version"], capture_output=True, text=True, env=env, timeout=60)
    assert version.returncode == 0 and version.stdout.splitlines()[0] == f"qtapp {__version__}"

    out = subprocess.run([sys.executable, "-m", "qtapp", "--uninstall-desktop"], capture_output=True, text=True,
                         env=env, timeout=60)
    assert out.returncode == 0 and f"removed {entry}" in out.stdout and not entry.exists()
    out = subprocess.run([sys.executable, "-m", "qtapp", "--uninstall-desktop"], capture_output=True, text=True,
                         env=env, timeout=60)
    assert out.returncode == 0 and "was not installed" in out.stdout


# -- icons ---------------------------------------------------------------------------------------------
def test_committed_pngs_are_the_svg_rendered_at_each_size():
    """`make icons` was run after the SVG last changed."""
    for size, path in [(s, png_path(s)) for s in ICON_SIZES] + [(s, kernel_logo_path(s)) for s in KERNEL_LOGO_SIZES]:
        committed = QImage(str(path)).convertToFormat(QImage.Format_ARGB32)
        fresh = render(size)
        assert committed.size() == fresh.size() == QSize(size, size), path
        diff = sum(abs(committed.pixelColor(x, y).rgba() - fresh.pixelColor(x, y).rgba()) > 0x04040404
                   for x in range(size) for y in range(0, size, max(1, size // 64)))
        assert diff <= size * size // 100, f"{path} differs from the SVG: make icons"
        assert committed.pixelColor(0, 0).alpha() == 0  # transparent corners
        assert committed.pixelColor(size // 2, size // 4).alpha() == 255  # the opaque face


def test_the_application_has_the_icon_and_a_stable_identity(qapp):
    from qtapp.__main__ import identify_application

    app = qapp
    before = (app.applicationName(), app.organizationName(), app.applicationDisplayName(), app.desktopFileName())
    try:
        identify_application(app)
        assert app.applicationName() == "qtapp" and app.desktopFileName() == "qtapp"
        sizes = {s.width() for s in app.windowIcon().availableSizes()}
        assert set(ICON_SIZES) <= sizes
    finally:
        app.setApplicationName(before[0])
        app.setOrganizationName(before[1])
        app.setApplicationDisplayName(before[2])
        app.setDesktopFileName(before[3])


def test_kernel_install_carries_the_logos(tmp_path):
    out = subprocess.run([sys.executable, "-m", "kernel", "install", "--prefix", str(tmp_path), "--name", "mine"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    for size in KERNEL_LOGO_SIZES:
        logo = tmp_path / "share/jupyter/kernels/mine" / f"logo-{size}x{size}.png"
        assert QImage(str(logo)).size() == QSize(size, size)


# -- the installed entry launches the app -------------------------------------------------------------
def test_the_installed_entry_launches_a_window_on_an_x_server(tmp_path, session_dir):
    reason = real_window_unavailable()
    if reason:
        pytest.skip(reason)
    desktop.install(tmp_path / "data")
    main = parse_entry((tmp_path / "data/applications/qtapp.desktop").read_text())["Desktop Entry"]
    argv = exec_split(main["Exec"])
    before = set(kernel_processes(session_dir))
    with xvfb_display() as display:
        app = AppProcess(argv + ["--debug"], display_env(display))  # --debug: to see when it is ready
        try:
            app.wait_for_line("console ready: In [1]:")
            connection = app.wait_for_line("kernel connection file:")
            assert str(session_dir / "runtime") in connection
            props = xprop(display, "-name", "qtapp", "WM_CLASS", "_NET_WM_ICON")
            if props is not None:
                assert 'WM_CLASS(STRING) = "qtapp", "qtapp"' in props, props
                assert "_NET_WM_ICON(CARDINAL) =" in props, props[:500]
            assert app.stop() == 0
        finally:
            app.kill()
    assert set(kernel_processes(session_dir)) <= before
