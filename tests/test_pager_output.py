"""Help pages (?, ??, %pdoc, %psource) and the messages behind output areas
(clear_output with wait, update_display_data), from a real kernel."""

from __future__ import annotations

import pytest

from helpers import run, shell_reply, strip_ansi

FUNCTION = ("def documented(a, b=2):\n"
            "    'Adds two things.'\n"
            "    total = a + b\n"
            "    return total\n")


def page(kc, code: str) -> dict:
    reply, _ = run(kc, code)
    content = reply["content"]
    assert content["status"] == "ok", content
    [payload] = [p for p in content["payload"] if p["source"] == "page"]
    assert set(payload) == {"source", "data", "start"}
    return payload["data"]


@pytest.fixture
def fkc(skc):
    run(skc, FUNCTION)
    return skc


def test_double_question_mark_pages_the_source_as_text_and_html(fkc):
    data = page(fkc, "documented??")
    text = strip_ansi(data["text/plain"])
    assert "total = a + b" in text and "def documented(a, b=2):" in text
    assert "total" in data["text/html"] and "<h1>Source</h1>" in data["text/html"]


def test_question_mark_pages_the_docstring_with_html(fkc):
    data = page(fkc, "documented?")
    assert "Adds two things." in strip_ansi(data["text/plain"])
    assert "total = a + b" not in strip_ansi(data["text/plain"])
    assert "<h1>Docstring</h1>" in data["text/html"] and "Adds two things." in data["text/html"]


def test_psource_and_pdoc_page_text(fkc):
    source = strip_ansi(page(fkc, "%psource documented")["text/plain"])
    assert source.rstrip("\n") == FUNCTION.rstrip("\n")
    assert "Adds two things." in strip_ansi(page(fkc, "%pdoc documented")["text/plain"])


def test_html_pages_can_be_turned_off(fkc):
    run(fkc, "%config KernelShell.enable_html_pager = False")
    try:
        data = page(fkc, "len?")
        assert set(data) == {"text/plain"}
    finally:
        run(fkc, "%config KernelShell.enable_html_pager = True")
    assert "text/html" in page(fkc, "len?")


def test_inspect_replies_stay_plain_text_for_call_tips(fkc):
    content = shell_reply(fkc, fkc.inspect("documented(", 11, 0))["content"]
    assert content["found"] is True and set(content["data"]) == {"text/plain"}


def test_clear_output_wait_in_a_progress_loop(skc):
    code = ("from IPython.display import clear_output\n"
            "for i in range(5):\n"
            "    clear_output(wait=True)\n"
            "    print(f'step {i}')\n")
    _, msgs = run(skc, code)
    seen = [(m["msg_type"], m["content"].get("wait", m["content"].get("text")))
            for m in msgs if m["msg_type"] in ("clear_output", "stream")]
    # Every clear comes before the text it precedes: a frontend that clears on
    # the next output shows exactly one line at every moment.
    assert seen == [x for i in range(5) for x in (("clear_output", True), ("stream", f"step {i}\n"))]


def test_clear_output_before_rich_displays(skc):
    code = ("from IPython.display import clear_output, display, HTML\n"
            "for i in range(3):\n"
            "    clear_output(wait=True)\n"
            "    display(HTML(f'<b>{i}</b>'))\n")
    _, msgs = run(skc, code)
    seen = [m["msg_type"] if m["msg_type"] == "clear_output" else m["content"]["data"]["text/html"]
            for m in msgs if m["msg_type"] in ("clear_output", "display_data")]
    assert seen == ["clear_output", "<b>0</b>", "clear_output", "<b>1</b>", "clear_output", "<b>2</b>"]


def test_update_display_data_replaces_by_display_id_in_order(skc):
    code = ("from IPython.display import display\n"
            "bar = display('0%', display_id=True)\n"
            "other = display('other', display_id='fixed-id')\n"
            "for p in (25, 50, 100):\n"
            "    bar.update(f'{p}%')\n"
            "other.update('other, updated')\n")
    _, msgs = run(skc, code)
    shown = [(m["msg_type"], m["content"]["transient"]["display_id"], m["content"]["data"]["text/plain"])
             for m in msgs if m["msg_type"] in ("display_data", "update_display_data")]
    bar_id = shown[0][1]
    assert bar_id and bar_id != "fixed-id"
    assert shown == [
        ("display_data", bar_id, "'0%'"),
        ("display_data", "fixed-id", "'other'"),
        ("update_display_data", bar_id, "'25%'"),
        ("update_display_data", bar_id, "'50%'"),
        ("update_display_data", bar_id, "'100%'"),
        ("update_display_data", "fixed-id", "'other, updated'"),
    ]


def test_update_reaches_a_display_from_an_earlier_cell(skc):
    _, first = run(skc, "from IPython.display import display\nh = display('before', display_id='kept')")
    _, later = run(skc, "h.update('after')")
    [update] = [m["content"] for m in later if m["msg_type"] == "update_display_data"]
    assert update["transient"] == {"display_id": "kept"} and update["data"]["text/plain"] == "'after'"
    assert [m for m in later if m["msg_type"] == "display_data"] == []
