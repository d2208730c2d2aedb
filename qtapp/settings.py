"""What the application remembers: window state in QSettings, the user's
choices in the config file.

QSettings keeps only window state (geometry, zoom): things a user changes by
using the window, not by deciding. Everything a user decides (font, theme,
syntax style, confirm restart...) lives in the TOML config file
(:mod:`qtapp.config`); the properties here read it, and the menus that change
those choices write them back into that file. Older versions kept those
choices in QSettings: :func:`migrate_to_config` moves them into the file once.
"""

from __future__ import annotations

import logging
from typing import Any, Optional

from PyQt5.QtCore import QByteArray, QSettings

from .config import BY_NAME, ConfigWriteError, UserConfig

log = logging.getLogger(__name__)

ORGANIZATION = "qtapp"
APPLICATION = "qtapp"

#: QSettings keys of earlier versions -> config setting they became
MOVED_TO_CONFIG = {
    "font/family": "appearance.font_family",
    "font/size": "appearance.font_size",
    "view/theme": "appearance.theme",
    "view/style": "appearance.syntax_style",
    "kernel/confirm_restart": "kernel.confirm_restart",
}


def open_settings(path: Optional[str] = None) -> QSettings:
    """The user's settings, or an INI file at ``path`` (tests, portable setups)."""
    if path:
        return QSettings(path, QSettings.IniFormat)
    return QSettings(QSettings.IniFormat, QSettings.UserScope, ORGANIZATION, APPLICATION)


def _as_type(value: Any, like: Any) -> Any:
    """A QSettings INI value (often a string) as the type of the setting's default."""
    if isinstance(like, bool):
        return value if isinstance(value, bool) else str(value).strip().lower() in ("1", "true", "yes")
    if isinstance(like, float):
        return float(value)
    return str(value)


def migrate_to_config(qsettings: QSettings, config: UserConfig) -> list:
    """Move choices an older version kept in QSettings into the config file.

    A value the file already sets wins. A key is removed from QSettings only
    once its value is safely in the file (or the file already decides it), so
    nothing is lost if the file cannot be written. Returns the settings moved.
    """
    moved = []
    for old, name in MOVED_TO_CONFIG.items():
        if not qsettings.contains(old):
            continue
        value = qsettings.value(old)
        if not config.is_set(name) and value not in (None, ""):
            try:
                config.set(name, _as_type(value, BY_NAME[name].default))
            except (TypeError, ValueError) as exc:
                log.warning("not moving the old setting %s=%r into the config file: %s", old, value, exc)
            except (ConfigWriteError, OSError) as exc:
                log.warning("cannot move the old setting %s into the config file yet: %s", old, exc)
                continue
            else:
                moved.append(name)
        qsettings.remove(old)
    if moved:
        log.info("moved %s from the window settings into %s", ", ".join(moved), config.path)
    qsettings.sync()
    return moved


class Preferences:
    """Window state (QSettings) and the user's settings (config file) behind one object."""

    def __init__(self, settings: QSettings, config: Optional[UserConfig] = None):
        self.qsettings = settings
        #: the user's settings; without a file, changes last for this run only
        self.config = config if config is not None else UserConfig()

    # -- the user's settings (config file) ------------------------------------------------
    def _save(self, name: str, value: Any) -> None:
        try:
            self.config.set(name, value)
        except (ConfigWriteError, OSError) as exc:
            log.warning("%s is not saved: %s", name, exc)
            self.config.set(name, value, persist=False)

    @property
    def font_family(self) -> Optional[str]:
        return self.config.get("appearance.font_family") or None

    @font_family.setter
    def font_family(self, value: str) -> None:
        self._save("appearance.font_family", value)

    @property
    def font_size(self) -> float:
        return self.config.get("appearance.font_size")

    @font_size.setter
    def font_size(self, value: float) -> None:
        self._save("appearance.font_size", min(72.0, max(4.0, float(value))))

    @property
    def theme(self) -> str:
        return self.config.get("appearance.theme")

    @theme.setter
    def theme(self, value: str) -> None:
        self._save("appearance.theme", value)

    @property
    def syntax_style(self) -> Optional[str]:
        return self.config.get("appearance.syntax_style") or None

    @syntax_style.setter
    def syntax_style(self, value: str) -> None:
        self._save("appearance.syntax_style", value)

    @property
    def confirm_restart(self) -> bool:
        return self.config.get("kernel.confirm_restart")

    @confirm_restart.setter
    def confirm_restart(self, value: bool) -> None:
        self._save("kernel.confirm_restart", bool(value))

    # -- window state (QSettings) ---------------------------------------------------------
    @property
    def zoom(self) -> float:
        value = self.qsettings.value("view/zoom", 0.0)
        try:
            return float(value)
        except (TypeError, ValueError):
            log.warning("ignoring window setting view/zoom=%r (expected a number)", value)
            return 0.0

    @zoom.setter
    def zoom(self, value: float) -> None:
        self.qsettings.setValue("view/zoom", float(value))

    @property
    def show_others(self) -> bool:
        """Show what other frontends on a kernel run and print."""
        return self.config.get("console.show_others")

    @show_others.setter
    def show_others(self, value: bool) -> None:
        self._save("console.show_others", bool(value))

    @property
    def username(self) -> Optional[str]:
        """The name consoles send to their kernels (None: the login name)."""
        name = " ".join(str(self.config.get("kernel.username") or "").split())
        return name or None

    @username.setter
    def username(self, value: str) -> None:
        self._save("kernel.username", " ".join(value.split()))

    @property
    def paging(self) -> str:
        """Where help pages go: "inline", "pager" or "auto"."""
        return self.config.get("console.paging")

    @paging.setter
    def paging(self, value: str) -> None:
        self._save("console.paging", value)

    @property
    def editor_command(self) -> Optional[str]:
        """The command %edit opens files with ({filename}, {line}); None: $VISUAL/$EDITOR."""
        return (self.config.get("console.editor") or "").strip() or None

    @editor_command.setter
    def editor_command(self, value: Optional[str]) -> None:
        self._save("console.editor", value or "")

    @property
    def geometry(self) -> Optional[QByteArray]:
        value = self.qsettings.value("window/geometry")
        return value if isinstance(value, QByteArray) and not value.isEmpty() else None

    @geometry.setter
    def geometry(self, value: QByteArray) -> None:
        self.qsettings.setValue("window/geometry", value)

    def sync(self) -> None:
        self.qsettings.sync()
