"""The main window with a real kernel: menus and named actions, status bar,
zoom (also Ctrl+wheel), themes and styles, settings that persist, saving as
HTML, printing, find, and payloads that act on the window."""

from __future__ import annotations

from PyQt5.QtCore import QPoint, QPointF, Qt
from PyQt5.QtGui import QTextDocument, QWheelEvent
from PyQt5.QtWidgets import QApplication

from console_helpers import TIMEOUT_MS, run, wait_text
from qtapp.__main__ import build_parser
from qtapp.app import ConsoleApp
from qtapp.config import load_config
from qtapp.settings import Preferences, open_settings


def open_window(qtbot, tmp_path, *args):
    options = build_parser().parse_args(["--settings", str(tmp_path / "settings.ini"), "--no-confirm-restart",
                                         "--config", str(tmp_path / "config.toml"), *args])
    exits = []
    prefs = Preferences(open_settings(options.settings), load_config(options.config))
    app = ConsoleApp(options, prefs, exit=exits.append)
    window = app.open_window()
    qtbot.addWidget(window)
    qtbot.waitUntil(lambda: window.console.is_ready and window.console.controller.next_count is not None,
                    timeout=TIMEOUT_MS)
    return window, app, exits


def test_menus_offer_named_actions(qtbot, tmp_path):
    window, _, _ = open_window(qtbot, tmp_path)
    names = {a.objectName() for a in window.findChildren(type(window.actions["copy"]))}
    for name in ("new_window", "save_html", "print", "quit", "undo", "redo", "cut", "copy", "copy_raw",
                 "paste", "select_all", "find", "zoom_in", "zoom_out", "zoom_reset", "clear", "font",
                 "theme_light", "theme_dark", "style_monokai", "interrupt", "restart", "restart_clear", "shutdown"):
        assert f"action_{name}" in names
    menus = [a.text().replace("&", "") for a in window.menuBar().actions()]
    assert menus == ["File", "Edit", "View", "Kernel", "Help"]
    assert window.actions["zoom_in"].shortcut().toString() == "Ctrl++"


def test_restart_and_clear_empties_the_transcript_and_starts_over(qtbot, tmp_path):
    window, _, _ = open_window(qtbot, tmp_path)  # --no-confirm-restart
    console = window.console
    run(qtbot, console, "survivor = 1; print('before the restart')")
    pid = console.manager.process.pid
    window.actions["restart_clear"].trigger()
    wait_text(qtbot, console, "Kernel restarted")
    qtbot.waitUntil(lambda: console.is_ready and console.controller.next_count == 1, timeout=TIMEOUT_MS)
    assert console.manager.process.pid != pid
    assert "before the restart" not in console.plain_text()
    assert console.plain_text().strip() == "Kernel restarted"
    assert run(qtbot, console, "survivor")["content"]["ename"] == "NameError"


def test_status_bar_shows_busy_with_elapsed_time_then_idle(qtbot, tmp_path):
    window, _, _ = open_window(qtbot, tmp_path)
    assert window.state_label.text() == "Idle"
    assert "qtapp-kernel" in window.kernel_label.text() and "python" in window.kernel_label.text()
    window.console.execute("import time; time.sleep(2.5)")
    qtbot.waitUntil(lambda: "running for 0:01" in window.state_label.text(), timeout=TIMEOUT_MS)
    assert window.state_label.text().startswith("Busy")
    qtbot.waitUntil(lambda: window.state_label.text() == "Idle", timeout=TIMEOUT_MS)


