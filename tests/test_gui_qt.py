"""%gui qt5 in a real kernel on the offscreen Qt platform (inherited from the
test environment): the toolkit's loop runs between requests and the kernel
keeps serving every channel."""

from __future__ import annotations

import importlib.util
import time

import pytest

from guikernel import (assert_cell_can_process_events, assert_events_held_during_a_cell, assert_execute_not_delayed,
                       assert_sleeps_while_idle, count_lines, error, median_round_trip, ok, value, wait_for_lines)
from helpers import iopub_until_idle, shell_reply, stdout_of
from kernel.qtloop import x_server_answers

TICKER = """
from PyQt5 import QtCore
from kernel import guisupport
ticks = [0]
_tick_file = open({path!r}, "a")
def _tick():
    ticks[0] += 1
    _tick_file.write("tick\\n")
    _tick_file.flush()
ticker = QtCore.QTimer()
ticker.timeout.connect(_tick)
ticker.start(10)
"""


@pytest.fixture
def qt(skc, tmp_path):
    """The shared kernel with %gui qt5 on and a 10 ms QTimer writing to a file."""
    ok(skc, "%gui qt5")
    path = tmp_path / "ticks"
    ok(skc, TICKER.format(path=str(path)))
    yield skc, path
    ok(skc, "ticker.stop(); _tick_file.close()")


def test_qtimer_keeps_firing_while_the_console_is_idle(qt):
    kc, ticks = qt
    wait_for_lines(ticks, 20, "20 timer ticks with no request running")
    assert int(value(kc, "ticks[0]")) >= 20


def test_kernel_info_is_answered_within_100ms_while_the_loop_runs(qt):
    kc, ticks = qt
    wait_for_lines(ticks, 5, "the timer running")
    assert median_round_trip(kc, kc.kernel_info) < 0.1
    # control and heartbeat have threads of their own and are unaffected
    msg = kc.session.msg("kernel_info_request")
    kc.control_channel.send(msg)
    assert kc.get_control_msg(timeout=30)["parent_header"]["msg_id"] == msg["msg_id"]
    assert kc.hb_channel.is_beating(timeout=10)


def test_execute_is_not_delayed_by_the_loop(qt):
    kc, ticks = qt
    wait_for_lines(ticks, 5, "the timer running")
    assert_execute_not_delayed(kc, "qt5")


@pytest.mark.parametrize("how", ["signal", "message"])
def test_interrupt_a_running_cell_with_the_loop_active(qt, shared_km, how):
    kc, ticks = qt
    msg_id = kc.execute("import time; time.sleep(60)")
    while kc.get_iopub_msg(timeout=30)["msg_type"] != "execute_input":
        pass
    if how == "signal":
        shared_km.interrupt()
    else:
        kc.interrupt()
    reply = shell_reply(kc, msg_id, timeout=30)["content"]
    assert reply["status"] == "error" and reply["ename"] == "KeyboardInterrupt"
    # The loop is back: the timer fires again with no request running.
    wait_for_lines(ticks, count_lines(ticks) + 10, "ticks after the interrupt")
    assert value(kc, "guisupport.is_event_loop_running_qt5()") == "True"


def test_sigint_while_idle_is_harmless_with_the_loop_active(qt, shared_km):
    kc, ticks = qt
    shared_km.interrupt()
    kc.interrupt()
    wait_for_lines(ticks, count_lines(ticks) + 10, "ticks after an idle interrupt")
    assert value(kc, "'alive'") == "alive"


def test_user_code_sees_the_running_loop_and_need_not_start_it(qt):
    kc, ticks = qt
    out = stdout_of(ok(kc, """
from PyQt5 import QtWidgets
from kernel import guisupport
app = guisupport.get_app_qt5()
print(app is QtWidgets.QApplication.instance(), guisupport.is_event_loop_running_qt5(app))
label = QtWidgets.QLabel("hello")
label.show()
guisupport.start_event_loop_qt5(app)   # returns at once: the kernel runs the loop
print("returned", label.isVisible())
"""))
    assert out == "True True\nreturned True\n"


def test_quit_from_user_code_does_not_stop_the_kernels_loop(qt):
    kc, ticks = qt
    ok(kc, "QtCore.QCoreApplication.instance().quit()")
    wait_for_lines(ticks, count_lines(ticks) + 20, "ticks after QApplication.quit()")
    assert value(kc, "1 + 1") == "2"


def test_an_exception_in_a_qt_callback_is_shown_and_the_kernel_lives(qt):
    kc, ticks = qt
    msg_id = kc.execute("QtCore.QTimer.singleShot(0, lambda: 1 / 0)")
    assert shell_reply(kc, msg_id)["content"]["status"] == "ok"
    # Raised later, by the idle loop; it is reported on IOPub, under the last request.
    deadline = time.monotonic() + 30
    seen = ""
    while "ZeroDivisionError" not in seen:
        msg = kc.get_iopub_msg(timeout=max(0.1, deadline - time.monotonic()))
        if msg["msg_type"] == "error":
            seen += msg["content"]["ename"]
        elif msg["msg_type"] == "stream":
            seen += msg["content"]["text"]
    wait_for_lines(ticks, count_lines(ticks) + 10, "ticks after the failing callback")
    assert value(kc, "'alive'") == "alive"


def test_a_running_cell_holds_qt_events_back(qt):
    assert_events_held_during_a_cell(*qt)


def test_a_cell_that_calls_process_events_runs_the_timer(qt):
    assert_cell_can_process_events(*qt, "QApplication.processEvents()",
                                   setup="from PyQt5.QtWidgets import QApplication")


