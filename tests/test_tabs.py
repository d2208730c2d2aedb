"""Tabs: a new tab with its own kernel, a tab on the same kernel, a tab
attached to a running kernel chosen in the picker, closing tabs (and what
happens to a kernel others still use), and editable titles."""

from __future__ import annotations

import getpass
import os

from PyQt5.QtCore import Qt

from console_helpers import TIMEOUT_MS, run, wait_text
from kernel.connect import new_connection_info, write_connection_file
from qtapp.__main__ import build_parser
from qtapp.app import ConsoleApp
from qtapp.config import load_config
from qtapp.settings import Preferences, open_settings
from qtapp.tabcommands import CANCEL, KEEP, SHUT_DOWN


def open_window(qtbot, tmp_path, *args, username="alice"):
    named = ["--username", username] if username else []
    options = build_parser().parse_args(["--settings", str(tmp_path / "settings.ini"), "--no-confirm-restart",
                                         "--config", str(tmp_path / "config.toml"), *named, *args])
    exits = []
    app = ConsoleApp(options, Preferences(open_settings(options.settings), load_config(options.config)),
                     exit=exits.append)
    window = app.open_window()
    qtbot.addWidget(window)
    _ready(qtbot, window.console)
    return window, app


def _ready(qtbot, console):
    qtbot.waitUntil(lambda: console.is_ready and console.controller.next_count is not None, timeout=TIMEOUT_MS)


def _pid(qtbot, console) -> int:
    run(qtbot, console, "import os; os.getpid()")
    return int(console.plain_text().splitlines()[-1])  # the result, its Out prompt stripped


def _answer(window, answer):
    asked = []
    window.tab_commands.ask = lambda title, text, buttons: asked.append((text, buttons)) or answer
    return asked


def test_tab_actions_have_their_shortcuts(qtbot, tmp_path):
    window, _ = open_window(qtbot, tmp_path)
    shortcuts = {name: window.actions[name].shortcut().toString()
                 for name in ("new_tab", "new_tab_same_kernel", "attach_tab", "close_tab")}
    assert shortcuts == {"new_tab": "Ctrl+T", "new_tab_same_kernel": "Ctrl+Shift+T", "attach_tab": "Alt+T",
                         "close_tab": "Ctrl+W"}
    assert window.actions["new_tab"].objectName() == "action_new_tab"


def test_ctrl_t_opens_a_tab_with_a_kernel_of_its_own(qtbot, tmp_path):
    window, app = open_window(qtbot, tmp_path)
    first = window.console
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=TIMEOUT_MS)
    qtbot.keyClick(first.editor, Qt.Key_T, Qt.ControlModifier)
    assert window.tabs.count() == 2
    second = window.console
    assert second is not first
    _ready(qtbot, second)
    assert second.manager is not None and second.manager is not first.manager
    assert _pid(qtbot, second) == second.manager.process.pid != first.manager.process.pid
    assert window.tabs.tabText(1) == "Console 2"
    assert second.username == "alice"
    window.close()
    qtbot.waitUntil(lambda: not first.manager.is_alive() and not second.manager.is_alive(), timeout=TIMEOUT_MS)


def test_a_tab_on_the_same_kernel_shares_it_and_sees_the_first_tabs_work(qtbot, tmp_path):
    window, app = open_window(qtbot, tmp_path)
    first = window.console
    run(qtbot, first, "shared_value = 41")
    window.actions["new_tab_same_kernel"].trigger()
    second = window.console
    assert second is not first and second.manager is None
    _ready(qtbot, second)
    assert second.client.connection_file == first.manager.connection_file
    assert run(qtbot, second, "shared_value + 1")["content"]["status"] == "ok"
    assert "42" in second.plain_text().splitlines()
    reply = run(qtbot, first, "print('seen by the other tab')")
    qtbot.waitUntil(lambda: f"[alice·{first.client.session.session_id[:4]}] In [{reply['content']['execution_count']}]"
                    in second.plain_text(raw=True), timeout=TIMEOUT_MS)
    wait_text(qtbot, second, "seen by the other tab\n")


