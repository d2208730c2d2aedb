"""%gui tk in a real kernel whose DISPLAY is a private Xvfb server; and the
clear error a kernel without a display gives."""

from __future__ import annotations

import time

import pytest

from guikernel import (assert_cell_can_process_events, assert_events_held_during_a_cell, assert_execute_not_delayed,
                       assert_sleeps_while_idle, count_lines, error, median_round_trip, ok, value, wait_for_lines)
from helpers import shell_reply

TICKER = """
import tkinter as tk
from kernel import guisupport
root = tk.Tk()
ticks = [0]
_tick_file = open({path!r}, "a")
def _tick():
    global _pending
    ticks[0] += 1
    _tick_file.write("tick\\n")
    _tick_file.flush()
    _pending = root.after(10, _tick)
_pending = root.after(10, _tick)
"""


@pytest.fixture(scope="module")
def tk_km(display):
    from kernel.manager import KernelManager

    manager = KernelManager(env={"DISPLAY": display})
    manager.start()
    yield manager
    manager.shutdown(now=True)


@pytest.fixture
def tk(tk_km, tmp_path):
    """A client of the module's kernel, %gui tk on, a Tk root ticking every 10 ms."""
    kc = tk_km.client()
    kc.start_channels()
    kc.wait_for_ready(timeout=60)
    ok(kc, "%gui tk")
    path = tmp_path / "ticks"
    ok(kc, TICKER.format(path=str(path)))
    yield kc, path
    ok(kc, "root.after_cancel(_pending); root.destroy(); _tick_file.close()")
    kc.stop_channels()


def test_tk_timer_keeps_firing_while_the_console_is_idle(tk):
    kc, ticks = tk
    wait_for_lines(ticks, 20, "20 Tk ticks with no request running")
    assert int(value(kc, "ticks[0]")) >= 20


def test_requests_are_answered_at_once_while_tk_runs(tk):
    kc, ticks = tk
    wait_for_lines(ticks, 5, "the Tk timer running")
    assert median_round_trip(kc, kc.kernel_info) < 0.1
    assert_execute_not_delayed(kc, "tk")
    msg = kc.session.msg("kernel_info_request")
    kc.control_channel.send(msg)
    assert kc.get_control_msg(timeout=30)["parent_header"]["msg_id"] == msg["msg_id"]
    assert kc.hb_channel.is_beating(timeout=10)


@pytest.mark.parametrize("how", ["signal", "message"])
def test_interrupt_a_running_cell_with_tk_active(tk, tk_km, how):
    kc, ticks = tk
    msg_id = kc.execute("import time; time.sleep(60)")
    while kc.get_iopub_msg(timeout=30)["msg_type"] != "execute_input":
        pass
    if how == "signal":
        tk_km.interrupt()
    else:
        kc.interrupt()
    reply = shell_reply(kc, msg_id, timeout=30)["content"]
    assert reply["status"] == "error" and reply["ename"] == "KeyboardInterrupt"
    wait_for_lines(ticks, count_lines(ticks) + 10, "Tk ticks after the interrupt")


def test_interrupt_reaches_a_mainloop_run_by_user_code(tk, tk_km, tmp_path):
    kc, ticks = tk
    inside = tmp_path / "inside"
    # No timer left: the mainloop sleeps in Tcl until the interrupt wakes it.
    msg_id = kc.execute(f"root.after_cancel(_pending)\n"
                        f"root.after_idle(lambda: open({str(inside)!r}, 'w').write('in\\n'))\n"
                        f"root.mainloop()")
    wait_for_lines(inside, 1, "the user's mainloop running")
    tk_km.interrupt()
    reply = shell_reply(kc, msg_id, timeout=30)["content"]
    assert reply["status"] == "error" and reply["ename"] == "KeyboardInterrupt"
    assert value(kc, "'alive'") == "alive"


def test_user_code_sees_the_running_tk_loop(tk):
    kc, ticks = tk
    assert value(kc, "tk._default_root is root") == "True"  # the user's first root, as in a script
    assert value(kc, "guisupport.is_event_loop_running_tk(root), guisupport.is_event_loop_running_tk()") \
        == "True True"
    ok(kc, "guisupport.start_event_loop_tk(root)")  # returns at once
    ok(kc, "other = tk.Tk(); ran = guisupport.is_event_loop_running_tk(other); other.destroy()")
    assert value(kc, "ran") == "True"


def test_a_running_cell_holds_tk_events_back(tk):
    assert_events_held_during_a_cell(*tk)


def test_a_cell_that_calls_update_runs_the_tk_timer(tk):
    assert_cell_can_process_events(*tk, "root.update()")


def test_the_idle_tk_loop_sleeps_until_an_event_comes(tk, tk_km):
    kc, ticks = tk
    ok(kc, "root.after_cancel(_pending)")
    assert_sleeps_while_idle(tk_km.process.pid)
    assert value(kc, "root.winfo_exists()") == "1"


def test_gui_off_stops_tk_and_gui_tk_resumes_it(tk):
    kc, ticks = tk
    wait_for_lines(ticks, 5, "the Tk timer running")
    ok(kc, "%gui")
    assert value(kc, "guisupport.is_event_loop_running_tk(root)") == "False"
    stopped_at = count_lines(ticks)
    time.sleep(0.5)  # an observation window: a running 10 ms timer would tick ~50 times
    assert count_lines(ticks) == stopped_at
    ok(kc, "%gui tk")
    wait_for_lines(ticks, stopped_at + 10, "ticks after %gui tk again")


def test_shutdown_destroys_tk_windows(display, tmp_path):
    from kernel.manager import KernelManager

    destroyed = tmp_path / "destroyed"
    manager = KernelManager(env={"DISPLAY": display})
    manager.start()
    kc = manager.client()
    kc.start_channels()
    try:
        kc.wait_for_ready(timeout=60)
        ok(kc, "%gui tk")
        ok(kc, f"""
import tkinter as tk
a, b = tk.Tk(), tk.Tk()   # the default root and a second interpreter
def gone(event, name):
    if event.widget is event.widget.winfo_toplevel():
        with open({str(destroyed)!r}, "a") as f:
            f.write(name + "\\n")
a.bind("<Destroy>", lambda e: gone(e, "a"))
b.bind("<Destroy>", lambda e: gone(e, "b"))
""")
        kc.shutdown()
        assert manager.process.wait(30) == 0
        assert sorted(destroyed.read_text().split()) == ["a", "b"]
    finally:
        kc.stop_channels()
        manager.shutdown()


def test_gui_tk_without_tkinter_or_a_display_is_a_clear_error():
    from kernel.manager import KernelManager

    manager = KernelManager(env={"DISPLAY": ""})
    manager.start()
    kc = manager.client()
    kc.start_channels()
    try:
        kc.wait_for_ready(timeout=60)
        # tkinter missing: a None entry in sys.modules makes its import fail
        content, _ = error(kc, "import sys; sys.modules['tkinter'] = None\n%gui tk")
        assert "%gui tk needs tkinter, which cannot be imported here" in content["evalue"]
        ok(kc, "del sys.modules['tkinter']")
        content, stderr = error(kc, "%gui tk")
        assert content["ename"] == "UsageError"
        assert "cannot start the Tk event loop" in content["evalue"] and "display" in content["evalue"]
        assert "UsageError" in stderr
        assert value(kc, "1 + 1") == "2"
        content, _ = error(kc, "%matplotlib tk")  # matplotlib refuses before any loop starts
        assert "tk" in content["evalue"].lower()
        assert value(kc, "'still usable'") == "still usable"
    finally:
        kc.stop_channels()
        manager.shutdown()
