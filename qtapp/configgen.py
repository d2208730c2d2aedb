"""``qtapp --generate-config``: the documented default file.

The ``[keys]`` part lists every command a window really has, so it is read
off a window built for the purpose (off screen, its kernel never started)
rather than from a list that would fall behind the menus.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import List, Optional, Tuple

from .config import default_config_path
from .configfile import generate


def command_rows() -> List[Tuple[str, List[str], str]]:
    """(name, default keys, description) of every bindable command of a main window."""
    from PyQt5.QtCore import QSettings
    from PyQt5.QtWidgets import QApplication

    app = QApplication.instance()
    if app is None:
        os.environ["QT_QPA_PLATFORM"] = "offscreen"  # this process only writes a file and exits
        app = QApplication(["qtapp"])
    from .console.widget import ConsoleWidget
    from .mainwindow import MainWindow
    from .settings import Preferences
    from .shortcuts import config_rows

    with tempfile.TemporaryDirectory(prefix="qtapp-config-") as tmp:
        console = ConsoleWidget(start=False)
        window = MainWindow(console, Preferences(QSettings(str(Path(tmp) / "w.ini"), QSettings.IniFormat)),
                            new_window=lambda: None)
        try:
            return config_rows(window)
        finally:
            console.shutdown_kernel_on_close = False
            window.deleteLater()


def generate_default_config(path: Optional[str] = None) -> Path:
    target = Path(path) if path else default_config_path()
    return generate(target, command_rows())