def test_the_idle_qt_loop_sleeps_until_an_event_comes(km, kc):
    ok(kc, "%gui qt5")
    ok(kc, "from PyQt5 import QtWidgets; label = QtWidgets.QLabel('idle'); label.show()")
    assert_sleeps_while_idle(km.process.pid)
    assert value(kc, "label.isVisible()") == "True"


def test_gui_off_returns_to_the_plain_loop_and_qt_comes_back(kc, tmp_path):
    path = tmp_path / "ticks"
    ok(kc, "%gui qt")  # the Qt in use or installed: PyQt5 here
    ok(kc, TICKER.format(path=str(path)))
    wait_for_lines(path, 10, "ticks under %gui qt")
    assert value(kc, "guisupport.is_event_loop_running_qt5()") == "True"

    ok(kc, "%gui")
    assert value(kc, "guisupport.is_event_loop_running_qt5()") == "False"
    stopped_at = count_lines(path)
    time.sleep(0.5)  # an observation window: a running 10 ms timer would tick ~50 times
    assert count_lines(path) == stopped_at
    assert value(kc, "1 + 1") == "2"

    ok(kc, "%gui qt5")  # the same QApplication, its timer still armed
    wait_for_lines(path, stopped_at + 10, "ticks after %gui qt5 again")


def test_shutdown_closes_windows_and_the_process_exits_cleanly(km, kc, tmp_path):
    closed = tmp_path / "closed"
    ok(kc, "%gui qt5")
    ok(kc, f"""
from PyQt5 import QtWidgets
class Window(QtWidgets.QWidget):
    def closeEvent(self, event):
        with open({str(closed)!r}, "w") as f:
            f.write("closed")
        event.accept()
window = Window()
window.show()
""")
    kc.shutdown()
    assert km.process.wait(30) == 0
    assert closed.read_text() == "closed"


def test_no_display_or_no_pyqt5_is_a_clear_error_and_the_kernel_stays_usable():
    from kernel.manager import KernelManager

    manager = KernelManager(env={"QT_QPA_PLATFORM": "", "DISPLAY": "", "WAYLAND_DISPLAY": ""})
    manager.start()
    client = manager.client()
    client.start_channels()
    try:
        client.wait_for_ready(timeout=60)
        content, stderr = error(client, "%gui qt5")
        assert content["ename"] == "UsageError"
        assert "DISPLAY is not set" in content["evalue"] and "DISPLAY is not set" in stderr
        assert value(client, "1 + 1") == "2"
        content, _ = error(client, "import sys; sys.modules['PyQt5'] = None\n%gui qt5")
        assert "%gui qt5 needs PyQt5, which is not installed here" in content["evalue"]
        ok(client, "del sys.modules['PyQt5']")
        number = next(n for n in range(4200, 4300) if not x_server_answers(f":{n}"))
        content, _ = error(client, f"import os; os.environ['DISPLAY'] = ':{number}'\n%gui qt5")
        assert f"no X server answers at DISPLAY=:{number}" in content["evalue"]
        assert value(client, "'still here'") == "still here"
        assert manager.is_alive()
    finally:
        client.stop_channels()
        manager.shutdown()


def test_unknown_and_unsupported_toolkits_are_clear_errors(skc):
    content, stderr = error(skc, "%gui nonesuch")
    assert "unknown GUI 'nonesuch'" in content["evalue"] and "qt5" in content["evalue"]
    content, _ = error(skc, "%gui gtk3")
    assert "no GTK event loop" in content["evalue"]
    content, _ = error(skc, "get_ipython().enable_gui('osx')")
    assert content["ename"] == "UsageError"
    assert value(skc, "'usable'") == "usable"


def test_qt6_beside_qt5_is_refused_or_missing(skc):
    ok(skc, "%gui qt5")
    content, _ = error(skc, "%gui qt6")
    if importlib.util.find_spec("PyQt6") is None:
        assert "needs PyQt6, which is not installed" in content["evalue"]
    else:
        assert "PyQt5 already runs a QApplication" in content["evalue"]
    assert value(skc, "__import__('kernel.guisupport').guisupport.is_event_loop_running_qt5()") == "True"


def test_requests_queued_behind_gui_qt5_are_served_by_the_qt_loop(kc):
    # Sent back to back: the second is already waiting when the first switches loops.
    first = kc.execute("%gui qt5")
    second = kc.execute("import inspect\n"
                        "print([f.function for f in inspect.stack() if f.filename.endswith('qtloop.py')])")
    assert shell_reply(kc, first)["content"]["status"] == "ok"
    assert shell_reply(kc, second)["content"]["status"] == "ok"
    assert stdout_of(iopub_until_idle(kc, second)) == "['run']\n"


@pytest.mark.skipif(importlib.util.find_spec("PyQt6") is None, reason="PyQt6 is not installed")
def test_gui_qt6_runs_the_qt6_loop(km, kc, tmp_path):
    path = tmp_path / "ticks"
    ok(kc, "%gui qt6")
    ok(kc, TICKER.replace("PyQt5", "PyQt6").format(path=str(path)))
    wait_for_lines(path, 20, "20 Qt 6 timer ticks with no request running")
    assert value(kc, "guisupport.is_event_loop_running_qt6()") == "True"
    assert median_round_trip(kc, kc.kernel_info) < 0.1
    msg_id = kc.execute("import time; time.sleep(60)")
    while kc.get_iopub_msg(timeout=30)["msg_type"] != "execute_input":
        pass
    km.interrupt()
    assert shell_reply(kc, msg_id, timeout=30)["content"]["ename"] == "KeyboardInterrupt"
    wait_for_lines(path, count_lines(path) + 10, "Qt 6 ticks after the interrupt")
    content, _ = error(kc, "%gui qt5")
    assert "PyQt6 already runs a QApplication" in content["evalue"]
