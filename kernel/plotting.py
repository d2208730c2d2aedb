"""Matplotlib in the kernel, set up without importing matplotlib.

The kernel must start fast, so nothing here imports matplotlib at start:
``MPLBACKEND`` names our backend (:mod:`kernel.inline`), which matplotlib
loads only when user code first plots, and the figure formatters are
registered with IPython by the Figure class's *name*, so they bind when the
first figure is formatted.

What lives here and why:

- :class:`InlineBackend`, the configurable behind
  ``%config InlineBackend.figure_format = 'png'`` (the name IPython users
  already type), with the figure formats, the ``print_figure`` options, whether
  figures are closed after each cell, and rcParams overrides.
- :class:`FigureLedger`, which remembers which figures changed since they were
  last sent, so a figure shown with ``display(fig)`` is not sent again at the
  end of the cell unless it changed afterwards.
- :func:`enable_matplotlib`, the kernel's ``%matplotlib``: ``inline`` means our
  backend; any other name goes through IPython's pylabtools and the kernel's
  GUI event-loop support.
"""

from __future__ import annotations

import importlib.abc
import importlib.util
import logging
import os
import sys
import threading
import weakref
from binascii import b2a_base64
from functools import partial
from typing import Any, Callable, Optional

from traitlets import Bool, Dict, Set, TraitError, Unicode, observe, validate
from traitlets.config import Configurable

log = logging.getLogger(__name__)

#: matplotlib's name for our backend.
BACKEND = "module://kernel.inline"
#: Names that mean "the inline backend" to ``%matplotlib`` and MPLBACKEND.
INLINE_NAMES = frozenset({"inline", BACKEND, "module://matplotlib_inline.backend_inline"})

#: figure format -> MIME type it is sent as.
FORMAT_MIME = {
    "svg": "image/svg+xml",
    "png": "image/png",
    "retina": "image/png",
    "jpeg": "image/jpeg",
    "pdf": "application/pdf",
}
FORMAT_ALIASES = {"jpg": "jpeg", "png2x": "retina"}
_FIGURE = "matplotlib.figure.Figure"


def _normalise_format(name: Any) -> str:
    if not isinstance(name, str):
        raise TraitError(f"a figure format is a string, not {type(name).__name__}")
    fmt = FORMAT_ALIASES.get(name.lower(), name.lower())
    if fmt not in FORMAT_MIME:
        raise TraitError(f"unknown figure format {name!r}; choose from "
                         f"{', '.join(sorted(FORMAT_MIME))}")
    return fmt


class InlineBackend(Configurable):
    """How inline figures are rendered and when they are closed.

    Named like IPython's own so that ``%config InlineBackend.figure_format =
    'retina'`` and ``c.InlineBackend.figure_formats = {'png'}`` keep working.
    Defaults follow what IPython users get from ``%matplotlib inline`` today
    (matplotlib's own figure size and dpi, ``bbox_inches='tight'``, figures
    closed after each cell), except that figures are SVG: vector images stay
    sharp at every zoom and on HiDPI screens of the console.
    """

    figure_formats = Set(
        {"svg"},
        help="Formats each figure is sent in: 'svg', 'png', 'retina' (PNG at twice the "
             "dpi, with its size in CSS pixels as metadata), 'jpeg', 'pdf'.",
    ).tag(config=True)

    figure_format = Unicode(
        "", help="One figure format; setting it replaces figure_formats with just this one.",
    ).tag(config=True)

    print_figure_kwargs = Dict(
        {"bbox_inches": "tight"},
        help="Keyword arguments for Figure.savefig when rendering, e.g. "
             "{'bbox_inches': None} to keep the figure's own margins.",
    ).tag(config=True)

    close_figures = Bool(
        True,
        help="Close every figure after each cell, so each cell starts with none open and "
             "memory is released. When False, figures stay open across cells and are sent "
             "again only when they change.",
    ).tag(config=True)

    rc = Dict(
        {},
        help="rcParams set while the inline backend is active, restored when another "
             "backend is chosen. Empty by default: matplotlib's own defaults apply.",
    ).tag(config=True)

    @validate("figure_formats")
    def _valid_formats(self, proposal) -> set:
        formats = {_normalise_format(f) for f in proposal["value"]}
        if not formats:
            raise TraitError("figure_formats needs at least one format")
        return formats

    @validate("figure_format")
    def _valid_format(self, proposal) -> str:
        return _normalise_format(proposal["value"]) if proposal["value"] else ""

    @observe("figure_format")
    def _one_format(self, change) -> None:
        if change["new"]:
            self.figure_formats = {change["new"]}

    @observe("figure_formats")
    def _formats_changed(self, change) -> None:
        # figure_format names the one format last chosen; once the set is changed
        # directly it no longer does, and choosing that format again must take
        # effect (traitlets only reports changes).
        if self.figure_format and change["new"] != {self.figure_format}:
            self.figure_format = ""


