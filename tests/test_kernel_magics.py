"""%edit, %exit/%quit, %config, the pager magics (%less, %more, %man),
%clear, %connect_info and %qtconsole in a real kernel: the payloads and output
a frontend acts on, and clear errors for bad arguments."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from helpers import run, shell_reply, stdout_of, strip_ansi
from kernel.magics import CLEAR_SCREEN


def payloads(kc, code: str, source: str) -> list:
    reply, _ = run(kc, code)
    content = reply["content"]
    assert content["status"] == "ok", f"{code!r}: {content.get('ename')}: {content.get('evalue')}"
    return [p for p in content["payload"] if p["source"] == source]


def edit(kc, line: str) -> dict:
    [payload] = payloads(kc, line, "edit_magic")
    assert set(payload) == {"source", "filename", "line_number", "run"}
    assert os.path.isabs(payload["filename"])
    return payload


def usage_error(kc, code: str) -> str:
    reply, _ = run(kc, code)
    content = reply["content"]
    assert content["status"] == "error" and content["ename"] == "UsageError", content
    assert content["payload"] == []
    return content["evalue"]


# -- %edit --------------------------------------------------------------------

def test_edit_without_argument_opens_a_new_temporary_file(skc):
    first = edit(skc, "%edit")
    second = edit(skc, "%ed")  # IPython's alias
    assert first["line_number"] is None and first["run"] is True
    path = Path(first["filename"])
    assert path.suffix == ".py" and path.is_file() and path.read_text() == ""
    assert second["filename"] != first["filename"]


def test_edit_x_asks_not_to_run(skc):
    assert edit(skc, "%edit -x")["run"] is False


def test_edit_an_existing_file(skc, tmp_path):
    script = tmp_path / "tool.py"
    script.write_text("print('tool')\n")
    payload = edit(skc, f"%edit {script}")
    assert payload == {"source": "edit_magic", "filename": str(script), "line_number": None, "run": True}
    # without the .py, and relative to the kernel's working directory
    run(skc, f"import os; os.chdir({str(tmp_path)!r})")
    assert edit(skc, "%edit -n 1 tool")["filename"] == str(script)
    assert edit(skc, "%edit -n 1 tool")["line_number"] == 1


def test_edit_a_new_py_file_names_it_without_creating_it(skc, tmp_path):
    payload = edit(skc, f"%edit {tmp_path / 'new_module.py'}")
    assert payload["filename"] == str(tmp_path / "new_module.py")
    assert not (tmp_path / "new_module.py").exists()


def test_edit_an_object_opens_its_source_file_at_its_definition(skc, tmp_path):
    (tmp_path / "edited_mod.py").write_text("x = 1\n\n\ndef helper():\n    return 2\n\n\nclass Thing:\n    pass\n")
    run(skc, f"import sys; sys.path.insert(0, {str(tmp_path)!r}); import edited_mod")
    filename = str(tmp_path / "edited_mod.py")
    assert edit(skc, "%edit edited_mod.helper") == {
        "source": "edit_magic", "filename": filename, "line_number": 4, "run": True}
    assert edit(skc, "%edit edited_mod.Thing")["line_number"] == 8
    assert edit(skc, "%edit edited_mod.Thing()")["line_number"] == 8  # an instance: its class
    assert edit(skc, "%edit edited_mod")["filename"] == filename
    assert edit(skc, "%edit -n 2 edited_mod.helper")["line_number"] == 2


def test_edit_an_object_defined_in_a_cell_opens_that_cell(skc):
    cell = "import math\n\n\ndef from_a_cell(a):\n    return a\n\n\nclass CellClass:\n    def m(self):\n        pass\n"
    run(skc, cell)
    payload = edit(skc, "%edit from_a_cell")
    assert Path(payload["filename"]).read_text() == cell
    assert payload["line_number"] == 4
    assert edit(skc, "%edit CellClass")["line_number"] == 8
    assert edit(skc, "%edit CellClass()")["line_number"] == 8


def test_edit_a_history_range_opens_those_inputs(kc):
    for code in ("a = 1", "b = a + 1", "c = b * 2"):
        run(kc, code)
    payload = edit(kc, "%edit 2-3")
    assert Path(payload["filename"]).read_text() == "b = a + 1\nc = b * 2"
    assert payload["line_number"] is None and payload["run"] is True
    raw = edit(kc, "%edit -r 1")
    assert Path(raw["filename"]).read_text() == "a = 1"


def test_edit_a_string_variable_opens_its_text(skc):
    run(skc, "snippet = 'print(\"from a string\")\\n'")
    payload = edit(skc, "%edit snippet")
    assert Path(payload["filename"]).read_text() == 'print("from a string")\n'


def test_edit_p_reopens_the_previous_target(skc, tmp_path):
    target = tmp_path / "again.py"
    target.write_text("")
    edit(skc, f"%edit {target}")
    assert edit(skc, "%edit -p")["filename"] == str(target)


@pytest.mark.parametrize("line,expected", [
    ("%edit no_such_name_anywhere", "is not a file, a range of input history or a variable"),
    ("%edit len", "cannot find the file where len is defined"),
    ("%edit -n seven", "-n needs a line number"),
    ("%edit 9999", "no input history matches '9999'"),
    ("%edit 1/0 + 'x'", "evaluating"),
])
def test_edit_bad_arguments_are_clear_errors(skc, line, expected):
    assert expected in usage_error(skc, line)


# -- %exit / %quit ------------------------------------------------------------

@pytest.mark.parametrize("code,keep", [
    ("%exit", False), ("%exit -k", True), ("%quit", False), ("%quit -k", True),
    ("exit -k", True), ("quit -k", True), ("exit", False),
])
def test_exit_asks_the_frontend_to_close(skc, code, keep):
    assert payloads(skc, code, "ask_exit") == [{"source": "ask_exit", "keepkernel": keep}]
    assert run(skc, "1 + 1")[0]["content"]["status"] == "ok"  # the kernel itself stays


def test_exit_with_other_arguments_is_refused(skc):
    assert "only -k" in usage_error(skc, "%exit now")


def test_a_user_variable_named_exit_wins(kc):
    run(kc, "get_ipython().user_ns['exit'] = lambda *a: 'mine'")
    reply, _ = run(kc, "exit -k")  # now plain Python: exit minus k
    assert reply["content"]["ename"] == "NameError" and reply["content"]["payload"] == []


# -- %config -------------------------------------------------------------------

def test_config_reports_refused_values_and_unknown_classes(skc):
    assert "unknown figure format 'bmp'" in usage_error(skc, "%config InlineBackend.figure_format = 'bmp'")
    assert "no configurable named 'NoSuchThing'" in usage_error(skc, "%config NoSuchThing.x = 1")
    assert "cannot evaluate" in usage_error(skc, "%config InlineBackend.close_figures = undefined_name")


def test_config_lists_and_reads_like_ipython(skc):
    _, msgs = run(skc, "%config")
    listed = "".join(m["content"]["text"] for m in msgs if m["msg_type"] == "stream")
    assert "InlineBackend" in listed and "KernelShell" in listed
    reply, msgs = run(skc, "%config InlineBackend.close_figures")
    [value] = [m["content"]["data"]["text/plain"] for m in msgs if m["msg_type"] == "execute_result"]
    assert value == "True"


def test_exit_stays_in_the_history_so_numbers_match_prompts(kc):
    counts = {}
    for code in ("first = 1", "exit", "%exit -k", "quit", "last = 2"):
        counts[code] = run(kc, code)[0]["content"]["execution_count"]
    assert Path(edit(kc, f"%edit {counts['last = 2']}")["filename"]).read_text() == "last = 2"
    rng = shell_reply(kc, kc.history(hist_access_type="range", session=0, start=1, stop=6))["content"]["history"]
    assert [(h[1], h[2]) for h in rng] == [(n, code) for code, n in counts.items()]


# -- %clear, %less, %more, %man ----------------------------------------------------

def page_text(kc, code: str) -> str:
    [payload] = payloads(kc, code, "page")
    return payload["data"]["text/plain"]


def test_clear_prints_the_terminal_erase_display_sequence(skc):
    for code in ("%clear", "%cls"):
        reply, msgs = run(skc, code)
        assert reply["content"]["status"] == "ok"
        assert stdout_of(msgs) == CLEAR_SCREEN == "\x1b[H\x1b[2J"
    assert "takes no arguments" in usage_error(skc, "%clear now")


def test_less_and_more_page_a_file_and_highlight_python(skc, tmp_path):
    notes = tmp_path / "notes with space.txt"
    notes.write_text("first line\nsecond: ünïcode\n", encoding="utf-8")
    assert page_text(skc, f"%less '{notes}'") == "first line\nsecond: ünïcode\n"
    assert page_text(skc, f'%more "{notes}"') == "first line\nsecond: ünïcode\n"
    script = tmp_path / "tool.py"
    script.write_text("def tool(x):\n    return 'done'\n")
    shown = page_text(skc, f"%less {script}")
    assert "\x1b[" in shown and strip_ansi(shown) == script.read_text()


@pytest.mark.parametrize("line, expected", [
    ("%less", "expected one FILE, got 0 arguments"),
    ("%less a b", "expected one FILE, got 2 arguments"),
    ("%less 'unclosed", "No closing quotation"),
    ("%less /no/such/file.txt", "cannot read /no/such/file.txt: No such file or directory"),
])
def test_less_bad_arguments_are_clear_errors(skc, line, expected):
    assert expected in usage_error(skc, line)


def test_less_refuses_directories_and_binary_files(skc, tmp_path):
    assert f"{tmp_path} is a directory" in usage_error(skc, f"%less {tmp_path}")
    blob = tmp_path / "blob.bin"
    blob.write_bytes(b"\x7fELF\x00\x01\x02" * 10)
    assert f"{blob} is not a text file" in usage_error(skc, f"%less {blob}")


def _has_man_page(name: str) -> bool:
    man = shutil.which("man")
    return man is not None and subprocess.run([man, "-w", name], capture_output=True).returncode == 0


@pytest.mark.skipif(not _has_man_page("ls"), reason="no man program or no manual page for ls here")
def test_man_pages_a_manual_page_as_plain_text(skc):
    text = page_text(skc, "%man ls")
    assert re.search(r"^NAME\s*$", text, re.M) and "ls - list directory contents" in text
    assert "\x08" not in text  # no overstrike bold or underline left


@pytest.mark.skipif(shutil.which("man") is None, reason="no man program here")
def test_man_without_a_page_or_a_name_is_a_clear_error(skc):
    assert "no-such-page-here" in usage_error(skc, "%man no-such-page-here").lower()
    assert "which manual page?" in usage_error(skc, "%man")


def test_man_without_a_man_program_says_so(kc):
    run(kc, "import os; os.environ['PATH'] = ''")
    assert "this system has no man program" in usage_error(kc, "%man ls")


# -- %connect_info and %qtconsole ------------------------------------------------------

def test_connect_info_prints_the_connection_file_and_how_to_attach(skc, shared_km):
    reply, msgs = run(skc, "%connect_info")
    assert reply["content"]["status"] == "ok"
    out = stdout_of(msgs)
    document, _, advice = out.partition("\n\n")
    assert json.loads(document) == json.loads(Path(shared_km.connection_file).read_text())
    name = Path(shared_km.connection_file).name  # in the runtime directory: the name is enough
    assert f"qtapp --existing {name}\n" in advice and f"jupyter console --existing {name}\n" in advice
    assert "takes no arguments" in usage_error(skc, "%connect_info now")


def test_qtconsole_without_a_display_says_how_to_attach_instead(kc, km):
    run(kc, "import os\nfor name in ('DISPLAY', 'WAYLAND_DISPLAY', 'QT_QPA_PLATFORM'): os.environ.pop(name, None)")
    error = usage_error(kc, "%qtconsole")
    assert "the kernel has no display" in error
    assert f"qtapp --existing {Path(km.connection_file).name}" in error
