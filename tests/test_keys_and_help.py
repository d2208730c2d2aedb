"""Keys from the config file change what keys do (console commands and menu
commands alike); Help > Keyboard shortcuts lists the keys in force; Help >
About and --version give the versions of every part, the kernel's included."""

from __future__ import annotations

import platform
import subprocess
import sys

import zmq
from PyQt5.QtCore import PYQT_VERSION_STR, Qt, qVersion
from PyQt5.QtWidgets import QLabel

from console_helpers import TIMEOUT_MS, run
from kernel._version import __version__
from kernel.wire import PROTOCOL_VERSION
from qtapp.__main__ import build_parser
from qtapp.configfile import default_text
from qtapp.console.keymap import DEFAULT_BINDINGS
from qtapp.shortcuts import commands, config_rows
from test_mainwindow import open_window


def _window_with_keys(qtbot, tmp_path, keys: str):
    (tmp_path / "config.toml").write_text("[keys]\n" + keys)
    window, app, _ = open_window(qtbot, tmp_path)
    window.activateWindow()
    qtbot.waitActive(window)
    window.console.editor.setFocus()
    return window


def test_rebinding_force_run_in_the_config_changes_what_the_keys_do(qtbot, tmp_path):
    window = _window_with_keys(qtbot, tmp_path, 'force_run = "Ctrl+J"\n')
    console = window.console
    qtbot.keyClicks(console.editor, "for i in range(2): print('row', i)")
    with qtbot.waitSignal(console.executed, timeout=TIMEOUT_MS):
        qtbot.keyClick(console.editor, Qt.Key_J, Qt.ControlModifier)
    assert "row 0\nrow 1" in console.plain_text()
    qtbot.keyClicks(console.editor, "6 * 7")
    qtbot.keyClick(console.editor, Qt.Key_Return, Qt.ShiftModifier)  # no longer a command: a plain new line
    assert console.editor.source == "6 * 7\n"


def test_a_key_given_to_a_menu_command_is_taken_from_the_console_command(qtbot, tmp_path):
    window = _window_with_keys(qtbot, tmp_path, 'zoom_in = "Ctrl+K"\nclear = ["F9"]\n')
    console = window.console
    base = console.transcript.view.font().pointSizeF()
    qtbot.keyClicks(console.editor, "kept text")
    qtbot.keyClick(console.editor, Qt.Key_Home)
    qtbot.keyClick(console.editor, Qt.Key_K, Qt.ControlModifier)  # was kill_line: now zooms
    assert console.transcript.view.font().pointSizeF() == base + 1
    assert console.editor.source == "kept text"
    assert [k.toString() for k in console.keymap.keys("kill_line")] == []
    assert window.actions["zoom_in"].shortcuts()[0].toString() == "Ctrl+K"
    run(qtbot, console, "print('to be cleared')")
    assert "to be cleared" in console.plain_text()
    qtbot.keyClick(console.editor, Qt.Key_F9)
    assert "to be cleared" not in console.plain_text()


def test_menu_items_show_the_console_keys_they_stand_for_after_rebinding(qtbot, tmp_path):
    window = _window_with_keys(qtbot, tmp_path, 'interrupt_or_copy = "Ctrl+I"\nrestart_kernel = []\n')
    assert window.actions["interrupt"].text() == "&Interrupt\tCtrl+I"
    assert window.actions["restart"].text() == "&Restart…"
    console = window.console
    console.execute("import time; time.sleep(60)")
    qtbot.waitUntil(lambda: console.controller.busy, timeout=TIMEOUT_MS)
    with qtbot.waitSignal(console.executed, timeout=TIMEOUT_MS) as done:
        qtbot.keyClick(console.editor, Qt.Key_I, Qt.ControlModifier)
    assert done.args[0]["content"]["ename"] == "KeyboardInterrupt"


