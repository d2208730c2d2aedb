"""kernel.guisupport in this process: Qt 5 on the offscreen platform, Tk under
Xvfb, each on the "a loop runs already" and "no loop runs" paths."""

from __future__ import annotations

import gc
import importlib.util
import json
import os
import socket
import subprocess
import sys
import textwrap

import pytest

from kernel import guisupport
from kernel.qtloop import display_problem, x_server_answers

TOOLKITS = ("PyQt5", "PyQt6", "PySide2", "PySide6", "tkinter", "_tkinter", "wx")


def run_python(code: str, **env: str) -> dict:
    """Run code in a fresh interpreter; it prints one JSON object."""
    full_env = dict(os.environ, **env)
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=full_env,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_importing_guisupport_and_asking_imports_no_toolkit():
    result = run_python(f"""
        import json, sys
        from kernel import guisupport
        running = [guisupport.is_event_loop_running_qt5(), guisupport.is_event_loop_running_qt6(),
                   guisupport.is_event_loop_running_tk(), guisupport.is_event_loop_running_wx()]
        print(json.dumps({{"loaded": [m for m in {TOOLKITS!r} if m in sys.modules], "running": running}}))
    """)
    assert result == {"loaded": [], "running": [False, False, False, False]}


# -- Qt 5 ------------------------------------------------------------------------

@pytest.fixture
def app(qapp):
    """pytest-qt's QApplication, with no loop flag before or after the test."""
    qapp.__dict__.pop("_in_event_loop", None)
    yield qapp
    qapp.__dict__.pop("_in_event_loop", None)


def test_qt5_get_app_returns_the_existing_application(app):
    assert guisupport.get_app_qt5() is app
    assert guisupport.get_app_qt5(["ignored"]) is app


def test_qt5_no_loop_running(app):
    assert guisupport.is_event_loop_running_qt5() is False
    assert guisupport.is_event_loop_running_qt5(app) is False


def test_qt5_start_runs_the_loop_when_none_runs(app):
    from PyQt5 import QtCore

    seen = []

    def inside():
        seen.append((guisupport.is_event_loop_running_qt5(), app._in_event_loop))
        app.exit(0)

    QtCore.QTimer.singleShot(0, inside)
    guisupport.start_event_loop_qt5(app)
    assert seen == [(True, True)]  # the loop ran, flagged by whoever started it
    assert app._in_event_loop is False
    assert guisupport.is_event_loop_running_qt5(app) is False


def test_qt5_start_returns_at_once_when_a_loop_runs(app):
    from PyQt5 import QtCore

    fired = []
    QtCore.QTimer.singleShot(0, lambda: fired.append(True))
    app._in_event_loop = True  # as a kernel with %gui qt5 has it
    assert guisupport.is_event_loop_running_qt5() is True
    guisupport.start_event_loop_qt5(app)
    assert fired == []  # returned without processing a single event
    assert app._in_event_loop is True  # not the caller's loop to clear
    app._in_event_loop = False
    assert guisupport.is_event_loop_running_qt5() is False
    app.processEvents()
    assert fired == [True]


def test_qt5_without_the_flag_qt_itself_is_asked(app):
    from PyQt5 import QtCore

    loop = QtCore.QEventLoop()
    seen = []

    def inside():
        seen.append(guisupport.is_event_loop_running_qt5())
        guisupport.start_event_loop_qt5()  # nested: must not start a second loop
        seen.append("returned")
        loop.exit(0)

    QtCore.QTimer.singleShot(0, inside)
    loop.exec_()
    assert seen == [True, "returned"]
    assert not hasattr(app, "_in_event_loop")


def test_qt5_get_app_creates_one_where_none_exists():
    result = run_python("""
        import json
        from PyQt5 import QtCore, QtWidgets
        from kernel import guisupport
        assert QtWidgets.QApplication.instance() is None
        app = guisupport.get_app_qt5()
        out = {"created": QtWidgets.QApplication.instance() is app, "same": guisupport.get_app_qt5() is app,
               "before": guisupport.is_event_loop_running_qt5()}
        def inside():
            out["inside"] = guisupport.is_event_loop_running_qt5()
            app.quit()
        QtCore.QTimer.singleShot(0, inside)
        guisupport.start_event_loop_qt5()
        out["after"] = guisupport.is_event_loop_running_qt5()
        print(json.dumps(out))
    """, QT_QPA_PLATFORM="offscreen")
    assert result == {"created": True, "same": True, "before": False, "inside": True, "after": False}


@pytest.mark.skipif(importlib.util.find_spec("PyQt6") is None, reason="PyQt6 is not installed")
def test_qt6_helpers_on_both_paths():
    result = run_python("""
        import json
        from PyQt6 import QtCore
        from kernel import guisupport
        app = guisupport.get_app_qt6()
        out = {"before": guisupport.is_event_loop_running_qt6(app)}
        def inside():
            out["inside"] = guisupport.is_event_loop_running_qt6()
            app.quit()
        QtCore.QTimer.singleShot(0, inside)
        guisupport.start_event_loop_qt6(app)
        fired = []
        QtCore.QTimer.singleShot(0, lambda: fired.append(1))
        app._in_event_loop = True
        guisupport.start_event_loop_qt6(app)
        out["skipped"] = not fired
        print(json.dumps(out))
    """, QT_QPA_PLATFORM="offscreen")
    assert result == {"before": False, "inside": True, "skipped": True}