def test_attach_a_tab_from_the_picker(qtbot, tmp_path, km):
    window, app = open_window(qtbot, tmp_path)
    stale = write_connection_file(km.connection_file.parent / "kernel-stale-test.json", new_connection_info())
    unsafe = write_connection_file(km.connection_file.parent / "kernel-unsafe-test.json", new_connection_info())
    os.chmod(unsafe, 0o644)
    try:
        window.activateWindow()
        qtbot.waitUntil(window.isActiveWindow, timeout=TIMEOUT_MS)
        qtbot.keyClick(window.console.editor, Qt.Key_T, Qt.AltModifier)
        picker = window.tab_commands.picker
        assert picker is not None and picker.isVisible()
        assert window.tabs.count() == 1
        qtbot.waitUntil(lambda: picker.status_of(km.connection_file) == "ready", timeout=TIMEOUT_MS)
        assert "qtapp-kernel" in picker.item_for(km.connection_file).text(2)
        qtbot.waitUntil(lambda: picker.status_of(stale) == "silent", timeout=TIMEOUT_MS)
        assert picker.status_of(unsafe) == "refused"
        assert "others can access" in picker.item_for(unsafe).text(2)
        own = window.console.manager.connection_file
        assert "(open here)" in picker.item_for(own).text(0)
        refused = picker.item_for(unsafe)
        assert not refused.flags() & (Qt.ItemIsEnabled | Qt.ItemIsSelectable)  # cannot be chosen
        picker.select(km.connection_file)
        assert picker.attach_button.isEnabled()
        qtbot.mouseClick(picker.attach_button, Qt.LeftButton)
        assert window.tabs.count() == 2
        attached = window.console
        _ready(qtbot, attached)
        assert attached.manager is None
        assert attached.client.connection_file.resolve() == km.connection_file.resolve()
        assert _pid(qtbot, attached) == km.process.pid
    finally:
        stale.unlink()
        unsafe.unlink()


def test_closing_a_tab_that_does_not_own_its_kernel_leaves_the_kernel(qtbot, tmp_path):
    window, app = open_window(qtbot, tmp_path)
    owner = window.console
    window.actions["new_tab_same_kernel"].trigger()
    other = window.console
    _ready(qtbot, other)
    asked = _answer(window, CANCEL)
    window.actions["close_tab"].trigger()
    assert not asked and window.tabs.count() == 1 and window.console is owner
    assert owner.manager.is_alive()
    assert run(qtbot, owner, "'still here'")["content"]["status"] == "ok"


def test_closing_the_owner_tab_asks_and_can_hand_the_kernel_to_the_other_tab(qtbot, tmp_path):
    window, app = open_window(qtbot, tmp_path)
    owner = window.console
    manager = owner.manager
    run(qtbot, owner, "kept = 'yes'")
    window.actions["new_tab_same_kernel"].trigger()
    other = window.console
    _ready(qtbot, other)
    window.tabs.setCurrentWidget(owner)
    asked = _answer(window, CANCEL)
    window.actions["close_tab"].trigger()
    assert len(asked) == 1 and window.tabs.count() == 2  # cancelled: nothing happened
    text, buttons = asked[0]
    assert "Console 1 (2)" in text and buttons == [SHUT_DOWN, KEEP, CANCEL]
    _answer(window, KEEP)
    window.actions["close_tab"].trigger()
    assert window.tabs.count() == 1 and window.console is other
    assert manager.is_alive() and other.manager is manager  # the other tab owns it now
    assert run(qtbot, other, "kept")["content"]["status"] == "ok"
    # as its owner it restarts the kernel itself, and stops it when it closes
    pid = manager.process.pid
    other.restart_kernel(confirm=False)
    qtbot.waitUntil(lambda: manager.process.pid != pid, timeout=TIMEOUT_MS)
    qtbot.waitUntil(lambda: other.is_ready and other.controller.next_count == 1, timeout=TIMEOUT_MS)
    assert run(qtbot, other, "kept")["content"]["ename"] == "NameError"
    window.close()
    qtbot.waitUntil(lambda: not manager.is_alive(), timeout=TIMEOUT_MS)