def test_bad_bindings_are_reported_and_the_good_ones_applied(qtbot, tmp_path):
    window = _window_with_keys(qtbot, tmp_path,
                               'zoom_inn = "F6"\nforce_run = "F8"\nforce_newline = "F8"\nyank = "Ctrl+Foo"\n')
    console = window.console
    path = tmp_path / "config.toml"
    text = console.plain_text()
    assert f"{path}: keys.zoom_inn: no command has that name (ignored); did you mean 'zoom_in'?" in text
    assert f"{path}: keys.force_newline: F8 is also given to force_run; force_newline gets it" in text
    assert f"{path}: keys.yank: 'Ctrl+Foo' is not a key Qt knows" in text
    assert [k.toString() for k in console.keymap.keys("force_newline")] == ["F8"]
    assert [k.toString() for k in console.keymap.keys("force_run")] == []
    assert [k.toString() for k in console.keymap.keys("yank")] == ["Ctrl+Y"]


def test_keyboard_shortcuts_lists_the_keys_in_force(qtbot, tmp_path):
    window = _window_with_keys(qtbot, tmp_path, 'force_run = ["Ctrl+J", "Shift+Return"]\nzoom_out = "F5"\n')
    window.actions["shortcuts"].trigger()
    dialog = window.shortcuts_dialog
    assert dialog.isVisible()
    rows = dialog.rows()
    assert ["Ctrl+J, Shift+Return", "Run the cell as it is", "Console", "force_run"] in rows
    assert ["F5", "View > Zoom out", "Menu", "zoom_out"] in rows
    names = {r[3] for r in rows}
    assert set(DEFAULT_BINDINGS) <= names and {"save_html", "about", "shortcuts", "new_window"} <= names
    intro = dialog.findChild(QLabel)
    assert f"the [keys] table of {tmp_path / 'config.toml'}" in intro.text()
    qtbot.keyClicks(dialog.filter, "zoom")
    assert {r[3] for r in dialog.rows()} == {"zoom_in", "zoom_out", "zoom_reset"}
    dialog.close()


def test_every_command_in_the_shortcuts_list_is_in_the_generated_config(qtbot, tmp_path):
    window, _, _ = open_window(qtbot, tmp_path)
    listed = {c.name for c in commands(window) if not c.name.startswith("style_")}
    text = default_text(config_rows(window))
    assert all(f"# {name} = " in text for name in listed)


def test_about_shows_the_versions_of_every_part_and_of_the_kernel(qtbot, tmp_path):
    window, _, _ = open_window(qtbot, tmp_path)
    window.actions["about"].trigger()
    box = window.about_dialog
    assert box.isVisible()
    text = box.text()
    info = window.console.controller.kernel_info["content"]
    for expected in (f"qtapp {__version__}", qVersion(), PYQT_VERSION_STR, platform.python_version(),
                     zmq.__version__, zmq.zmq_version(), info["implementation"], info["protocol_version"],
                     str(window.console.client.connection_file), str(tmp_path / "config.toml")):
        assert expected in text, expected
    assert info["implementation"] == "qtapp-kernel" and info["protocol_version"] == PROTOCOL_VERSION
    assert not box.iconPixmap().isNull()
    box.accept()


def test_version_option_lists_the_same_versions():
    out = subprocess.run([sys.executable, "-m", "qtapp", "--version"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and out.stderr == ""
    lines = out.stdout.splitlines()
    assert lines[0] == f"qtapp {__version__}"
    body = "\n".join(lines[1:])
    for expected in (qVersion(), PYQT_VERSION_STR, platform.python_version(), zmq.__version__):
        assert expected in body


def test_every_console_made_for_the_app_gets_the_users_keys(qtbot, tmp_path):
    """A console made later (a new tab, a new window) has its own keymap: it is configured too."""
    from qtapp.app import make_console
    from qtapp.config import load_config
    from qtapp.settings import Preferences, open_settings

    (tmp_path / "config.toml").write_text('[keys]\nforce_run = "Ctrl+J"\nzoom_in = "Ctrl+K"\n')
    options = build_parser().parse_args([])
    prefs = Preferences(open_settings(str(tmp_path / "w.ini")), load_config(tmp_path / "config.toml"))
    console = make_console(options, prefs)
    qtbot.addWidget(console)
    console.shutdown_kernel_on_close = False  # never started
    assert [k.toString() for k in console.keymap.keys("force_run")] == ["Ctrl+J"]
    assert [k.toString() for k in console.keymap.keys("kill_line")] == []  # Ctrl+K went to the menu command
