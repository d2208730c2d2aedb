"""The kernel's matplotlib backend: figures become ``display_data`` messages.

matplotlib loads this module (``module://kernel.inline``) the first time user
code plots; that is when it attaches itself to the kernel. From then on:

- a figure created or changed in a cell is sent when the cell ends, in the
  order the figures were created, then all figures are closed (unless
  ``InlineBackend.close_figures`` is False) so a cell drawing hundreds of
  figures leaves nothing behind;
- ``plt.show()`` and ``fig.show()`` send at once;
- a figure already sent in this cell (``display(fig)``, or a cell ending with
  ``fig``) and not changed since is not sent again; a figure closed before the
  cell ends is not sent at all.

Rendering happens only when a figure is sent: change notifications just mark
the figure (see :class:`kernel.plotting.FigureLedger`), so plotting commands do
not redraw anything while the cell runs. Figures are turned into images by
the shell's display formatters, so ``display(fig)`` and the automatic sending
produce the same formats (see ``%config InlineBackend``).

Loaded outside our kernel (a child process inheriting MPLBACKEND), the
backend behaves like Agg: figures can be saved, ``show()`` warns.
"""

from __future__ import annotations

import logging
from typing import Any, Optional

import matplotlib
from matplotlib import _api
from matplotlib._pylab_helpers import Gcf
from matplotlib.backend_bases import FigureManagerBase
from matplotlib.backends.backend_agg import FigureCanvasAgg

from . import plotting

log = logging.getLogger(__name__)


class FigureManagerInline(FigureManagerBase):
    """A figure whose screen is the console."""

    def __init__(self, canvas: "FigureCanvasInline", num: int):
        super().__init__(canvas, num)
        figure = canvas.figure
        support = plotting.current()
        if support is not None:
            if not support.active:
                # pyplot was pointed at us directly (matplotlib.use,
                # plt.switch_backend) rather than through %matplotlib.
                activate(support)
            support.ledger.manage(figure)
        previous = figure.stale_callback

        def figure_changed(fig: Any, stale: bool) -> None:
            if previous is not None:
                previous(fig, stale)
            # Artists also turn stale while the figure is being rendered;
            # only changes made by the user count.
            if stale and matplotlib.is_interactive() and not fig.canvas.is_saving():
                _touch(fig)

        figure.stale_callback = figure_changed

    def show(self) -> None:
        """``fig.show()``: send this figure now."""
        _send(self.canvas.figure, warn_outside=True)


class FigureCanvasInline(FigureCanvasAgg):
    """Agg canvas whose redraw requests wait for the end of the cell."""

    manager_class = FigureManagerInline

    def draw_idle(self, *args: Any, **kwargs: Any) -> None:
        """Drawing is deferred: the figure is rendered when it is sent."""
        _touch(self.figure)


FigureCanvas = FigureCanvasInline
FigureManager = FigureManagerInline


def show(close: Optional[bool] = None, block: Optional[bool] = None) -> None:
    """``plt.show()``: send every open figure not already sent unchanged in
    this cell, then close them all if ``close`` (default:
    ``InlineBackend.close_figures``). ``block`` is accepted for pyplot's API
    and means nothing here: the console is not a window to wait for."""
    support = plotting.current()
    if support is None:
        _api.warn_external("matplotlib is using the kernel's inline backend outside the kernel; "
                           "figures cannot be shown (save them with savefig)")
        return
    managers = _our_managers()
    try:
        for manager in managers:
            figure = manager.canvas.figure
            if not support.ledger.shown_unchanged(figure):
                _send(figure)
    finally:
        if support.config.close_figures if close is None else close:
            _close(managers)


def flush_figures() -> None:
    """At the end of each cell: send the figures that were created or changed
    in it, then close figures as configured. Registered as ``post_execute``."""
    support = plotting.current()
    if support is None or not support.active:
        return
    managers = _our_managers()
    try:
        for manager in managers:
            figure = manager.canvas.figure
            if support.ledger.is_pending(figure):
                _send(figure)
    finally:
        if support.config.close_figures:
            _close(managers)
        support.ledger.new_cell()


# -- activation ---------------------------------------------------------------

def activate(support: "plotting.InlineSupport") -> None:
    """Attach to the kernel: the end-of-cell hook and the inline rcParams.
    Idempotent."""
    callbacks = support.shell.events.callbacks["post_execute"]
    if flush_figures not in callbacks:
        support.shell.events.register("post_execute", flush_figures)
    if not support.active:
        support.apply_rc()
        support.active = True


def deactivate(support: "plotting.InlineSupport") -> None:
    """Detach from the kernel so that another backend takes over."""
    try:
        support.shell.events.unregister("post_execute", flush_figures)
    except ValueError:
        pass
    if support.active:
        support.restore_rc()
        support.active = False


def select(support: "plotting.InlineSupport") -> None:
    """``%matplotlib inline``: make this pyplot's backend."""
    from IPython.core import pylabtools

    activate(support)
    # Interactive mode (pyplot commands mark figures for sending), the switch,
    # and the draw_if_interactive bookkeeping that %run's runner relies on.
    pylabtools.activate_matplotlib(plotting.BACKEND)


def replace_with(support: "plotting.InlineSupport", backend: str) -> None:
    """``%matplotlib <other>``: hand pyplot to ``backend``; on failure the
    inline backend stays as it was."""
    from IPython.core import pylabtools
    from IPython.core.error import UsageError

    was_active = support.active
    deactivate(support)
    try:
        pylabtools.activate_matplotlib(backend)
    except Exception as exc:
        if was_active:
            activate(support)
        raise UsageError(f"cannot use the matplotlib backend {backend!r}: {exc}") from exc


def _attach_on_import() -> None:
    """matplotlib chose this backend (MPLBACKEND): attach to our kernel."""
    support = plotting.current()
    if support is not None:
        activate(support)


# -- helpers --------------------------------------------------------------------

def _touch(figure: Any) -> None:
    support = plotting.current()
    if support is not None:
        support.ledger.touch(figure)


def _our_managers() -> list:
    managers = [m for m in Gcf.get_all_fig_managers() if isinstance(m, FigureManagerInline)]
    managers.sort(key=lambda m: m.num)
    return managers


def _send(figure: Any, warn_outside: bool = False) -> None:
    support = plotting.current()
    if support is None:
        if warn_outside:
            _api.warn_external("figures cannot be shown outside the kernel (save them with savefig)")
        return
    from IPython.display import display

    display(figure)


def _close(managers: list) -> None:
    if not managers:
        return
    if len(managers) == len(Gcf.figs):
        Gcf.destroy_all()  # one garbage collection instead of one per figure
    else:
        for manager in managers:
            Gcf.destroy(manager)
    support = plotting.current()
    if support is not None:
        for manager in managers:
            support.ledger.forget(manager.canvas.figure)


_attach_on_import()
