"""Launching: --help, the no-display message, a kernel that fails to start,
a connection file that cannot be found, and the real application in a
virtual X server (what `make run` does on a desktop)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from console_helpers import TIMEOUT_MS
from desktop_helpers import AppProcess, real_window_unavailable
from helpers import kernel_processes
from qtapp.__main__ import NO_DISPLAY_EXIT, build_parser, display_problem
from qtapp.app import ConsoleApp
from qtapp.settings import Preferences, open_settings

ROOT = Path(__file__).resolve().parent.parent


def test_help_documents_every_option():
    out = subprocess.run([sys.executable, "-m", "qtapp", "--help"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0
    for action in build_parser()._actions:
        for flag in action.option_strings:
            assert flag in out.stdout
        if action.option_strings and action.dest != "help":
            assert action.help, f"{action.option_strings} has no help text"


def test_no_display_is_one_line_saying_how_to_fix_it():
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    out = subprocess.run([sys.executable, "-m", "qtapp"], capture_output=True, text=True, env=env, timeout=60)
    assert out.returncode == NO_DISPLAY_EXIT
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1, out.stderr
    assert "DISPLAY" in lines[0] and "xvfb-run" in lines[0]
    assert out.stdout == ""


@pytest.mark.parametrize("env, problem", [
    ({}, True),
    ({"DISPLAY": ":0"}, False),
    ({"WAYLAND_DISPLAY": "wayland-0"}, False),
    ({"QT_QPA_PLATFORM": "offscreen"}, False),
    ({"QT_QPA_PLATFORM": "xcb"}, True),
    ({"QT_QPA_PLATFORM": "xcb", "WAYLAND_DISPLAY": "wayland-0"}, True),
    ({"QT_QPA_PLATFORM": "wayland", "DISPLAY": ":0"}, True),
    ({"QT_QPA_PLATFORM": "wayland", "WAYLAND_DISPLAY": "w"}, False),
])
def test_display_detection(env, problem):
    assert (display_problem(env, "linux") is not None) == problem
    assert display_problem({}, "darwin") is None


def _app(tmp_path, *args):
    options = build_parser().parse_args(["--settings", str(tmp_path / "s.ini"), *args])
    exits = []
    return ConsoleApp(options, Preferences(open_settings(options.settings)), exit=exits.append), exits


def test_a_kernel_that_fails_to_start_shows_a_dialog_and_its_output(qtbot, tmp_path, monkeypatch, capfd):
    spec = tmp_path / "jupyter" / "kernels" / "broken"
    spec.mkdir(parents=True)
    script = "import sys; sys.stderr.write('boom: the kernel cannot start here\\n'); sys.exit(3)"
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-c", script, "{connection_file}"], "display_name": "Broken", "language": "python",
    }))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    app, exits = _app(tmp_path, "--kernel", "broken")
    window = app.open_window()
    qtbot.addWidget(window)
    qtbot.waitUntil(lambda: getattr(window, "error_dialog", None) is not None and window.error_dialog.isVisible(),
                    timeout=TIMEOUT_MS)
    box = window.error_dialog
    assert "exited during start-up (exit code 3)" in box.text()
    assert "boom: the kernel cannot start here" in box.detailedText()
    err = capfd.readouterr().err
    assert "exit code 3" in err and "boom: the kernel cannot start here" in err
    box.accept()
    qtbot.waitUntil(lambda: exits == [1], timeout=TIMEOUT_MS)


def test_attaching_to_a_missing_kernel_explains_why(qtbot, tmp_path, capfd):
    app, exits = _app(tmp_path, "--existing", "no-such-kernel-anywhere")
    assert app.open_window() is None
    box = app.error_dialog
    assert box.isVisible() and "cannot attach to a kernel" in box.text()
    assert "no-such-kernel-anywhere" in box.text()
    assert "cannot attach to a kernel" in capfd.readouterr().err
    box.accept()
    qtbot.waitUntil(lambda: exits == [1], timeout=TIMEOUT_MS)


def test_an_unknown_kernel_name_is_reported(qtbot, tmp_path, capfd):
    app, exits = _app(tmp_path, "--kernel", "no-such-kernelspec")
    assert app.open_window() is None
    assert "no kernel named 'no-such-kernelspec'" in app.error_dialog.text()
    app.error_dialog.accept()
    qtbot.waitUntil(lambda: exits == [1], timeout=TIMEOUT_MS)


def test_the_application_opens_a_ready_window_on_a_display(tmp_path, session_dir):
    """`make run` on a desktop, with Xvfb as the desktop."""
    reason = real_window_unavailable() or ("xvfb-run is not installed" if shutil.which("xvfb-run") is None else "")
    if reason:
        pytest.skip(reason)
    env = {k: v for k, v in os.environ.items() if k != "QT_QPA_PLATFORM"}
    before = set(kernel_processes(session_dir))
    app = AppProcess(["xvfb-run", "-a", sys.executable, "-m", "qtapp", "--debug",
                      "--settings", str(tmp_path / "s.ini")], env)
    try:
        app.wait_for_line("console ready: In [1]:", timeout=60)
        os.kill(_child_qtapp_pid(app.proc.pid), signal.SIGTERM)  # as Ctrl+C / logout would
        assert app.proc.wait(30) == 0
    finally:
        if app.proc.poll() is None:  # failed: end what this test started (the app first, so it stops its kernel)
            try:
                os.kill(_child_qtapp_pid(app.proc.pid), signal.SIGTERM)
                app.proc.wait(15)
            except (AssertionError, ProcessLookupError, subprocess.TimeoutExpired):
                pass
        app.kill()
    # the window's kernel was shut down before the application exited
    assert set(kernel_processes(session_dir)) <= before


def _child_qtapp_pid(root: int) -> int:
    """The python -m qtapp process under xvfb-run's shell."""
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            cmd = Path(f"/proc/{entry}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if cmd[1:3] == [b"-m", b"qtapp"] and _descends(int(entry), root):
            return int(entry)
    raise AssertionError("the qtapp process was not found")


def _descends(pid: int, root: int) -> bool:
    while pid > 1:
        if pid == root:
            return True
        try:
            pid = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
        except OSError:
            return False
    return False


def test_a_termination_signal_closes_the_windows_after_the_running_code():
    """SIGTERM's handler runs between two bytecodes of whatever Python code
    is running, a slot half done: the windows must close only once that code
    has returned, or the slot goes on with a console already torn down."""
    script = textwrap.dedent("""
        import os, signal
        from PyQt5.QtCore import QTimer
        from PyQt5.QtWidgets import QApplication, QWidget
        from qtapp.__main__ import _quit_on_signals

        app = QApplication([])
        _quit_on_signals(app)
        window = QWidget()
        window.show()
        seen = []

        def slot():
            os.kill(os.getpid(), signal.SIGTERM)
            total = sum(i for i in range(10_000))  # bytecodes: the handler runs among them
            seen.append(window.isVisible())

        QTimer.singleShot(0, slot)
        app.exec_()
        print(seen, window.isVisible())
    """)
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["[True]", "False"]  # open while the slot ran, closed after