@pytest.mark.skipif(importlib.util.find_spec("wx") is not None, reason="wx is installed")
def test_wx_helpers_without_wx():
    assert guisupport.is_event_loop_running_wx() is False
    with pytest.raises(ImportError):
        guisupport.get_app_wx()


# -- Tk ----------------------------------------------------------------------------

@pytest.fixture
def tk(display):
    """tkinter, with every root made by the test destroyed afterwards."""
    import tkinter

    assert getattr(tkinter, "_default_root", None) is None
    yield tkinter
    for obj in gc.get_objects():
        if isinstance(obj, tkinter.Tk):
            try:
                obj.destroy()
            except tkinter.TclError:
                pass
    assert getattr(tkinter, "_default_root", None) is None


def test_tk_get_app_creates_then_returns_the_default_root(tk, display):
    root = guisupport.get_app_tk(screenName=display)
    assert tk._default_root is root
    assert guisupport.get_app_tk() is root


def test_tk_no_loop_running(tk, display):
    root = tk.Tk(screenName=display)
    assert guisupport.is_event_loop_running_tk(root) is False
    assert guisupport.is_event_loop_running_tk() is False


def test_tk_start_runs_the_loop_when_none_runs(tk, display):
    root = tk.Tk(screenName=display)
    seen = []

    def inside():
        seen.append((guisupport.is_event_loop_running_tk(root), guisupport.is_event_loop_running_tk()))
        root.quit()

    root.after(0, inside)
    guisupport.start_event_loop_tk(root)
    assert seen == [(True, True)]
    assert root._in_event_loop is False
    assert guisupport.is_event_loop_running_tk(root) is False


def test_tk_start_returns_at_once_when_a_loop_runs(tk, display):
    root = tk.Tk(screenName=display)
    fired = []
    root.after(0, lambda: fired.append(True))
    root._in_event_loop = True
    guisupport.start_event_loop_tk(root)
    assert fired == []
    root._in_event_loop = False
    root.update()
    assert fired == [True]


def test_tk_without_the_flag_a_running_mainloop_is_found(tk, display):
    root = tk.Tk(screenName=display)
    seen = []

    def inside():
        other = tk.Tk(screenName=display)  # another interpreter, same thread: served too
        seen.append((guisupport.is_event_loop_running_tk(root), guisupport.is_event_loop_running_tk(other)))
        guisupport.start_event_loop_tk(other)  # must not nest a second mainloop
        seen.append("returned")
        other.destroy()
        root.quit()

    root.after(0, inside)
    root.mainloop()
    assert seen == [(True, True), "returned"]


def test_tk_a_shared_loop_serves_roots_made_later(tk, display):
    driver = tk.Tcl()  # what a kernel drives its %gui tk loop with
    guisupport.share_tk_loop(driver)
    driver._in_event_loop = True
    root = tk.Tk(screenName=display)
    assert guisupport.is_event_loop_running_tk(root) is True
    assert guisupport.is_event_loop_running_tk() is True
    driver._in_event_loop = False
    assert guisupport.is_event_loop_running_tk(root) is False
    driver._in_event_loop = True
    del driver
    gc.collect()  # the registry holds no strong reference
    assert guisupport.is_event_loop_running_tk(root) is False


# -- is there a display for Qt? ----------------------------------------------------

@pytest.mark.parametrize("env,fine", [
    ({"QT_QPA_PLATFORM": "offscreen"}, True),
    ({"QT_QPA_PLATFORM": "minimal:enable_fonts", "DISPLAY": ""}, True),
    ({}, False),
    ({"QT_QPA_PLATFORM": "xcb"}, False),
    ({"QT_QPA_PLATFORM": "wayland"}, False),
    ({"QT_QPA_PLATFORM": "wayland", "WAYLAND_DISPLAY": "wayland-0"}, True),
    ({"QT_QPA_PLATFORM": "eglfs"}, True),
])
def test_display_problem_by_environment(env, fine):
    problem = display_problem(env)
    assert (problem is None) is fine, problem


def test_display_problem_names_the_missing_variable():
    assert "DISPLAY is not set" in display_problem({})
    assert "QT_QPA_PLATFORM=offscreen" in display_problem({})


def test_x_server_probe_finds_a_listener_and_reports_none():
    # A listening socket where an X server of display :N would listen
    # (Linux abstract namespace, as X.org and Xvfb use).
    for number in range(5000, 5100):
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            listener.bind(f"\0/tmp/.X11-unix/X{number}")
        except OSError:
            listener.close()
            continue
        break
    else:
        pytest.fail("no free display number")
    with listener:
        listener.listen(16)
        assert x_server_answers(f":{number}") is True
        assert x_server_answers(f"unix:{number}.0") is True
        assert display_problem({"DISPLAY": f":{number}"}) is None
    assert x_server_answers(f":{number}") is False
    assert f"no X server answers at DISPLAY=:{number}" in display_problem({"DISPLAY": f":{number}"})
    assert x_server_answers("not a display") is True  # unknown forms are left to the toolkit
