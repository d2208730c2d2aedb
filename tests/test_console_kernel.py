"""Kernel control from the console: input() and getpass, interrupt, restart,
a killed kernel noticed (owned: process exit; attached: heartbeat), and
attaching to running kernels (ours and ipykernel)."""

from __future__ import annotations

import os
import signal
import time

import pytest
from PyQt5.QtCore import Qt
from PyQt5.QtWidgets import QLineEdit

from console_helpers import TIMEOUT_MS, make_console, run, wait_text
from kernel.client import KernelClient
from kernel.manager import KernelManager


def test_input_prompt_appears_inline_and_the_answer_is_sent(qtbot, shared_km):
    console = make_console(qtbot, shared_km)
    console.execute("name = input('Your name: '); print('hello', name)")
    qtbot.waitUntil(console.stdin_bar.isVisible, timeout=TIMEOUT_MS)
    assert console.stdin_bar.line.echoMode() == QLineEdit.Normal
    assert not console.editor.isVisible()
    assert console.plain_text().endswith("Your name: ")  # inline, where output goes
    qtbot.keyClicks(console.stdin_bar.line, "Ada")
    with qtbot.waitSignal(console.executed, timeout=TIMEOUT_MS):
        qtbot.keyClick(console.stdin_bar.line, Qt.Key_Return)
    lines = console.plain_text().splitlines()
    assert "Your name: Ada" in lines and "hello Ada" in lines
    assert not console.stdin_bar.isVisible() and console.editor.isVisible()


def test_getpass_is_masked_and_not_echoed(qtbot, shared_km):
    console = make_console(qtbot, shared_km)
    console.execute("import getpass; secret = getpass.getpass('Password: '); print(len(secret))")
    qtbot.waitUntil(console.stdin_bar.isVisible, timeout=TIMEOUT_MS)
    assert console.stdin_bar.line.echoMode() == QLineEdit.Password
    qtbot.keyClicks(console.stdin_bar.line, "hunter22")
    with qtbot.waitSignal(console.executed, timeout=TIMEOUT_MS):
        qtbot.keyClick(console.stdin_bar.line, Qt.Key_Return)
    text = console.plain_text()
    assert "hunter22" not in text
    assert "8" in text.splitlines()


def test_ctrl_d_at_an_input_prompt_sends_eof(qtbot, shared_km):
    console = make_console(qtbot, shared_km)
    console.execute("try:\n    input('> ')\nexcept EOFError:\n    print('got EOF')\n")
    qtbot.waitUntil(console.stdin_bar.isVisible, timeout=TIMEOUT_MS)
    with qtbot.waitSignal(console.executed, timeout=TIMEOUT_MS):
        qtbot.keyClick(console.stdin_bar.line, Qt.Key_D, Qt.ControlModifier)
    assert "got EOF" in console.plain_text().splitlines()


def test_ctrl_c_interrupts_a_busy_loop_and_the_kernel_lives_on(qtbot, km):
    console = make_console(qtbot, km)
    console.execute("while True: pass")
    qtbot.waitUntil(lambda: console.controller.busy, timeout=TIMEOUT_MS)
    assert console.controller.state == "busy"
    with qtbot.waitSignal(console.executed, timeout=TIMEOUT_MS) as blocker:
        qtbot.keyClick(console.editor, Qt.Key_C, Qt.ControlModifier)
    assert blocker.args[0]["content"]["ename"] == "KeyboardInterrupt"
    assert "KeyboardInterrupt" in console.plain_text()
    run(qtbot, console, "print('still alive')")
    assert "still alive" in console.plain_text().splitlines()
    assert km.is_alive()


def test_ctrl_c_copies_the_selection_when_nothing_runs(qtbot, shared_km):
    console = make_console(qtbot, shared_km)
    run(qtbot, console, "print('copy me please')")
    wait_text(qtbot, console, "copy me please\n")
    view = console.transcript.view
    cursor = view.document().find("copy me please", view.document().characterCount() - 1,
                                  view.document().FindBackward)
    view.setTextCursor(cursor)
    view.setFocus()
    qtbot.keyClick(view, Qt.Key_C, Qt.ControlModifier)
    from PyQt5.QtWidgets import QApplication
    assert QApplication.clipboard().text() == "copy me please"