class FigureLedger:
    """Which figures have changed since they were last rendered for display.

    The backend *touches* a figure when it is created or modified; the
    figure formatters mark it *rendered* whenever it is turned into an image
    (by ``display(fig)``, by a cell ending with ``fig``, or by the backend
    itself). At the end of a cell only touched figures are sent. Weak sets:
    the ledger never keeps a figure alive.
    """

    def __init__(self) -> None:
        self._managed: "weakref.WeakSet[Any]" = weakref.WeakSet()
        self._pending: "weakref.WeakSet[Any]" = weakref.WeakSet()
        self._shown: "weakref.WeakSet[Any]" = weakref.WeakSet()

    def manage(self, figure: Any) -> None:
        """A figure drawn by our backend (its rendering resets its stale flag)."""
        self._managed.add(figure)

    def touch(self, figure: Any) -> None:
        self._pending.add(figure)
        self._shown.discard(figure)

    def rendered(self, figure: Any) -> None:
        self._pending.discard(figure)
        self._shown.add(figure)
        if figure in self._managed:
            # Rendering leaves the figure marked stale (savefig restores its
            # dpi afterwards); for a figure whose only screen is the console it
            # is now up to date, and matplotlib's end-of-cell redraw of stale
            # figures must not count as a change.
            figure.stale = False

    def is_pending(self, figure: Any) -> bool:
        return figure in self._pending

    def shown_unchanged(self, figure: Any) -> bool:
        """Rendered during this cell and not modified since."""
        return figure in self._shown and figure not in self._pending

    def new_cell(self, *args: Any) -> None:
        self._shown.clear()

    def forget(self, figure: Any) -> None:
        self._pending.discard(figure)
        self._shown.discard(figure)