def test_closing_the_owner_tab_and_shutting_the_kernel_down_tells_the_other_tab(qtbot, tmp_path):
    window, app = open_window(qtbot, tmp_path)
    owner = window.console
    manager = owner.manager
    window.actions["new_tab_same_kernel"].trigger()
    other = window.console
    _ready(qtbot, other)
    window.tabs.setCurrentWidget(owner)
    asked = _answer(window, SHUT_DOWN)
    window.actions["close_tab"].trigger()
    assert len(asked) == 1 and window.tabs.count() == 1
    assert not manager.is_alive()
    wait_text(qtbot, other, "alice shut down the kernel")
    qtbot.waitUntil(lambda: other.controller.state == "shutdown" and other.notice_bar.isVisible(),
                    timeout=TIMEOUT_MS)


def test_closing_the_only_user_of_a_kernel_stops_it_without_asking(qtbot, tmp_path):
    window, app = open_window(qtbot, tmp_path)
    window.actions["new_tab"].trigger()
    second = window.console
    _ready(qtbot, second)
    manager = second.manager
    asked = _answer(window, CANCEL)
    window.actions["close_tab"].trigger()
    assert not asked and window.tabs.count() == 1
    assert not manager.is_alive()
    window.actions["close_tab"].trigger()  # the last tab: the window goes
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=TIMEOUT_MS)


def test_a_kernel_used_by_another_application_can_be_kept_running(qtbot, tmp_path):
    window, app = open_window(qtbot, tmp_path)
    owner = window.console
    manager = owner.manager
    from kernel.client import KernelClient
    elsewhere = KernelClient.from_connection_file(manager.connection_file, username="bob")
    try:
        elsewhere.wait_for_ready(timeout=60)
        elsewhere.execute_interactive("print('bob was here')", timeout=60, output_hook=lambda m: None)
        wait_text(qtbot, owner, "bob was here\n")
        window.actions["new_tab"].trigger()  # so that closing the owner tab leaves the window open
        _ready(qtbot, window.console)
        window.tabs.setCurrentWidget(owner)
        asked = _answer(window, KEEP)
        window.actions["close_tab"].trigger()
        assert len(asked) == 1 and "bob (seen just now)" in asked[0][0]
        assert "ends when this application quits" in asked[0][0]
        assert manager.is_alive() and app.users.kept == [manager]
        assert elsewhere.execute_interactive("1", timeout=60, output_hook=lambda m: None)["content"]["status"] == "ok"
        app.shutdown()
        assert not manager.is_alive()
    finally:
        elsewhere.stop_channels()
        if manager.is_alive():
            manager.shutdown(now=True)


def test_tab_titles_are_edited_in_place(qtbot, tmp_path):
    window, app = open_window(qtbot, tmp_path)
    window.actions["new_tab"].trigger()
    _ready(qtbot, window.console)
    bar = window.tabs.tabBar()
    qtbot.mouseDClick(bar, Qt.LeftButton, pos=bar.tabRect(0).center())
    editor = window.tabs.editor
    assert editor is not None and editor.isVisible() and editor.text() == "Console 1"
    editor.selectAll()
    qtbot.keyClicks(editor, "Experiments")
    qtbot.keyClick(editor, Qt.Key_Return)
    assert window.tabs.tabText(0) == "Experiments"
    window.actions["rename_tab"].trigger()  # the current tab (the second)
    editor = window.tabs.editor
    qtbot.keyClicks(editor, "ignored")
    qtbot.keyClick(editor, Qt.Key_Escape)
    assert window.tabs.tabText(1) == "Console 2"


def test_the_picker_can_attach_to_a_file_from_elsewhere(qtbot, tmp_path, km):
    import shutil
    window, app = open_window(qtbot, tmp_path)
    copy = tmp_path / "copied-kernel.json"
    shutil.copy(km.connection_file, copy)
    os.chmod(copy, 0o600)
    picker = window.tab_commands.attach_tab()
    picker.choose_file(copy)  # what Browse… does with the file chosen
    qtbot.waitUntil(lambda: picker.status_of(copy) == "ready", timeout=TIMEOUT_MS)
    picker.accept()
    attached = window.console
    _ready(qtbot, attached)
    assert attached.client.connection_file == copy
    assert _pid(qtbot, attached) == km.process.pid


