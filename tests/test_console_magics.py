"""Kernel magics that act on the console: %clear clears this console's
screen (and only this console's), and %qtconsole opens another console
process on the same kernel."""

from __future__ import annotations

import os
import re
import shutil
import signal

import pytest

from console_helpers import TIMEOUT_MS, make_console, run, wait_text
from helpers import process_gone, wait_until
from kernel.client import KernelClient
from kernel.manager import KernelManager
from test_console_kernel import _ipykernel_spec


def test_clear_empties_the_transcript_and_the_console_carries_on(qtbot, km):
    console = make_console(qtbot, km)
    run(qtbot, console, "print('old output')")
    run(qtbot, console, "%clear")
    assert console.plain_text().strip() == ""
    run(qtbot, console, "print('new output')")
    assert console.plain_text(raw=True).lstrip().startswith("In [3]: print('new output')\nnew output")
    assert "old output" not in console.plain_text()


def test_text_after_an_erase_display_starts_the_clean_screen(qtbot, km):
    """Any program's erase-display clears, as in a terminal; what follows it stays."""
    console = make_console(qtbot, km)
    run(qtbot, console, "print('gone')")
    run(qtbot, console, r"print('also gone\x1b[2J\x1b[3J\x1b[Hkept')")
    assert console.plain_text().strip() == "kept"
    assert "[2J" not in console.plain_text()


def test_ipykernels_clear_clears_this_console_too(qtbot):
    """ipykernel's %clear runs the system's clear, which writes the same sequence."""
    _ipykernel_spec()
    if shutil.which("clear") is None:
        pytest.skip("no clear program here for ipykernel's %clear to run")
    ipk = KernelManager(kernel_name="python3")
    ipk.start()
    try:
        console = make_console(qtbot, client=ipk.client())
        run(qtbot, console, "print('old output')")
        run(qtbot, console, "%clear")
        assert console.plain_text().strip() == ""
        run(qtbot, console, "print('new output')")
        assert console.plain_text().strip() == "print('new output')\nnew output"
    finally:
        ipk.shutdown(now=True)


def test_another_consoles_clear_leaves_this_transcript_alone(qtbot, km):
    mine = make_console(qtbot, km, username="alice")
    theirs = make_console(qtbot, client=KernelClient.from_connection_file(km.connection_file, username="bob"))
    run(qtbot, mine, "print('alice was here')")
    run(qtbot, theirs, "print('bob was here')")
    wait_text(qtbot, mine, "bob was here")
    run(qtbot, theirs, "%clear")
    assert theirs.plain_text().strip() == ""
    qtbot.waitUntil(lambda: "[bob] In [3]: %clear" in mine.plain_text(raw=True), timeout=TIMEOUT_MS)
    text = mine.plain_text()
    assert "alice was here" in text and "bob was here" in text


def test_qtconsole_opens_another_console_process_on_this_kernel(qtbot, km):
    console = make_console(qtbot, km, username="alice")
    assert os.environ.get("QT_QPA_PLATFORM") == "offscreen"  # the kernel, and so the new console, inherit it
    run(qtbot, console, "%qtconsole --username carol")
    match = re.search(r"Opening a console on this kernel \(qtapp, process (\d+)\)\.", console.plain_text())
    assert match, console.plain_text()
    pid = int(match.group(1))
    try:
        # the new console's handshake reached the kernel under its own name
        qtbot.waitUntil(lambda: any(p.username == "carol" for p in console.controller.peers.others()),
                        timeout=TIMEOUT_MS)
    finally:
        os.kill(pid, signal.SIGTERM)
    wait_until(lambda: process_gone(pid), what="the new console to close")
    run(qtbot, console, "print('still here')")
    wait_text(qtbot, console, "still here")


def test_a_console_that_qtconsole_could_not_open_is_logged_with_its_reason(qtbot, km):
    console = make_console(qtbot, km)
    run(qtbot, console, "%qtconsole --no-such-option")
    assert re.search(r"Opening a console on this kernel \(qtapp, process \d+\)\.", console.plain_text())
    wait_until(lambda: "the console opened by %qtconsole exited with status 2" in km.kernel_output(),
               what="the kernel to log the failed console")
    assert "--no-such-option" in km.kernel_output()
