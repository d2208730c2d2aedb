"""One console measurement in a fresh process: ``python -m bench.console_driver``.

Each console (ours, or qtconsole with ipykernel) is launched through its own
application code, exactly as its command would, in this process; the parent
passes the wall-clock time just before it started the process, so a launch
figure includes interpreter start-up and imports. Readiness and "rendered"
are detected from the outside of each widget (its document's text), with a
small hook only where a console exposes no signal. Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

SCENARIOS = ("launch", "flood", "longline", "figures_png", "figures_svg")
FLOOD_LINES = int(os.environ.get("BENCH_FLOOD_LINES", "100000"))
LONG_LINE = 1_000_000
#: Figures per figures scenario; bench.consoles asks for fewer in --quick.
DEFAULT_FIGURES = 200
FIGURES = int(os.environ.get("BENCH_FIGURES", DEFAULT_FIGURES))
FIGURES_DONE = "figures-done"


def figures_code(fmt: str) -> str:
    """A cell drawing FIGURES inline figures in ``fmt``; both kernels read the
    same ``InlineBackend.figure_format`` setting. The closing line is printed
    after every figure was sent, so once it is on screen all of them are (it is
    spelt in two halves so that the echoed input does not match)."""
    first, second = FIGURES_DONE[:4], FIGURES_DONE[4:]
    return (
        "%matplotlib inline\n"
        f"%config InlineBackend.figure_format = {fmt!r}\n"
        "import matplotlib.pyplot as plt\n"
        f"for i in range({FIGURES}):\n"
        "    plt.figure(); plt.plot([0, 1, 2], [0, i, 2]); plt.title(str(i)); plt.show()\n"
        f"print({first!r} + {second!r})\n"
    )


def rss_mib() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


class StallProbe:
    """A 10 ms timer; the longest gap between its ticks is the worst freeze."""

    def __init__(self, interval_ms: int = 10):
        from PyQt5.QtCore import QTimer

        self.interval = interval_ms / 1000
        self.worst = 0.0
        self._last = time.perf_counter()
        self.timer = QTimer()
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self._tick)

    def start(self) -> None:
        self._last = time.perf_counter()
        self.worst = 0.0
        self.timer.start()

    def _tick(self) -> None:
        now = time.perf_counter()
        self.worst = max(self.worst, now - self._last - self.interval)
        self._last = now

    def stop(self) -> float:
        self.timer.stop()
        self._tick()
        return max(0.0, self.worst)


def last_blocks_text(document, count: int = 4) -> str:
    block = document.lastBlock()
    parts = []
    while block.isValid() and len(parts) < count:
        parts.append(block.text())
        block = block.previous()
    return "\n".join(reversed(parts))


def wait_until(app, predicate, timeout: float) -> bool:
    deadline = time.perf_counter() + timeout
    while not predicate():
        if time.perf_counter() > deadline:
            return False
        app.processEvents()
        time.sleep(0.001)
    return True


# -- ours ---------------------------------------------------------------------

class Ours:
    name = "qtapp"

    def launch(self, on_ready) -> None:
        from qtapp import __main__ as entry
        from qtapp import app as appmod

        original = appmod.ConsoleApp.open_window

        def open_window(this, options=None):
            window = original(this, options)
            console = window.console if window is not None else None
            if console is not None:
                self.console = console
                console.prompt_changed.connect(
                    lambda count, c=console: count is not None and c.is_ready and on_ready())
            return window

        appmod.ConsoleApp.open_window = open_window
        self._main = entry.main

    def run_main(self) -> int:
        return self._main(["--settings", os.environ["BENCH_SETTINGS"]])

    def execute(self, code: str) -> None:
        self.console.execute(code)

    def document(self):
        return self.console.transcript.document

    def idle(self) -> bool:
        """Nothing received is still waiting to be shown."""
        return len(self.console.queue) == 0

    def shutdown(self) -> None:
        pass  # closing the window shuts the owned kernel down


# -- theirs: qtconsole + ipykernel ----------------------------------------------------

class Theirs:
    name = "qtconsole"

    def launch(self, on_ready) -> None:
        from qtconsole import qtconsoleapp
        from qtconsole.jupyter_widget import JupyterWidget

        original = JupyterWidget._show_interpreter_prompt
        fired = []

        def show_prompt(widget, number=None):
            original(widget, number)
            if not fired and getattr(widget, "kernel_client", None) is not None:
                fired.append(True)
                self.widget = widget
                on_ready()

        JupyterWidget._show_interpreter_prompt = show_prompt
        self._app_class = qtconsoleapp.JupyterQtConsoleApp

    def run_main(self) -> int:
        app = self._app_class.instance()
        self.app = app
        app.initialize(["--no-confirm-exit"])
        app.start()
        return 0

    def execute(self, code: str) -> None:
        self.widget.execute(code)

    def document(self):
        return self.widget._control.document()

    def idle(self) -> bool:
        """Nothing received is still waiting to be shown."""
        return not self.widget._pending_insert_text

    def shutdown(self) -> None:
        try:
            self.app.kernel_manager.shutdown_kernel(now=True)
        except Exception:
            pass


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("which", choices=("ours", "theirs"))
    p.add_argument("scenario", choices=SCENARIOS)
    p.add_argument("--started", type=float, required=True, help="time.time() when the parent launched us")
    p.add_argument("--timeout", type=float, default=120.0)
    args = p.parse_args()
    console = Ours() if args.which == "ours" else Theirs()
    result: dict = {"console": console.name, "scenario": args.scenario}

    def on_ready() -> None:
        from PyQt5.QtCore import QTimer
        from PyQt5.QtWidgets import QApplication

        if "ready_s" in result:
            return
        result["ready_s"] = time.time() - args.started
        result["rss_mib"] = rss_mib()
        QTimer.singleShot(0, lambda: scenario(QApplication.instance()))

    def scenario(app) -> None:
        try:
            if args.scenario == "flood":
                measure(app, f"for i in range({FLOOD_LINES}): print(i)",
                        lambda text: str(FLOOD_LINES - 1) in text)
            elif args.scenario == "longline":
                measure(app, f"print('x' * {LONG_LINE})", lambda text: "xxxxxxxxxx" in text)
            elif args.scenario.startswith("figures_"):
                measure(app, figures_code(args.scenario.split("_")[1]), lambda text: FIGURES_DONE in text)
        except Exception as exc:  # report, never hang
            result["error"] = f"{type(exc).__name__}: {exc}"
        finally:
            app.closeAllWindows()
            app.quit()

    def measure(app, code: str, done) -> None:
        probe = StallProbe()
        doc = console.document()
        probe.start()
        t0 = time.perf_counter()
        console.execute(code)
        # Rendered: the end of the output is on screen and nothing received
        # waits to be shown (each console shows big outputs in steps).
        ok = wait_until(app, lambda: done(last_blocks_text(doc)) and console.idle(), args.timeout)
        result["render_s"] = time.perf_counter() - t0
        result["stall_s"] = probe.stop()
        result["completed"] = ok

    console.launch(on_ready)
    try:
        console.run_main()
    finally:
        console.shutdown()
    print(json.dumps(result), flush=True)
    return 0 if "error" not in result else 1


if __name__ == "__main__":
    sys.exit(main())