class InlineSupport:
    """The kernel's matplotlib state: configuration, ledger, active backend."""

    def __init__(self, shell: Any):
        self.shell = shell
        self.ledger = FigureLedger()
        self.config = InlineBackend(parent=shell)
        self.config.observe(lambda change: self.register_formatters(),
                            names=["figure_formats", "print_figure_kwargs"])
        self.config.observe(self._rc_changed, names=["rc"])
        self.active = False  # the inline backend is pyplot's backend
        self._saved_rc: dict = {}

    # -- formatters ------------------------------------------------------------
    def register_formatters(self) -> None:
        """(Re)bind the Figure formatters to the configured formats."""
        formatters = self.shell.display_formatter.formatters
        for mime in set(FORMAT_MIME.values()):
            formatters[mime].pop(_FIGURE, None)
        kwargs = dict(self.config.print_figure_kwargs)
        for fmt in sorted(self.config.figure_formats):
            render = partial(self._render, fmt, kwargs)
            formatters[FORMAT_MIME[fmt]].for_type_by_name("matplotlib.figure", "Figure", render)

    def _render(self, fmt: str, kwargs: dict, figure: Any) -> Any:
        data = self._render_once(fmt, kwargs, figure)
        if data is None:
            data = self._savefig(fmt, kwargs, figure)
        self.ledger.rendered(figure)
        return data

    @staticmethod
    def _savefig(fmt: str, kwargs: dict, figure: Any) -> Any:
        """The figure through IPython's ``print_figure`` (matplotlib's savefig)."""
        from IPython.core import pylabtools

        if fmt == "retina":
            return pylabtools.retina_figure(figure, base64=True, **kwargs)
        if fmt == "svg":
            return pylabtools.print_figure(figure, "svg", **kwargs)
        return pylabtools.print_figure(figure, "jpg" if fmt == "jpeg" else fmt, base64=True, **kwargs)

    # -- rcParams ----------------------------------------------------------------
    def apply_rc(self) -> None:
        import matplotlib

        rc = dict(self.config.rc)
        self._saved_rc = {k: matplotlib.rcParams[k] for k in rc}
        matplotlib.rcParams.update(rc)

    def restore_rc(self) -> None:
        import matplotlib

        matplotlib.rcParams.update(self._saved_rc)
        self._saved_rc = {}

    @staticmethod
    def _render_once(fmt: str, kwargs: dict, figure: Any) -> Any:
        """PNG, retina PNG (with its size) or SVG drawn once (see
        :mod:`kernel.figureimage`); None when ``savefig`` must do it: other
        formats, ``print_figure_kwargs`` beyond the default crop, or figures
        the one-draw path declines."""
        if fmt not in ("png", "retina", "svg") or kwargs not in ({}, {"bbox_inches": "tight"}):
            return None
        if not figure.axes and not figure.lines:
            return None  # empty: savefig's path sends nothing, as IPython does
        from . import figureimage

        if fmt == "svg":
            return figureimage.tight_svg(figure)
        scale = 2 if fmt == "retina" else 1
        png = figureimage.tight_png(figure, figure.dpi * scale)
        if png is None:
            return None
        data = b2a_base64(png, newline=False).decode("ascii")
        if fmt == "png":
            return data
        width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")  # IHDR
        return data, {"width": width // scale, "height": height // scale}

    def _rc_changed(self, change: dict) -> None:
        if self.active:
            self.restore_rc()
            self.apply_rc()


_support: Optional[InlineSupport] = None


def current() -> Optional[InlineSupport]:
    """The kernel's inline support, or None outside our kernel."""
    return _support


class _AfterImport(importlib.abc.MetaPathFinder):
    """Calls ``then(module)`` right after ``name`` is first imported, then
    leaves ``sys.meta_path``. Finds nothing itself."""

    def __init__(self, name: str, then: Callable[[Any], None]):
        self.name = name
        self.then = then
        self._lock = threading.Lock()

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> Any:
        if fullname != self.name:
            return None
        with self._lock:
            if self not in sys.meta_path:
                return None
            sys.meta_path.remove(self)
        spec = importlib.util.find_spec(fullname)
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        exec_module, then = spec.loader.exec_module, self.then

        def exec_then_call(module: Any) -> None:
            exec_module(module)
            try:
                then(module)
            except Exception:
                log.exception("setting up %s after import failed", fullname)

        spec.loader.exec_module = exec_then_call  # this spec's own loader instance
        return spec


def _interactive_if_inline(matplotlib: Any) -> None:
    """Interactive mode from the moment matplotlib exists, as IPython users
    of inline plots expect, so that an early ``plt.ioff()`` (also as a
    context manager) is not undone when pyplot later loads the backend."""
    if dict.__getitem__(matplotlib.rcParams, "backend") == BACKEND:  # read without resolving
        matplotlib.interactive(True)


def install(shell: Any) -> InlineSupport:
    """Make our backend the default and teach the shell to render figures."""
    global _support
    os.environ.setdefault("MPLBACKEND", BACKEND)
    if "matplotlib" not in sys.modules:
        sys.meta_path.insert(0, _AfterImport("matplotlib", _interactive_if_inline))
    support = InlineSupport(shell)
    shell.configurables.append(support.config)
    support.register_formatters()
    shell.events.register("pre_execute", support.ledger.new_cell)
    _support = support
    return support


def _default_is_inline() -> bool:
    """What ``%matplotlib`` without a name means: the backend MPLBACKEND or a
    matplotlibrc chose when matplotlib was imported, which is ours unless the
    user picked another."""
    import matplotlib

    default = matplotlib.rcParamsOrig["backend"]
    return not isinstance(default, str) or default in INLINE_NAMES


def enable_matplotlib(shell: Any, gui: Optional[str] = None) -> tuple:
    """Select a matplotlib backend; returns ``(gui, backend)`` like IPython."""
    from IPython.core import pylabtools

    support = _support
    if support is None:
        raise RuntimeError("inline plotting support is not installed in this shell")
    if gui in (None, "auto") and _default_is_inline() or gui in INLINE_NAMES:
        from . import inline

        inline.select(support)
        _use_runner(shell, None)  # plain %run: figures are sent when the cell ends
        if gui is not None:
            shell.enable_gui(None)  # an explicit %matplotlib inline ends a GUI loop, as in IPython
        return None, BACKEND

    try:
        gui, backend = pylabtools.find_gui_and_backend(gui, None)
    except RuntimeError as exc:  # matplotlib: not a backend or GUI name
        from IPython.core.error import UsageError

        raise UsageError(f"{exc}; '%matplotlib --list' shows the choices") from None
    # The event loop first: if the kernel cannot run it, nothing has changed.
    if gui:
        shell.enable_gui(gui)
    from . import inline

    inline.replace_with(support, backend)
    # %run draws once when the script ends, as IPython does for GUI backends.
    _use_runner(shell, pylabtools.mpl_runner(shell.safe_execfile))
    return gui, backend


def _use_runner(shell: Any, runner: Optional[Callable]) -> None:
    shell.magics_manager.registry["ExecutionMagics"].default_runner = runner