def test_the_username_and_the_others_toggle_apply_to_every_tab_and_persist(qtbot, tmp_path):
    window, app = open_window(qtbot, tmp_path)
    window.actions["new_tab_same_kernel"].trigger()
    second = window.console
    _ready(qtbot, second)
    first = window.tabs.widget(0)
    window.set_username("Ada Lovelace")
    assert first.username == second.username == "Ada Lovelace"
    reply = run(qtbot, first, "'named'")
    qtbot.waitUntil(lambda: f"[Ada Lovelace·{first.client.session.session_id[:4]}] In "
                    f"[{reply['content']['execution_count']}]" in second.plain_text(raw=True), timeout=TIMEOUT_MS)
    window.actions["show_others"].trigger()  # off
    assert not first.others_visible and not second.others_visible
    assert app.prefs.username == "Ada Lovelace" and app.prefs.show_others is False
    window.close()
    # a new window (without --username) starts with what was chosen
    options = build_parser().parse_args(["--settings", str(tmp_path / "settings.ini"),
                                         "--config", str(tmp_path / "config.toml")])
    again_app = ConsoleApp(options, Preferences(open_settings(options.settings), load_config(options.config)),
                           exit=lambda code: None)
    again = again_app.open_window()
    qtbot.addWidget(again)
    _ready(qtbot, again.console)
    assert again.console.username == "Ada Lovelace"
    assert not again.console.others_visible and not again.actions["show_others"].isChecked()


def test_without_a_chosen_name_consoles_send_the_login_name(qtbot, tmp_path):
    window, app = open_window(qtbot, tmp_path, username=None)
    first = window.console
    login = getpass.getuser()
    assert app.prefs.username is None
    assert first.client.session.username == login and first.username == login
    window.actions["new_tab_same_kernel"].trigger()
    second = window.console
    _ready(qtbot, second)
    reply = run(qtbot, first, "'whose work'")
    tag, n = first.client.session.session_id[:4], reply["content"]["execution_count"]
    label = f"[{login}·{tag}] In [{n}]: 'whose work'"
    qtbot.waitUntil(lambda: label in second.plain_text(raw=True).splitlines(), timeout=TIMEOUT_MS)
    assert [p.username for p in second.controller.peers.others()] == [login]


def _menu(window, title):
    menus = [a.menu() for a in window.menuBar().actions() if a.menu() and a.text().replace("&", "") == title]
    assert len(menus) == 1, title
    return menus[0]


def _visibility(console, needle):
    """Whether each transcript block containing ``needle`` is shown."""
    console.plain_text()  # everything queued is in the transcript
    found, block = [], console.transcript.document.begin()
    while block.isValid():
        if needle in block.text():
            found.append(block.isVisible())
        block = block.next()
    assert found, needle
    return found


def test_the_view_menus_others_action_hides_and_shows_the_other_clients_work(qtbot, tmp_path):
    window, app = open_window(qtbot, tmp_path)
    mine = window.console
    from kernel.client import KernelClient
    elsewhere = KernelClient.from_connection_file(mine.manager.connection_file, username="bob")
    try:
        elsewhere.wait_for_ready(timeout=60)
        elsewhere.execute_interactive("print('bob was here')", timeout=60, output_hook=lambda m: None)
        wait_text(qtbot, mine, "bob was here\n")
        run(qtbot, mine, "print('my own line')")
        toggle = next(a for a in _menu(window, "View").actions()
                      if a.text().replace("&", "") == "Show others' activity")
        assert toggle is window.actions["show_others"] and toggle.isChecked()
        toggle.trigger()
        assert not toggle.isChecked() and not mine.others_visible
        assert not any(_visibility(mine, "bob was here") + _visibility(mine, "[bob] In ["))
        assert all(_visibility(mine, "my own line"))
        toggle.trigger()
        assert toggle.isChecked() and mine.others_visible
        for needle in ("bob was here", "[bob] In [", "my own line"):
            assert all(_visibility(mine, needle)), needle
    finally:
        elsewhere.stop_channels()
