"""Persistent user preferences (QSettings): font, zoom, theme, style, geometry,
where help pages go and the editor for %edit.

Typed accessors with defaults, so a missing or mangled value never breaks
start-up: it falls back to the default and the problem is logged.
"""

from __future__ import annotations

import logging
from typing import Any, Optional

from PyQt5.QtCore import QByteArray, QSettings

from .console.highlight import available_styles
from .console.pager import DEFAULT_PAGING, PAGING_MODES
from .console.theme import DEFAULT_POINT_SIZE, THEMES

log = logging.getLogger(__name__)

ORGANIZATION = "qtapp"
APPLICATION = "qtapp"


def open_settings(path: Optional[str] = None) -> QSettings:
    """The user's settings, or an INI file at ``path`` (tests, portable setups)."""
    if path:
        return QSettings(path, QSettings.IniFormat)
    return QSettings(QSettings.IniFormat, QSettings.UserScope, ORGANIZATION, APPLICATION)


class Preferences:
    def __init__(self, settings: QSettings):
        self.qsettings = settings

    def _get(self, key: str, default: Any, kind: type) -> Any:
        value = self.qsettings.value(key, default)
        if value is None:
            return default
        try:
            if kind is bool:
                return value if isinstance(value, bool) else str(value).lower() in ("1", "true", "yes")
            return kind(value)
        except (TypeError, ValueError):
            log.warning("ignoring setting %s=%r (expected %s)", key, value, kind.__name__)
            return default

    def _set(self, key: str, value: Any) -> None:
        self.qsettings.setValue(key, value)

    @property
    def font_family(self) -> Optional[str]:
        family = self._get("font/family", "", str)
        return family or None

    @font_family.setter
    def font_family(self, value: str) -> None:
        self._set("font/family", value)

    @property
    def font_size(self) -> float:
        size = self._get("font/size", float(DEFAULT_POINT_SIZE), float)
        return size if 4 <= size <= 72 else float(DEFAULT_POINT_SIZE)

    @font_size.setter
    def font_size(self, value: float) -> None:
        self._set("font/size", float(value))

    @property
    def zoom(self) -> float:
        return self._get("view/zoom", 0.0, float)

    @zoom.setter
    def zoom(self, value: float) -> None:
        self._set("view/zoom", float(value))

    @property
    def theme(self) -> str:
        name = self._get("view/theme", "light", str)
        return name if name in THEMES else "light"

    @theme.setter
    def theme(self, value: str) -> None:
        self._set("view/theme", value)

    @property
    def syntax_style(self) -> Optional[str]:
        name = self._get("view/style", "", str)
        return name if name in available_styles() else None

    @syntax_style.setter
    def syntax_style(self, value: str) -> None:
        self._set("view/style", value)

    @property
    def confirm_restart(self) -> bool:
        return self._get("kernel/confirm_restart", True, bool)

    @confirm_restart.setter
    def confirm_restart(self, value: bool) -> None:
        self._set("kernel/confirm_restart", bool(value))

    @property
    def paging(self) -> str:
        """Where help pages go: "inline", "pager" or "auto"."""
        mode = self._get("view/paging", DEFAULT_PAGING, str)
        if mode not in PAGING_MODES:
            log.warning("ignoring setting view/paging=%r (expected one of %s)", mode, ", ".join(PAGING_MODES))
            return DEFAULT_PAGING
        return mode

    @paging.setter
    def paging(self, value: str) -> None:
        self._set("view/paging", value)

    @property
    def editor_command(self) -> Optional[str]:
        """The command %edit opens files with ({filename}, {line}); None: $VISUAL/$EDITOR."""
        command = self._get("editor/command", "", str).strip()
        return command or None

    @editor_command.setter
    def editor_command(self, value: Optional[str]) -> None:
        self._set("editor/command", value or "")

    @property
    def geometry(self) -> Optional[QByteArray]:
        value = self.qsettings.value("window/geometry")
        return value if isinstance(value, QByteArray) and not value.isEmpty() else None

    @geometry.setter
    def geometry(self, value: QByteArray) -> None:
        self._set("window/geometry", value)

    def sync(self) -> None:
        self.qsettings.sync()
