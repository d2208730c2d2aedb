"""ConsoleWidget: the embeddable console, composed of small parts.

::

    transcript (read-only, fast)      <- output, echoed cells, notices
    find bar / queued cells / notice bar / reverse-search bar
    In [n]: input editor               <- or the input() line while asked

The widget wires its parts together and offers the public API; the
:class:`~qtapp.console.controller.ConsoleController` decides what happens,
the :class:`~qtapp.console.writer.TranscriptWriter` draws it (through the
per-frame :class:`~qtapp.console.coalesce.FrameQueue`), and key presses are
looked up in the :class:`~qtapp.console.keymap.Keymap` and dispatched by
command name.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Callable, Dict, List, Optional, Tuple

from PyQt5.QtCore import QEvent, QObject, Qt, QTimer, pyqtSignal
from PyQt5.QtGui import QColor, QFont, QKeyEvent
from PyQt5.QtWidgets import QApplication, QFrame, QMessageBox, QPlainTextEdit, QSplitter, QVBoxLayout, QWidget

from kernel.client import KernelClient
from kernel.manager import KernelManager

from .bars import FindBar, NoticeBar, QueuedCells, ReverseSearchBar, StdinBar
from .calltip import CallTips
from .coalesce import FrameQueue
from .completion import CompletionPopup
from .controller import ConsoleController
from .editor import InputEditor
from .external_editor import EditorLauncher
from .export import transcript_html
from .highlight import CodeHighlighter, TokenFormats, make_lexer
from .input_actions import InputActions
from .keymap import Keymap
from .lifecycle import Connector, KernelLifecycle
from .objectview import ObjectView
from .others import OthersLayer, Peer
from .outputs import BundleOp, ClearScreenOp, NoticeOp, OutputAreas
from .pager import DEFAULT_PAGING, PagerPane, goes_inline, page_text
from .renderers import InlineObjectHost, RendererRegistry
from .restyle import restyle_transcript
from .rich import rich_registry
from .theme import DEFAULT_POINT_SIZE, Formats, Theme, apply_palette, default_font, theme_named
from .transcript import DEFAULT_SCROLLBACK_BYTES, Transcript
from .writer import TranscriptWriter, in_prompt

log = logging.getLogger(__name__)

MIN_POINT_SIZE = 5
MAX_POINT_SIZE = 48


class ConsoleWidget(QWidget):
    """A console on one kernel: ``ConsoleWidget(manager=None, client=None)``.

    With neither, it starts its own kernel (ours) and shuts it down when
    closed. With a manager, it starts it if needed. With only a client, it
    attaches to a running kernel; with a ``connector``, to the kernel it
    reaches (through an ssh tunnel, see :mod:`qtapp.remote`).
    """

    executed = pyqtSignal(dict)
    busy_changed = pyqtSignal(bool)
    #: "starting", "idle", "busy", "restarting", "dead", "unresponsive", "shutdown"
    state_changed = pyqtSignal(str)
    ready = pyqtSignal(dict)
    exit_requested = pyqtSignal(bool)
    start_failed = pyqtSignal(str, str)
    zoom_changed = pyqtSignal(float)
    #: the number of the next prompt (None while unknown)
    prompt_changed = pyqtSignal(object)

    def __init__(self, manager: Optional[KernelManager] = None, client: Optional[KernelClient] = None, *,
                 username: Optional[str] = None, theme: str = "light", syntax_style: Optional[str] = None,
                 font: Optional[QFont] = None, scrollback_bytes: int = DEFAULT_SCROLLBACK_BYTES,
                 confirm_restart: bool = True, autorestart: bool = True, keymap: Optional[Keymap] = None,
                 registry: Optional[RendererRegistry] = None, start: bool = True,
                 connector: Optional[Connector] = None, parent: Optional[QWidget] = None):
        super().__init__(parent)
        self.setObjectName("console")
        created = manager is None and client is None and connector is None
        if created:
            manager = KernelManager(username=username)
        #: shut the kernel down when the console closes (default: if we created it)
        self.shutdown_kernel_on_close = created
        self.confirm_restart = confirm_restart
        #: command that opens a file for the kernel's %edit ({filename}, {line})
        self.editor_command: Optional[str] = None
        self.keymap = keymap or Keymap()
        self._theme: Theme = theme_named(theme)
        self._style_name = syntax_style or self._theme.pygments_style
        self._base_font = font or default_font(DEFAULT_POINT_SIZE)
        self._zoom = 0.0
        self.confirm: Callable[[str, str], bool] = self._ask

        self.transcript = Transcript(scrollback_bytes, self)
        self.formats = Formats(self._theme)
        self.objects = InlineObjectHost(self.transcript.document, self._inline_width, self)
        self.transcript.removal_listeners.append(lambda seg: self.objects.forget(seg.meta.get("objects", ())))
        self.object_view = ObjectView(self.transcript, self.objects, self)
        self.registry = registry or rich_registry()
        self.areas = OutputAreas()
        self.writer = TranscriptWriter(self.transcript, self.formats, self.registry, self.objects, self.areas)
        self.others = OthersLayer(self.transcript, self.writer.apply, self._theme)
        self.queue = FrameQueue(self.others.apply, begin_frame=self._begin_frame, end_frame=self._end_frame,
                                max_backlog_chars=max(1 << 20, scrollback_bytes // 2), parent=self)

        self.editor = InputEditor(self)
        # Colours come with the kernel's language_info (see set_language).
        self.highlighter = CodeHighlighter(self.editor.document(), None, TokenFormats(self._style_name))
        self.stdin_bar = StdinBar(self)
        self.notice_bar = NoticeBar(self)
        self.queued = QueuedCells(self)
        self.search_bar = ReverseSearchBar(self)
        self.find_bar = FindBar(self.transcript.view, self, before_search=lambda: self.queue.flush())
        self.popup = CompletionPopup(self)
        self.pager = PagerPane(self)
        #: where help pages go: "inline", "pager" or "auto" (short inline, long in the pager)
        self.paging = DEFAULT_PAGING

        self.lifecycle = KernelLifecycle(manager, client, username=username, autorestart=autorestart,
                                         connector=connector, parent=self)
        self.controller = ConsoleController(self, self.lifecycle, self)
        self.actions = InputActions(self.editor, self.controller.history, self.popup, self.search_bar,
                                    self.controller)
        self.calltips = CallTips(self.editor, self.controller, self)
        self.edits = EditorLauncher(self.controller.execute, self._edit_notice, lambda: self.editor_command, self)
        self.controller.payloads.register("edit_magic", self.edits.handle_payload)
        self._commands: Dict[str, Callable[[QWidget], bool]] = {
            "run_or_newline": lambda src: self._in_editor(src, self.controller.enter.press),
            "force_run": lambda src: self._in_editor(src, lambda: self.controller.enter.press(force=True)),
            "force_newline": lambda src: self._in_editor(src, self.actions.force_newline),
            "complete_or_indent": lambda src: src is self.editor and self.actions.complete_or_indent(),
            "dedent": lambda src: src is self.editor and self.actions.dedent(),
            "history_previous": lambda src: src is self.editor and self.actions.history_previous(),
            "history_next": lambda src: src is self.editor and self.actions.history_next(),
            "reverse_search": lambda src: src is self.editor and self.actions.reverse_search(),
            "line_start": lambda src: src is self.editor and self.actions.line_start(),
            "line_end": lambda src: src is self.editor and self.actions.line_end(),
            "kill_line": lambda src: src is self.editor and self.actions.kill_line(),
            "kill_line_backward": lambda src: src is self.editor and self.actions.kill_line_backward(),
            "yank": lambda src: src is self.editor and self.actions.yank(),
            "interrupt_or_copy": self._interrupt_or_copy,
            "restart_kernel": lambda src: self.restart_kernel() or True,
            "send_eof": lambda src: self.controller.send_eof(),
            "clear_transcript": lambda src: self.clear() or True,
            "cancel": self._cancel,
            "show_calltip": lambda src: src is self.editor and self.calltips.show_now(),
        }
        self._build_layout()
        self._wire()
        self.apply_theme(self._theme.name)
        self._apply_font()
        self.set_prompt_number(None)
        if start:
            self.controller.start()

    # -- layout and wiring -------------------------------------------------------------
    def _build_layout(self) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        view = self.transcript.view
        view.setFrameShape(QFrame.NoFrame)
        view.document().setDocumentMargin(8)
        self.editor.document().setDocumentMargin(4)
        self.editor.align_with(8)
        self.splitter = QSplitter(Qt.Vertical, self)
        self.splitter.setObjectName("transcript_splitter")
        self.splitter.setChildrenCollapsible(False)
        self.splitter.addWidget(view)
        self.splitter.addWidget(self.pager)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        layout.addWidget(self.splitter, 1)
        layout.addWidget(self.find_bar)
        self.separator = QFrame(self)
        self.separator.setFrameShape(QFrame.HLine)
        self.separator.setObjectName("input_separator")
        layout.addWidget(self.separator)
        layout.addWidget(self.queued)
        layout.addWidget(self.notice_bar)
        layout.addWidget(self.search_bar)
        layout.addWidget(self.editor)
        layout.addWidget(self.stdin_bar)
        self.setFocusProxy(self.editor)

    def _wire(self) -> None:
        c = self.controller
        c.executed.connect(self.executed)
        c.busy_changed.connect(self.busy_changed)
        c.state_changed.connect(self.state_changed)
        c.ready.connect(self.ready)
        c.exit_requested.connect(self.exit_requested)
        c.start_failed.connect(self.start_failed)
        self.lifecycle.adopted.connect(lambda: setattr(self, "shutdown_kernel_on_close", True))
        self.stdin_bar.submitted.connect(c.answer_input)
        for widget in (self.editor, self.stdin_bar.line, self.search_bar.line):
            widget.key_handler = lambda ev, w=widget: self._on_key(ev, w)
            widget.override_check = self._claims
        self.transcript.view.installEventFilter(self)
        self.transcript.view.zoom_requested.connect(self.zoom)
        self.editor.zoom_requested.connect(self.zoom)
        self.find_bar.closed.connect(self.editor.setFocus)

    def _claims(self, event: QKeyEvent) -> bool:
        return self.keymap.match(event) is not None

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802
        if obj is self.transcript.view:
            if event.type() == QEvent.ShortcutOverride and self._claims(event):
                event.accept()
                return True
            if event.type() == QEvent.KeyPress:
                if self._on_key(event, obj):
                    return True
                if event.text() and event.text().isprintable() and \
                        not event.modifiers() & (Qt.ControlModifier | Qt.AltModifier | Qt.MetaModifier):
                    target = self.stdin_bar.line if self.stdin_bar.isVisible() else self.editor
                    target.setFocus()
                    QApplication.sendEvent(target, QKeyEvent(event.type(), event.key(), event.modifiers(),
                                                             event.text()))
                    return True
        return super().eventFilter(obj, event)

    def _on_key(self, event: QKeyEvent, source: QWidget) -> bool:
        if source is self.editor and self.popup.isVisible() and self.actions.popup_keys(event):
            return True
        name = self.keymap.match(event)
        if source is self.search_bar.line:
            return self.actions.search_keys(event, name)
        if name is None:
            return False
        return bool(self._commands[name](source))

    def _in_editor(self, source: QWidget, action: Callable[[], object]) -> bool:
        if source is not self.editor:
            return False
        action()
        return True

    def _interrupt_or_copy(self, source: QWidget) -> bool:
        if self.controller.busy or self.controller.waiting_for_input:
            self.interrupt_kernel()
            return True
        if source is not self.transcript.view and _has_selection(source):
            source.copy()
        elif self.transcript.view.textCursor().hasSelection():
            self.transcript.copy()
        return True

    def _cancel(self, source: QWidget) -> bool:
        if self.find_bar.isVisible():
            self.find_bar.close_bar()
            return True
        if self.calltips.hide():
            return True
        if self.pager.isVisible():
            self.pager.close_pager()
            return True
        return False

    # -- ConsoleView (called by the controller) -------------------------------------------------
    def present(self, op: object) -> None:
        """Queue an output operation; it is drawn within a frame."""
        self.queue.push(op)

    def input_text(self) -> str:
        return self.editor.source

    def set_input_text(self, text: str) -> None:
        self.popup.hide()
        self.editor.set_source(text)

    def insert_input_newline(self, indent: str) -> None:
        self.actions.newline(indent)

    def input_cursor_at_end(self) -> bool:
        return self.editor.textCursor().atEnd()

    def set_prompt_number(self, count: Optional[int]) -> None:
        changed = in_prompt(count) != self.editor.prompt
        self.editor.set_prompt(in_prompt(count), QColor(self._theme.in_prompt), QColor(self._theme.background))
        if changed:
            self.prompt_changed.emit(count)

    def set_language(self, language_info: dict) -> None:
        """Colour code as the kernel's language. The lexer is made just after
        the prompt is shown: its first use compiles its rules (tens of
        milliseconds), which need not delay a ready console."""
        name = language_info.get("pygments_lexer") or language_info.get("name")
        QTimer.singleShot(0, lambda: self._use_lexer(make_lexer(name)))

    def _use_lexer(self, lexer) -> None:
        self.writer.lexer = lexer
        self.highlighter.set_lexer(lexer)

    def ask_stdin(self, prompt: str, password: bool) -> None:
        self.queue.flush()
        self.editor.hide()
        self.stdin_bar.ask(prompt, password)

    def close_stdin(self) -> None:
        had_focus = self.stdin_bar.line.hasFocus()
        self.stdin_bar.hide()
        self.editor.show()
        if had_focus:
            self.editor.setFocus()

    def show_notice(self, text: str, actions: Optional[List[Tuple[str, Callable[[], None]]]] = None) -> None:
        self.notice_bar.show_notice(text, actions)

    def clear_notice(self) -> None:
        self.notice_bar.clear()

    def queue_cell(self, msg_id: str, code: str) -> None:
        self.queued.add(msg_id, code)

    def unqueue_cell(self, msg_id: str) -> None:
        self.queued.remove(msg_id)

    def clear_queued(self) -> None:
        self.queued.clear_all()

    def show_completions(self, matches: List[str], start: int, end: int) -> None:
        self.actions.show_completions(matches, start, end)

    def note_peer_area(self, area: Optional[str], peer: Peer) -> None:
        self.others.note(area, peer)

    # -- other frontends on the kernel ------------------------------------------------------
    @property
    def others_visible(self) -> bool:
        return self.others.visible

    def set_others_visible(self, visible: bool) -> None:
        """Show or hide what other frontends ran and printed (hidden lines are kept)."""
        self.queue.flush()
        self.others.set_visible(visible)

    @property
    def username(self) -> str:
        return self.controller.username

    def set_username(self, name: str) -> None:
        self.controller.set_username(name)

    def show_page(self, area: Optional[str], data: dict, start: int = 0) -> None:
        """A help page: inline in the transcript or in the pager (see ``paging``)."""
        view = self.transcript.view
        visible = view.viewport().height() // max(1, view.fontMetrics().lineSpacing())
        if goes_inline(self.paging, data, visible):
            # as text with its colours, like other output (HTML only if that is all there is)
            text = page_text(data)
            self.present(BundleOp(area, {"text/plain": text} if text else data, {}))
        else:
            self.pager.show_page(data, start)

    def _edit_notice(self, text: str, error: bool) -> None:
        self.present(NoticeOp(text, level="error" if error else "info"))

    # -- frames --------------------------------------------------------------------------------------
    def _begin_frame(self) -> bool:
        return self.transcript.is_scrolled_to_bottom()

    def _end_frame(self, was_at_bottom: bool) -> bool:
        more = self.transcript.trim()
        if was_at_bottom:
            self.transcript.scroll_to_bottom()
        return more

    def _inline_width(self) -> float:
        return float(self.transcript.view.viewport().width())

    # -- public API ----------------------------------------------------------------------------------
    @property
    def manager(self) -> Optional[KernelManager]:
        return self.lifecycle.manager

    @property
    def client(self) -> Optional[KernelClient]:
        return self.lifecycle.client

    @property
    def is_ready(self) -> bool:
        return self.controller.is_ready

    def execute(self, source: str, hidden: bool = False) -> Optional[str]:
        """Run ``source`` as if typed and run; ``hidden`` runs show no input."""
        return self.controller.execute(source, hidden)

    def plain_text(self, raw: bool = False) -> str:
        """The transcript as a user would copy it (prompts stripped unless ``raw``)."""
        self.queue.flush()
        return self.transcript.plain_text(raw=raw)

    def export_html(self, path: str | Path) -> None:
        """Write the transcript as one self-contained HTML file."""
        self.queue.flush()
        html = transcript_html(self.transcript, self._theme, self._current_font(), self.objects)
        Path(path).write_text(html, encoding="utf-8")

    def print_to(self, printer) -> None:
        self.queue.flush()
        self.transcript.document.print_(printer)

    def clear(self) -> None:
        self.queue.flush()
        self.writer.apply(ClearScreenOp())

    def interrupt_kernel(self) -> None:
        self.controller.interrupt()

    def restart_kernel(self, confirm: Optional[bool] = None, clear: bool = False) -> None:
        """Restart the kernel (asking first if ``confirm``, by default the
        confirm-restart setting); with ``clear``, also empty the transcript."""
        ask = self.confirm_restart if confirm is None else confirm
        if ask and not self.confirm("Restart kernel?",
                                    "Restart the kernel? Its variables and state will be lost."
                                    + (" The transcript will be cleared." if clear else "")):
            return
        if clear:
            self.clear()
        self.controller.restart()

    def shutdown_kernel(self) -> None:
        """Stop the kernel now (one we started), or ask an attached one to stop."""
        self.controller.shutdown_kernel()

    def start_kernel(self) -> None:
        """Start the kernel again after a shutdown."""
        self.controller.start()

    def _ask(self, title: str, question: str) -> bool:
        answer = QMessageBox.question(self, title, question, QMessageBox.Yes | QMessageBox.No, QMessageBox.Yes)
        return answer == QMessageBox.Yes

    def closeEvent(self, event) -> None:  # noqa: N802
        self.edits.cancel_all()
        self.controller.stop()
        if self.shutdown_kernel_on_close:
            self.lifecycle.shutdown()
        else:
            self.lifecycle.detach()
        super().closeEvent(event)

    # -- edit commands (for menus) ---------------------------------------------------------------------
    def _text_target(self) -> QWidget:
        """The text widget an Edit command applies to: the focused one, else the input."""
        focus = QApplication.focusWidget()
        if focus in (self.transcript.view, self.stdin_bar.line, self.search_bar.line, self.find_bar.line):
            return focus
        return self.editor

    def copy(self) -> None:
        """Copy the selection: the focused widget's, else the transcript's (without prompts)."""
        target = self._text_target()
        if target is not self.transcript.view and _has_selection(target):
            target.copy()
        elif self.transcript.view.textCursor().hasSelection():
            self.transcript.copy()

    def copy_raw(self) -> None:
        """Copy the transcript's selection as shown, prompts included."""
        self.transcript.copy(raw=True)

    def cut(self) -> None:
        target = self._text_target()
        if target is not self.transcript.view:  # the transcript is read-only
            target.cut()

    def paste(self) -> None:
        target = self._text_target()
        (self.editor if target is self.transcript.view else target).paste()

    def undo(self) -> None:
        self.editor.undo()

    def redo(self) -> None:
        self.editor.redo()

    def select_all(self) -> None:
        self._text_target().selectAll()

    def find(self) -> None:
        if self.pager.has_focus():
            self.pager.open_find()
            return
        self.find_bar.open()

    # -- look ---------------------------------------------------------------------------------------------
    @property
    def theme(self) -> Theme:
        return self._theme

    @property
    def syntax_style(self) -> str:
        return self._style_name

    def apply_theme(self, name: str, syntax_style: Optional[str] = None) -> None:
        old = self._theme
        self._theme = theme_named(name)
        if syntax_style is not None:
            self._style_name = syntax_style
        elif self._style_name == old.pygments_style:
            self._style_name = self._theme.pygments_style
        old_formats = self.formats
        self.formats = Formats(self._theme)
        self.writer.formats = self.formats
        self.writer.token_formats = TokenFormats(self._style_name)
        self.highlighter.set_formats(self.writer.token_formats)
        t = self._theme
        self.object_view.set_theme(t)
        self.pager.set_theme(t, self._current_font())
        self.calltips.widget.set_colours(QColor(t.gutter), QColor(t.foreground), QColor(t.selection))
        for widget in (self.transcript.view, self.editor, self.stdin_bar.line, self.search_bar.line,
                       self.popup):
            apply_palette(widget, t)
        for widget in (self, self.stdin_bar, self.notice_bar, self.queued, self.search_bar, self.find_bar):
            apply_palette(widget, t)
            widget.setAutoFillBackground(True)
        self.queued.setStyleSheet(f"color: {t.queued};")
        self.notice_bar.setStyleSheet(f"#notice_bar {{ background: {t.gutter}; border-top: 1px solid {t.selection}; }}")
        self.separator.setStyleSheet(f"color: {t.selection}; background: {t.selection};")
        self.stdin_bar.prompt_label.setStyleSheet(f"color: {t.in_prompt}; font-weight: bold; padding-left: 8px;")
        self.set_prompt_number(self.controller.next_count)
        self.queue.flush()
        restyle_transcript(self.transcript, self.writer, old_formats, self.formats)
        self.others.set_theme(self._theme)

    def set_syntax_style(self, name: str) -> None:
        self.apply_theme(self._theme.name, syntax_style=name)

    def _current_font(self) -> QFont:
        font = QFont(self._base_font)
        size = self._base_font.pointSizeF() + self._zoom
        font.setPointSizeF(max(MIN_POINT_SIZE, min(MAX_POINT_SIZE, size)))
        return font

    def _apply_font(self) -> None:
        font = self._current_font()
        self.object_view.set_font(font, self._base_font.pointSizeF())
        for widget in (self.transcript.view, self.editor, self.stdin_bar.line, self.stdin_bar.prompt_label,
                       self.popup, self.queued, self.search_bar.line):
            widget.setFont(font)
        self.transcript.document.setDefaultFont(font)
        self.pager.set_font(font)
        self.editor.set_prompt(self.editor.prompt)

    def set_base_font(self, font: QFont) -> None:
        self._base_font = QFont(font)
        self._apply_font()

    @property
    def base_font(self) -> QFont:
        return QFont(self._base_font)

    @property
    def zoom_level(self) -> float:
        return self._zoom

    def zoom(self, steps: int) -> None:
        self.set_zoom(self._zoom + steps)

    def set_zoom(self, level: float) -> None:
        base = self._base_font.pointSizeF()
        level = max(MIN_POINT_SIZE - base, min(MAX_POINT_SIZE - base, level))
        if level != self._zoom:
            self._zoom = level
            self._apply_font()
            self.zoom_changed.emit(level)

    def reset_zoom(self) -> None:
        self.set_zoom(0)


def _has_selection(widget: QWidget) -> bool:
    if isinstance(widget, QPlainTextEdit):
        return widget.textCursor().hasSelection()
    return bool(getattr(widget, "hasSelectedText", lambda: False)())