def test_zoom_by_menu_and_ctrl_wheel_and_it_persists(qtbot, tmp_path):
    window, _, _ = open_window(qtbot, tmp_path)
    console = window.console
    base = console.transcript.view.font().pointSizeF()
    window.actions["zoom_in"].trigger()
    assert console.transcript.view.font().pointSizeF() == base + 1
    assert console.editor.font().pointSizeF() == base + 1
    view = console.transcript.view.viewport()
    wheel = QWheelEvent(QPointF(10, 10), QPointF(view.mapToGlobal(QPoint(10, 10))), QPoint(0, 0), QPoint(0, 120),
                        Qt.NoButton, Qt.ControlModifier, Qt.NoScrollPhase, False)
    QApplication.sendEvent(view, wheel)
    assert console.transcript.view.font().pointSizeF() == base + 2
    window.close()
    again, _, _ = open_window(qtbot, tmp_path)
    assert again.console.transcript.view.font().pointSizeF() == base + 2
    again.actions["zoom_reset"].trigger()
    assert again.console.transcript.view.font().pointSizeF() == base


def test_theme_style_font_and_geometry_persist(qtbot, tmp_path):
    window, _, _ = open_window(qtbot, tmp_path)
    window.actions["style_monokai"].trigger()  # a dark style brings the dark theme
    assert window.console.theme.name == "dark" and window.console.syntax_style == "monokai"
    assert window.actions["theme_dark"].isChecked()
    from PyQt5.QtGui import QFont
    window.set_font(QFont("DejaVu Sans Mono", 12))
    window.resize(777, 555)
    window.close()
    again, _, _ = open_window(qtbot, tmp_path)
    c = again.console
    assert c.theme.name == "dark" and c.syntax_style == "monokai"
    assert c.base_font.pointSizeF() == 12
    assert (again.width(), again.height()) == (777, 555)
    again.actions["theme_light"].trigger()
    assert c.theme.name == "light" and c.syntax_style == "default"


def test_save_as_html_and_print_to_pdf(qtbot, tmp_path):
    window, _, _ = open_window(qtbot, tmp_path)
    run(qtbot, window.console, "for_export = [1, 2, 3]\nprint(for_export)")
    path = tmp_path / "session.html"
    window.save_html(str(path))
    html = path.read_text(encoding="utf-8")
    assert "[1, 2, 3]" in html and "for_export" in html
    assert 'style="color:' in html  # the echoed input kept its highlighting
    from PyQt5.QtPrintSupport import QPrinter
    printer = QPrinter()
    printer.setOutputFormat(QPrinter.PdfFormat)
    pdf = tmp_path / "session.pdf"
    printer.setOutputFileName(str(pdf))
    window.console.print_to(printer)
    assert pdf.read_bytes().startswith(b"%PDF") and pdf.stat().st_size > 1000


def test_find_bar_selects_matches_in_the_transcript(qtbot, tmp_path):
    window, _, _ = open_window(qtbot, tmp_path)
    run(qtbot, window.console, "print('needle one'); print('hay'); print('needle two')")
    window.actions["find"].trigger()
    bar = window.console.find_bar
    assert bar.isVisible()
    qtbot.keyClicks(bar.line, "needle t")
    assert window.console.transcript.view.textCursor().selectedText() == "needle t"
    qtbot.keyClick(bar.line, Qt.Key_Escape)
    assert not bar.isVisible()


def test_exit_in_a_cell_closes_the_window_and_its_kernel(qtbot, tmp_path):
    window, _, _ = open_window(qtbot, tmp_path)
    manager = window.console.manager
    window.console.execute("exit()")
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=TIMEOUT_MS)
    qtbot.waitUntil(lambda: not manager.is_alive(), timeout=TIMEOUT_MS)


def test_set_next_input_fills_the_editor_and_unknown_payloads_are_reported_once(qtbot, tmp_path):
    window, _, _ = open_window(qtbot, tmp_path)
    console = window.console
    run(qtbot, console, "get_ipython().set_next_input('prepared = 1')")
    assert console.editor.source == "prepared = 1"
    console.set_input_text("")
    for _ in range(2):
        run(qtbot, console, "get_ipython().payload_manager.write_payload({'source': 'mystery'})")
    assert console.plain_text().count("'mystery' payload") == 1