def test_restart_resets_state_and_prompt_numbers(qtbot, km):
    console = make_console(qtbot, km)
    run(qtbot, console, "survivor = 1")
    run(qtbot, console, "survivor += 1")
    assert console.controller.next_count == 3
    old_pid = km.process.pid
    qtbot.keyClick(console.editor, Qt.Key_Period, Qt.ControlModifier)
    wait_text(qtbot, console, "Kernel restarted")
    qtbot.waitUntil(lambda: console.is_ready and console.controller.next_count == 1, timeout=TIMEOUT_MS)
    assert console.editor.prompt.strip() == "In [1]:"
    assert km.process.pid != old_pid
    reply = run(qtbot, console, "survivor")
    assert reply["content"]["ename"] == "NameError"


def test_restart_asks_first_when_confirmation_is_on(qtbot, km):
    console = make_console(qtbot, km, confirm_restart=True)
    questions = []
    console.confirm = lambda title, text: questions.append(text) or False  # the user says No
    pid = km.process.pid
    qtbot.keyClick(console.editor, Qt.Key_Period, Qt.ControlModifier)
    assert questions and "Restart" in questions[0]
    assert km.process.pid == pid and console.controller.state in ("idle", "busy")
    console.confirm = lambda title, text: True
    console.restart_kernel()
    qtbot.waitUntil(lambda: km.process.pid != pid and console.is_ready, timeout=TIMEOUT_MS)


def test_a_killed_kernel_is_noticed_within_3_s_and_restarted(qtbot, km):
    console = make_console(qtbot, km)
    run(qtbot, console, "x = 1")
    started = time.monotonic()
    os.kill(km.process.pid, signal.SIGKILL)
    wait_text(qtbot, console, "The kernel died unexpectedly (killed by SIGKILL)")
    noticed = time.monotonic() - started
    assert noticed < 3.0, f"death noticed after {noticed:.2f} s"
    wait_text(qtbot, console, "Kernel restarted automatically")
    qtbot.waitUntil(lambda: console.is_ready and console.controller.next_count == 1, timeout=TIMEOUT_MS)
    assert run(qtbot, console, "x")["content"]["ename"] == "NameError"


def test_without_autorestart_a_dead_kernel_offers_a_restart(qtbot, km):
    console = make_console(qtbot, km, autorestart=False)
    os.kill(km.process.pid, signal.SIGKILL)
    qtbot.waitUntil(lambda: console.notice_bar.isVisible() and bool(console.notice_bar.buttons), timeout=TIMEOUT_MS)
    assert "died" in console.notice_bar.label.text()
    assert console.controller.state == "dead"
    qtbot.mouseClick(console.notice_bar.buttons[0], Qt.LeftButton)
    qtbot.waitUntil(lambda: console.is_ready, timeout=TIMEOUT_MS)
    assert not console.notice_bar.isVisible()
    assert run(qtbot, console, "1 + 1")["content"]["status"] == "ok"


def test_an_attached_kernel_that_dies_is_noticed_by_heartbeat(qtbot, km):
    client = KernelClient.from_connection_file(km.connection_file)
    console = make_console(qtbot, client=client)
    assert console.manager is None
    started = time.monotonic()
    os.kill(km.process.pid, signal.SIGKILL)
    wait_text(qtbot, console, "The kernel is not responding")
    noticed = time.monotonic() - started
    # heartbeat every second, dead after 3 s without an echo
    assert noticed < 6.0, f"death noticed after {noticed:.2f} s"
    assert console.controller.state == "unresponsive"
    assert console.notice_bar.isVisible()


