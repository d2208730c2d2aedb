"""The application icon: one SVG, and PNG sizes rendered from it.

Desktops want PNGs at fixed sizes (the hicolor theme's ``NxN/apps``
folders) and X window managers take the window icon as pixels, so the PNGs
are committed beside the SVG. ``python -m qtapp.icons`` (``make icons``)
renders them again after the SVG changes; a test checks they still match.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import List

log = logging.getLogger(__name__)

#: Where the package keeps its desktop files (the top-level ``resources`` links here).
RESOURCES = Path(__file__).resolve().parent / "resources"
ICON_NAME = "qtapp"
SVG_PATH = RESOURCES / f"{ICON_NAME}.svg"
HICOLOR = RESOURCES / "icons" / "hicolor"
#: The hicolor sizes desktops look for, 16 (menus, title bars) to 512 (launchers, HiDPI).
ICON_SIZES = (16, 22, 24, 32, 48, 64, 128, 256, 512)
#: Jupyter kernelspec logos (``logo-32x32.png``, ``logo-64x64.png``).
KERNEL_LOGO_SIZES = (32, 64)


def png_path(size: int) -> Path:
    return HICOLOR / f"{size}x{size}" / "apps" / f"{ICON_NAME}.png"


def kernel_logo_path(size: int) -> Path:
    return RESOURCES / f"logo-{size}x{size}.png"


def render(size: int):
    """The SVG drawn into a transparent ``size`` x ``size`` QImage."""
    from PyQt5.QtCore import Qt
    from PyQt5.QtGui import QImage, QPainter
    from PyQt5.QtSvg import QSvgRenderer

    renderer = QSvgRenderer(str(SVG_PATH))
    if not renderer.isValid():
        raise ValueError(f"{SVG_PATH} is not an SVG image Qt can draw")
    image = QImage(size, size, QImage.Format_ARGB32_Premultiplied)
    image.fill(Qt.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.Antialiasing)
    painter.setRenderHint(QPainter.SmoothPixmapTransform)
    renderer.render(painter)
    painter.end()
    return image.convertToFormat(QImage.Format_ARGB32)


def app_icon():
    """The window icon: every PNG size, 16 to 512 pixels, so the desktop gets
    a crisp one at any size it asks for (the SVG would load Qt's SVG module
    into every console for nothing more)."""
    from PyQt5.QtCore import QSize
    from PyQt5.QtGui import QIcon

    icon = QIcon()
    for size in ICON_SIZES:
        path = png_path(size)
        if path.is_file():
            icon.addFile(str(path), QSize(size, size))
    if icon.isNull():
        log.warning("no application icon found in %s", RESOURCES)
    return icon


def write_pngs() -> List[Path]:
    """Render every PNG (hicolor sizes and kernel logos) from the SVG."""
    written = []
    targets = [(size, png_path(size)) for size in ICON_SIZES]
    targets += [(size, kernel_logo_path(size)) for size in KERNEL_LOGO_SIZES]
    for size, path in targets:
        path.parent.mkdir(parents=True, exist_ok=True)
        if not render(size).save(str(path), "PNG"):
            raise OSError(f"could not write {path}")
        written.append(path)
    return written


def main() -> int:
    import os

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PyQt5.QtGui import QGuiApplication

    app = QGuiApplication(sys.argv[:1])  # QPainter on images needs one
    for path in write_pngs():
        sys.stdout.write(f"{path.relative_to(RESOURCES.parent.parent)}\n")
    del app
    return 0


if __name__ == "__main__":
    sys.exit(main())