def test_help_text_is_paged_inline(qtbot, tmp_path):
    window, _, _ = open_window(qtbot, tmp_path)
    run(qtbot, window.console, "len?")
    assert "Return the number of items in a container." in window.console.plain_text()


def test_new_window_starts_its_own_kernel(qtbot, tmp_path):
    window, app, _ = open_window(qtbot, tmp_path)
    window.actions["new_window"].trigger()
    assert len(app.windows) == 2
    second = app.windows[1]
    qtbot.addWidget(second)
    qtbot.waitUntil(lambda: second.console.is_ready, timeout=TIMEOUT_MS)
    assert second.console.manager is not window.console.manager
    assert second.console.manager.process.pid != window.console.manager.process.pid


def test_shutting_the_kernel_down_and_starting_it_again(qtbot, tmp_path):
    window, _, _ = open_window(qtbot, tmp_path)
    console = window.console
    manager = console.manager
    run(qtbot, console, "before_shutdown = 1")
    window.actions["shutdown"].trigger()
    assert not manager.is_alive()
    assert window.state_label.text() == "Kernel shut down"
    assert "Kernel shut down" in console.plain_text()
    assert console.notice_bar.isVisible() and console.notice_bar.buttons
    qtbot.mouseClick(console.notice_bar.buttons[0], Qt.LeftButton)  # "Start kernel"
    qtbot.waitUntil(lambda: console.is_ready and console.controller.next_count == 1, timeout=TIMEOUT_MS)
    assert manager.is_alive() and window.state_label.text() == "Idle"
    assert run(qtbot, console, "before_shutdown")["content"]["ename"] == "NameError"


def test_edit_copy_strips_prompts_and_copy_with_prompts_keeps_them(qtbot, tmp_path):
    window, _, _ = open_window(qtbot, tmp_path)
    console = window.console
    reply = run(qtbot, console, "total = 2 + 3\ntotal")
    n = reply["content"]["execution_count"]
    console.plain_text()  # drawn
    view = console.transcript.view
    view.setFocus()
    window.actions["select_all"].trigger()
    window.actions["copy"].trigger()
    copied = QApplication.clipboard().text()
    assert copied.endswith("total = 2 + 3\ntotal\n5") and "In [" not in copied
    window.actions["copy_raw"].trigger()
    assert QApplication.clipboard().text().endswith(
        f"In [{n}]: total = 2 + 3\n{' ' * (len(str(n)) + 2)}...: total\nOut[{n}]: 5")


def test_edit_menu_undoes_redoes_cuts_and_pastes_in_the_input(qtbot, tmp_path):
    window, _, _ = open_window(qtbot, tmp_path)
    console = window.console
    editor = console.editor
    editor.setFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is editor, timeout=TIMEOUT_MS)
    qtbot.keyClicks(editor, "typed_value = 42")
    window.actions["undo"].trigger()
    assert editor.source == ""
    window.actions["redo"].trigger()
    assert editor.source == "typed_value = 42"
    window.actions["select_all"].trigger()
    window.actions["cut"].trigger()
    assert editor.source == ""
    assert QApplication.clipboard().text() == "typed_value = 42"
    window.actions["paste"].trigger()
    assert editor.source == "typed_value = 42"


def test_edit_copy_takes_the_transcript_selection(qtbot, tmp_path):
    window, _, _ = open_window(qtbot, tmp_path)
    console = window.console
    run(qtbot, console, "print('copied from the transcript')")
    assert "copied from the transcript" in console.plain_text().splitlines()  # drawn
    QApplication.clipboard().setText("stale")
    view = console.transcript.view
    view.setFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is view, timeout=TIMEOUT_MS)
    doc = view.document()
    cursor = doc.find("copied from the transcript", doc.characterCount() - 1, QTextDocument.FindBackward)
    assert cursor.block().text() == "copied from the transcript"  # the output line, not the echoed cell
    view.setTextCursor(cursor)
    window.actions["copy"].trigger()
    assert QApplication.clipboard().text() == "copied from the transcript"
