"""Output areas redrawn in place: after clear_output, an execution's new output
goes where its old output was, even when later cells follow it, without
gaps and without disturbing the neighbours' prompts. Driven with the
operations the controller queues (no kernel needed)."""

from __future__ import annotations

import pytest

from console_helpers import apply, view_console
from qtapp.console.outputs import BundleOp, ClearOp, EchoOp, ErrorOp, StreamOp


@pytest.fixture
def console(qtbot):
    return view_console(qtbot)



def two_cells(console):
    apply(console, EchoOp("a", "progress()", 1), StreamOp.of("a", "stdout", "step 0\n"),
          EchoOp("b", "x = 1", 2), StreamOp.of("b", "stdout", "b's output\n"))


def test_output_after_clear_output_goes_back_in_place(console):
    two_cells(console)
    for i in range(1, 6):
        apply(console, ClearOp("a", wait=True), StreamOp.of("a", "stdout", f"step {i}\n"))
    assert console.plain_text() == "progress()\nstep 5\nx = 1\nb's output\n"
    assert console.plain_text(raw=True) == "In [1]: progress()\nstep 5\nIn [2]: x = 1\nb's output\n"


def test_an_open_line_redraws_in_place_too(console):
    two_cells(console)
    apply(console, ClearOp("a", wait=False), StreamOp.of("a", "stdout", "10%"))
    assert console.plain_text() == "progress()\n10%\nx = 1\nb's output\n"
    apply(console, StreamOp.of("a", "stdout", "\r50%"), StreamOp.of("a", "stderr", " warn\n"),
          StreamOp.of("a", "stdout", "\r100% done\nnext line\n"))
    assert console.plain_text() == "progress()\n50% warn\n100% done\nnext line\nx = 1\nb's output\n"
    assert console.plain_text(raw=True).count("In [2]: x = 1") == 1


def test_displays_and_errors_after_a_clear_go_in_place(console):
    two_cells(console)
    apply(console, ClearOp("a", wait=True), BundleOp("a", {"text/plain": "a display"}, {}),
          ErrorOp("a", "ValueError", "bad", []))
    assert console.plain_text() == "progress()\na display\nValueError: bad\nx = 1\nb's output\n"
    apply(console, ClearOp("a", wait=True), BundleOp("a", {"text/plain": "second display"}, {}))
    assert console.plain_text() == "progress()\nsecond display\nx = 1\nb's output\n"


def test_clearing_everything_then_writing_keeps_no_gap(console):
    two_cells(console)
    apply(console, ClearOp("a", wait=False))
    assert console.plain_text() == "progress()\nx = 1\nb's output\n"
    apply(console, StreamOp.of("a", "stdout", "back\n"))
    assert console.plain_text() == "progress()\nback\nx = 1\nb's output\n"
    # the next cell still starts on its own line, its prompt intact
    apply(console, EchoOp("c", "y = 2", 3), StreamOp.of("c", "stdout", "c out"))
    assert console.plain_text(raw=True) == \
        "In [1]: progress()\nback\nIn [2]: x = 1\nb's output\nIn [3]: y = 2\nc out"


def test_an_area_at_the_end_keeps_writing_at_the_end(console):
    apply(console, EchoOp("a", "loop()", 1))
    for i in range(3):
        apply(console, ClearOp("a", wait=True), StreamOp.of("a", "stdout", f"tick {i}\n"))
    apply(console, StreamOp.of("a", "stdout", "finished\n"))
    assert console.plain_text() == "loop()\ntick 2\nfinished\n"


def test_output_without_a_clear_still_goes_at_the_end(console):
    two_cells(console)
    apply(console, StreamOp.of("a", "stdout", "late background print\n"))
    assert console.plain_text().endswith("b's output\nlate background print\n")


def test_removing_the_redrawn_output_keeps_the_next_prompt(console):
    two_cells(console)
    apply(console, ClearOp("a", wait=True), StreamOp.of("a", "stdout", "x\n"), ClearOp("a", wait=False))
    assert console.plain_text(raw=True) == "In [1]: progress()\nIn [2]: x = 1\nb's output\n"
