"""stop_on_error aborts only the executes queued before the failing cell's reply."""

from __future__ import annotations

from helpers import run, shell_reply


def test_execute_sent_after_an_error_reply_is_never_aborted(skc):
    # A client that waits for the error reply before sending its next cell
    # has nothing queued; the next cell must run, however quickly it follows.
    for _ in range(30):
        assert shell_reply(skc, skc.execute("1/0"))["content"]["status"] == "error"
        assert run(skc, "pass")[0]["content"]["status"] == "ok"


def test_interrupted_cell_aborts_what_was_queued_behind_it(kc):
    first = kc.execute("import time; time.sleep(0.3); raise KeyboardInterrupt")
    queued = kc.execute("print('must not run')")
    assert shell_reply(kc, first)["content"]["ename"] == "KeyboardInterrupt"
    assert shell_reply(kc, queued)["content"]["status"] == "aborted"
    assert run(kc, "pass")[0]["content"]["status"] == "ok"
