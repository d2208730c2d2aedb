"""%edit with a real kernel and a real editor process: a small script set as
the editor command writes code into the file and exits, and the console
runs the file in the kernel; -x opens without running; an editor that
detaches at once has the file run on its next save; a missing editor is a
clear message. Also how the editor is chosen ($VISUAL/$EDITOR, terminals,
the desktop's opener)."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

import pytest

from console_helpers import TIMEOUT_MS, make_console, run, wait_text
from qtapp.console.external_editor import NoEditor, resolve_editor, run_command

EDITOR_SCRIPT = """\
import sys, time
path, line, record = sys.argv[1], sys.argv[2], sys.argv[3]
time.sleep(float(sys.argv[4]) if len(sys.argv) > 4 else 0)
with open(record, "w") as f:
    f.write(line)
with open(path, "a") as f:
    f.write("edited_value = 6 * 7\\nprint('ran the edited file', edited_value)\\n")
"""

DETACHING_SCRIPT = "import sys\n"  # hands over and exits at once, as GUI editors do


def editor_command(tmp_path: Path, script: str = EDITOR_SCRIPT, *extra: str) -> str:
    path = tmp_path / "scripted_editor.py"
    path.write_text(script)
    words = [sys.executable, str(path), "{filename}", "{line}", str(tmp_path / "line.txt"), *extra]
    return " ".join(shlex.quote(w) if "{" not in w else w for w in words)


def edit_payload(reply: dict) -> dict:
    [payload] = [p for p in reply["content"]["payload"] if p["source"] == "edit_magic"]
    return payload


def test_edit_of_a_new_file_runs_it_after_the_editor_exits(qtbot, shared_km, tmp_path):
    console = make_console(qtbot, shared_km)
    console.editor_command = editor_command(tmp_path, EDITOR_SCRIPT, "0.3")
    reply = run(qtbot, console, "%edit")
    payload = edit_payload(reply)
    assert payload["run"] is True and Path(payload["filename"]).is_absolute()
    wait_text(qtbot, console, "ran the edited file 42")
    # the run is a cell of its own, in the history (echoed once it is done)
    qtbot.waitUntil(lambda: console.controller.history.entries[-1:] == [run_command(payload["filename"])],
                    timeout=TIMEOUT_MS)
    wait_text(qtbot, console, run_command(payload["filename"]))
    text = console.plain_text()
    assert f"Editing {payload['filename']} with python" in text and "it runs when the editor closes" in text
    run(qtbot, console, "print(edited_value + 1)")  # %run -i: the kernel's namespace
    assert "43" in console.plain_text().splitlines()
    assert (tmp_path / "line.txt").read_text() == "1"


def test_edit_x_opens_at_the_line_without_running(qtbot, shared_km, tmp_path):
    console = make_console(qtbot, shared_km)
    console.editor_command = editor_command(tmp_path)
    target = tmp_path / "module.py"
    target.write_text("a = 1\nb = 2\nc = 3\n")
    reply = run(qtbot, console, f"%edit -x -n 3 {target}")
    assert edit_payload(reply) == {"source": "edit_magic", "filename": str(target), "line_number": 3,
                                   "run": False}
    qtbot.waitUntil(lambda: not console.edits.sessions, timeout=TIMEOUT_MS)
    assert (tmp_path / "line.txt").read_text() == "3"
    assert "edited_value" in target.read_text()  # it was edited...
    assert "it will not be run" in console.plain_text()
    assert "ran the edited file" not in console.plain_text()  # ...and not run


def test_an_editor_that_detaches_has_the_file_run_on_its_next_save(qtbot, shared_km, tmp_path):
    console = make_console(qtbot, shared_km)
    console.editor_command = editor_command(tmp_path, DETACHING_SCRIPT)
    target = tmp_path / "detached.py"
    run(qtbot, console, f"%edit {target}")
    wait_text(qtbot, console, "will run when you next save it")
    assert "detached_ran" not in console.plain_text()
    target.write_text("print('detached_ran', 7 * 6)\n")  # the user saves in the GUI editor
    wait_text(qtbot, console, "detached_ran 42")
    qtbot.waitUntil(lambda: not console.edits.sessions, timeout=TIMEOUT_MS)


def test_a_missing_editor_is_a_clear_message(qtbot, shared_km, tmp_path):
    console = make_console(qtbot, shared_km)
    console.editor_command = "/nonexistent/editor-xyz {filename}"
    run(qtbot, console, f"%edit {tmp_path / 'never.py'}")
    wait_text(qtbot, console, "Could not start the editor '/nonexistent/editor-xyz'")
    qtbot.waitUntil(lambda: not console.edits.sessions, timeout=TIMEOUT_MS)


def test_with_no_editor_anywhere_the_console_says_how_to_set_one_and_goes_on(qtbot, shared_km, tmp_path,
                                                                             monkeypatch):
    console = make_console(qtbot, shared_km)
    assert console.editor_command is None  # no --editor
    monkeypatch.delenv("VISUAL", raising=False)
    monkeypatch.delenv("EDITOR", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))  # no desktop opener either
    target = tmp_path / "somefile.py"
    reply = run(qtbot, console, f"%edit {target}")
    assert edit_payload(reply)["filename"] == str(target)
    wait_text(qtbot, console, f"Cannot open {target}: no editor is configured: start the console with "
                              "--editor 'COMMAND {filename}' (placeholders {filename} and {line}), or set $EDITOR.")
    assert not console.edits.sessions and not target.exists()
    run(qtbot, console, "print(6 * 7)")
    assert console.plain_text().splitlines()[-1] == "42"


# -- choosing the editor ----------------------------------------------------------------------------------

def finder(*present: str):
    return lambda name: f"/usr/bin/{name}" if name in present else None


def test_the_configured_command_fills_its_placeholders():
    launch = resolve_editor("/tmp/my file.py", 7, "myedit --line {line} '{filename}'", env={}, which=finder())
    assert (launch.program, launch.args) == ("myedit", ["--line", "7", "/tmp/my file.py"])
    launch = resolve_editor("/tmp/a.py", None, "gedit", env={"EDITOR": "vim"}, which=finder())
    assert (launch.program, launch.args) == ("gedit", ["/tmp/a.py"])  # no {filename}: appended


def test_terminal_editors_from_the_environment_run_in_a_terminal():
    launch = resolve_editor("/tmp/a.py", 12, None, env={"EDITOR": "vim"}, which=finder("xterm", "vim"))
    assert (launch.program, launch.args) == ("/usr/bin/xterm", ["-e", "vim", "+12", "/tmp/a.py"])
    assert launch.description == "vim in xterm"
    launch = resolve_editor("/tmp/a.py", 12, None, env={"VISUAL": "nano", "EDITOR": "vim"},
                            which=finder("gnome-terminal"))
    assert launch.args == ["--wait", "--", "nano", "+12", "/tmp/a.py"]  # $VISUAL first; a terminal that waits
    launch = resolve_editor("/tmp/a.py", 12, None, env={"EDITOR": "vim"}, which=finder())
    assert launch.program == "vim" and launch.notes  # no terminal found: said so


def test_gui_editors_run_directly_at_the_line():
    launch = resolve_editor("/tmp/a.py", 5, None, env={"EDITOR": "code --wait"}, which=finder("xterm"))
    assert (launch.program, launch.args) == ("code", ["--wait", "--goto", "/tmp/a.py:5"])


def test_without_any_editor_the_desktop_opener_or_a_clear_error():
    launch = resolve_editor("/tmp/a.py", 5, None, env={}, which=finder("xdg-open"))
    assert launch.program == "/usr/bin/xdg-open" and launch.detaches
    with pytest.raises(NoEditor, match="--editor 'COMMAND {filename}'.*\\$EDITOR"):
        resolve_editor("/tmp/a.py", 5, None, env={}, which=finder())


def test_the_editor_setting_is_used_unless_the_option_says_otherwise(qtbot, tmp_path):
    from qtapp.config import load_config
    from qtapp.settings import Preferences, open_settings
    from test_mainwindow import open_window

    prefs = Preferences(open_settings(str(tmp_path / "settings.ini")), load_config(tmp_path / "config.toml"))
    prefs.editor_command = "from-settings {filename}"  # saved into the config file
    prefs.sync()
    window, _, _ = open_window(qtbot, tmp_path)
    assert window.console.editor_command == "from-settings {filename}"
    window.close()
    window, _, _ = open_window(qtbot, tmp_path, "--editor", "from-option +{line} {filename}")
    assert window.console.editor_command == "from-option +{line} {filename}"


LINGERING_SCRIPT = """\
import os, sys, time
with open(sys.argv[3], "w") as f:
    f.write(str(os.getpid()))
stop = sys.argv[3] + ".stop"
deadline = time.monotonic() + 120
while not os.path.exists(stop) and time.monotonic() < deadline:
    time.sleep(0.05)
"""


def test_closing_the_console_leaves_the_editor_running(qtbot, shared_km, tmp_path):
    from helpers import process_gone, wait_until

    console = make_console(qtbot, shared_km)
    console.editor_command = editor_command(tmp_path, LINGERING_SCRIPT)
    run(qtbot, console, f"%edit {tmp_path / 'unsaved.py'}")
    pid_file = tmp_path / "line.txt"
    wait_until(lambda: pid_file.exists() and pid_file.read_text().strip().isdigit(), timeout=60, what="editor pid")
    pid = int(pid_file.read_text())
    console.close()
    assert not process_gone(pid)  # the user's unsaved work is not killed with the console
    (tmp_path / "line.txt.stop").write_text("")
    wait_until(lambda: process_gone(pid), timeout=60, what="editor exit")