def test_interrupt_and_restart_work_on_an_attached_kernel(qtbot, tmp_path):
    # The kernel's owner (this manager, auto-restarting) restarts it when the
    # attached console asks with shutdown_request(restart=True) on control.
    owner = KernelManager(autorestart=True)
    owner.start()
    try:
        client = KernelClient.from_connection_file(owner.connection_file)
        console = make_console(qtbot, client=client)
        console.execute("import time\nwhile True: time.sleep(0.01)")
        qtbot.waitUntil(lambda: console.controller.busy, timeout=TIMEOUT_MS)
        with qtbot.waitSignal(console.executed, timeout=TIMEOUT_MS) as blocker:
            qtbot.keyClick(console.editor, Qt.Key_C, Qt.ControlModifier)  # interrupt_request on control
        assert blocker.args[0]["content"]["ename"] == "KeyboardInterrupt"
        run(qtbot, console, "marker = 1")
        pid = owner.process.pid
        qtbot.keyClick(console.editor, Qt.Key_Period, Qt.ControlModifier)
        qtbot.waitUntil(lambda: owner.process.pid != pid, timeout=TIMEOUT_MS)
        wait_text(qtbot, console, "Kernel restarted")
        qtbot.waitUntil(lambda: console.is_ready and console.controller.next_count == 1, timeout=TIMEOUT_MS)
        assert run(qtbot, console, "marker")["content"]["ename"] == "NameError"
    finally:
        owner.shutdown(now=True)


def test_existing_attaches_to_our_kernel_by_fragment(qtbot, km, tmp_path):
    from qtapp.app import ConsoleApp
    from qtapp.__main__ import build_parser
    from qtapp.settings import Preferences, open_settings

    fragment = km.connection_file.stem.split("-", 1)[1][:8]
    options = build_parser().parse_args(["--existing", fragment, "--settings", str(tmp_path / "s.ini")])
    exits = []
    app = ConsoleApp(options, Preferences(open_settings(options.settings)), exit=exits.append)
    window = app.open_window()
    qtbot.addWidget(window)
    console = window.console
    assert console.manager is None and console.client.connection_file.resolve() == km.connection_file.resolve()
    qtbot.waitUntil(lambda: console.is_ready, timeout=TIMEOUT_MS)
    run(qtbot, console, "import os; print(os.getpid())")
    assert str(km.process.pid) in console.plain_text().splitlines()
    assert "qtapp-kernel" in window.kernel_label.text()
    window.close()
    assert km.is_alive() and not exits  # closing an attached console keeps the kernel


def test_bare_existing_attaches_to_the_newest_kernel(qtbot, tmp_path, session_dir, monkeypatch):
    # a runtime dir of its own (inside the session dir, so leak checks see its kernels)
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(session_dir / f"runtime-{tmp_path.name}"))
    older, newer = KernelManager(), KernelManager()
    try:
        older.start()
        newer.start()
        now = time.time()
        os.utime(older.connection_file, (now - 60, now - 60))
        os.utime(newer.connection_file, (now, now))
        window = _window(qtbot, tmp_path, "--existing")
        console = window.console
        assert console.manager is None
        assert console.client.connection_file.resolve() == newer.connection_file.resolve()
        ports = ("shell_port", "iopub_port", "stdin_port", "control_port", "hb_port")
        assert [getattr(console.client.info, p) for p in ports] == [getattr(newer.info, p) for p in ports]
        run(qtbot, console, "import os; print(os.getpid())")
        assert str(newer.process.pid) in console.plain_text().splitlines()
        window.close()
    finally:
        older.shutdown(now=True)
        newer.shutdown(now=True)


def _ipykernel_spec():
    pytest.importorskip("ipykernel", reason="ipykernel is not installed")
    from kernel.kernelspec import NoSuchKernel, get_kernel_spec
    try:
        spec = get_kernel_spec("python3")
    except NoSuchKernel:
        pytest.skip("no 'python3' kernelspec (ipykernel's) is installed")
    if "ipykernel" not in " ".join(spec.argv):
        pytest.skip(f"the 'python3' kernelspec is not ipykernel: {spec.argv}")
    return spec


