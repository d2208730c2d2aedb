"""Install what the real-window tests (`make test-desktop`) need, where that can be done.

Needed: an X server (Xvfb), xdotool to type into the window, xprop to read its
properties, desktop-file-validate to check the desktop entry, and the system
libraries Qt's xcb plugin links to. On Debian and Ubuntu, as root, missing
ones are installed with apt-get; elsewhere this says what is missing and the
tests that need it skip with that reason. Never fails the build by itself.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

from qtapp.platformcheck import PACKAGES, find_xcb_plugin, missing_libraries

#: program -> Debian package
PROGRAMS = {"Xvfb": "xvfb", "xdotool": "xdotool", "xprop": "x11-utils", "desktop-file-validate": "desktop-file-utils"}


def wanted() -> list:
    packages = [pkg for program, pkg in PROGRAMS.items() if shutil.which(program) is None]
    plugin = find_xcb_plugin({})
    if plugin is not None:
        for lib in missing_libraries(plugin):
            if lib in PACKAGES:
                packages.append(PACKAGES[lib]["apt"])
            else:
                print(f"desktop-deps: Qt's xcb plugin needs {lib}, which no known package provides", flush=True)
    return list(dict.fromkeys(packages))


def apt_get(*args: str) -> bool:
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    return subprocess.run(["apt-get", *args], env=env).returncode == 0


def main() -> int:
    packages = wanted()
    if not packages:
        print("desktop-deps: Xvfb, xdotool, xprop, desktop-file-validate and the xcb libraries are present")
        return 0
    if shutil.which("apt-get") is None or os.geteuid() != 0:
        why = "apt-get is not available" if shutil.which("apt-get") is None else "not running as root"
        print(f"desktop-deps: missing {' '.join(packages)} and cannot install them ({why}); "
              "the tests that need them will be skipped")
        return 0
    print(f"desktop-deps: installing {' '.join(packages)}", flush=True)
    install = ("install", "-y", "-q", "--no-install-recommends", *packages)
    if not apt_get(*install) and not (apt_get("update", "-q") and apt_get(*install)):
        print("desktop-deps: apt-get could not install them; the tests that need them will be skipped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