def _window(qtbot, tmp_path, *args):
    from qtapp.app import ConsoleApp
    from qtapp.__main__ import build_parser
    from qtapp.settings import Preferences, open_settings

    options = build_parser().parse_args([*args, "--settings", str(tmp_path / "s.ini")])
    app = ConsoleApp(options, Preferences(open_settings(options.settings)), exit=lambda code: None)
    window = app.open_window()
    qtbot.addWidget(window)
    qtbot.waitUntil(lambda: window.console.is_ready and window.console.controller.next_count is not None,
                    timeout=TIMEOUT_MS)
    return window


def test_existing_attaches_to_ipykernel(qtbot, tmp_path):
    _ipykernel_spec()
    ipk = KernelManager(kernel_name="python3")
    ipk.start()
    try:
        window = _window(qtbot, tmp_path, "--existing", str(ipk.connection_file))
        console = window.console
        assert console.manager is None
        assert console.controller.kernel_info["content"]["implementation"] == "ipython"
        n = console.controller.next_count
        qtbot.keyClicks(console.editor, "print('from ipykernel'); 3 * 7")
        with qtbot.waitSignal(console.executed, timeout=TIMEOUT_MS):
            qtbot.keyClick(console.editor, Qt.Key_Return)
        raw = console.plain_text(raw=True)
        assert "from ipykernel" in raw and f"Out[{n}]: 21" in raw
        console.execute("while True: pass")
        qtbot.waitUntil(lambda: console.controller.busy, timeout=TIMEOUT_MS)
        with qtbot.waitSignal(console.executed, timeout=TIMEOUT_MS) as blocker:
            qtbot.keyClick(console.editor, Qt.Key_C, Qt.ControlModifier)  # interrupt_request on control
        assert blocker.args[0]["content"]["status"] == "error"
        assert "KeyboardInterrupt" in console.plain_text()
        window.close()
        assert ipk.is_alive()  # an attached kernel stays when the console closes
    finally:
        ipk.shutdown(now=True)


def test_kernel_option_starts_an_installed_kernelspec(qtbot, tmp_path):
    _ipykernel_spec()
    window = _window(qtbot, tmp_path, "--kernel", "python3")
    console = window.console
    manager = console.manager
    assert manager is not None and manager.kernel_name == "python3"
    assert console.controller.kernel_info["content"]["implementation"] == "ipython"
    run(qtbot, console, "import sys; print('ipykernel' in sys.modules)")
    assert "True" in console.plain_text().splitlines()
    window.close()
    qtbot.waitUntil(lambda: not manager.is_alive(), timeout=TIMEOUT_MS)  # we started it: it stops with us


def test_a_console_on_a_kernel_that_already_ran_cells_never_shows_in_1(qtbot, km, kc):
    for code in ("a = 1", "b = 2", "c = 3"):
        kc.execute_interactive(code, timeout=30)
    from qtapp import ConsoleWidget
    console = ConsoleWidget(km, start=False)  # the manager's kernel, started by someone else
    qtbot.addWidget(console)
    shown = []
    console.prompt_changed.connect(lambda count: count is not None and shown.append(count))
    console.show()
    console.controller.start()
    qtbot.waitUntil(lambda: console.is_ready and bool(shown), timeout=TIMEOUT_MS)
    assert shown[0] == 4


def test_a_console_that_starts_its_own_kernel_shows_in_1_at_once(qtbot):
    from qtapp import ConsoleWidget
    console = ConsoleWidget()
    qtbot.addWidget(console)
    shown = []
    console.prompt_changed.connect(lambda count: count is not None and shown.append(count))
    console.show()
    try:
        qtbot.waitUntil(lambda: console.is_ready and bool(shown), timeout=TIMEOUT_MS)
        assert shown[0] == 1
    finally:
        console.close()
