"""Every shortcut by name: the console's keymap and the window's menu actions.

Two kinds of commands have keys. Console commands (Enter runs, Tab
completes...) live in the console's :class:`~qtapp.console.keymap.Keymap`;
menu commands are QActions named ``action_<name>``. Both are found at run
time, not listed here, so a command added anywhere (a new keymap entry, a
new menu action following that naming) is rebindable from the config file's
``[keys]`` table and shown in Help > Keyboard shortcuts with no further work.

A key the user gives to one command is taken from every other command that
had it by default: otherwise the console, which claims its keys before menu
shortcuts see them, would keep it.
"""

from __future__ import annotations

import difflib
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Dict, List, Mapping, Optional, Sequence, Set, Tuple

from PyQt5.QtGui import QKeySequence
from PyQt5.QtWidgets import QAction, QMenu

from .console.keymap import DEFAULT_BINDINGS, DESCRIPTIONS, Keymap

if TYPE_CHECKING:
    from .mainwindow import MainWindow

log = logging.getLogger(__name__)

ACTION_PREFIX = "action_"
#: Menu commands too numerous to list in the generated config (still bindable by name).
UNLISTED_PREFIXES = ("style_",)


@dataclass
class Command:
    """One bindable command as shown to the user."""

    name: str
    kind: str  # "console" or "menu"
    description: str
    keys: List[str]  # portable key text, as the config file writes it


def _portable(seqs: Sequence[QKeySequence]) -> List[str]:
    return [s.toString(QKeySequence.PortableText) for s in seqs if not s.isEmpty()]


def _native(text: str) -> str:
    return QKeySequence(text, QKeySequence.PortableText).toString(QKeySequence.NativeText)


def window_actions(window: "MainWindow") -> Dict[str, QAction]:
    """The window's named actions, in the order they were made."""
    found: Dict[str, QAction] = {}
    for action in window.findChildren(QAction):
        name = action.objectName()
        if name.startswith(ACTION_PREFIX) and name not in found:
            found[name[len(ACTION_PREFIX):]] = action
    return found


def _action_label(action: QAction) -> str:
    return action.text().split("\t", 1)[0].replace("&&", "\0").replace("&", "").replace("\0", "&").rstrip("…. ")


def _menu_path(action: QAction) -> str:
    """'View > Zoom in': where a user finds the action."""
    label = _action_label(action)
    menu = _titled_menu(action)
    titles = []
    while menu is not None:
        titles.insert(0, menu.title().replace("&", ""))
        menu = _titled_menu(menu.menuAction())
    return " > ".join(titles + [label])


def _titled_menu(action: QAction) -> Optional[QMenu]:
    """The menu holding ``action`` (not the menu bar's untitled overflow menu)."""
    return next((w for w in action.associatedWidgets() if isinstance(w, QMenu) and w.title()), None)


def commands(window: "MainWindow") -> List[Command]:
    """Every bindable command of the window, with the keys it has now."""
    keymap: Keymap = window.console.keymap
    out = [Command(name, "console", DESCRIPTIONS.get(name, name.replace("_", " ")), _portable(keymap.keys(name)))
           for name in keymap.names()]
    actions = window_actions(window)
    links = _hint_links(window, actions)
    for name, action in actions.items():
        description = _menu_path(action)
        if name in links and not action.shortcuts():
            description += f" (shows the key of the console command {links[name]})"
        out.append(Command(name, "menu", description, _portable(action.shortcuts())))
    return out


def config_rows(window: "MainWindow") -> List[Tuple[str, List[str], str]]:
    """(name, keys, description) for the generated config file."""
    return [(c.name, c.keys, c.description) for c in commands(window)
            if not c.name.startswith(UNLISTED_PREFIXES)]


def _hint_links(window: "MainWindow", actions: Mapping[str, QAction]) -> Dict[str, str]:
    """Menu items that only show a console command's key (Kernel > Interrupt shows Ctrl+C):
    action name -> console command, matched by the key they show."""
    keymap = window.console.keymap
    by_text = {keymap.shortcut_text(n): n for n in keymap.names() if keymap.shortcut_text(n)}
    links = {}
    for name, action in actions.items():
        text = action.text()
        if "\t" in text and not action.shortcuts():
            command = by_text.get(text.split("\t", 1)[1])
            if command is not None:
                links[name] = command
    return links


def _owners(bindings: Mapping[str, Sequence[str]], known: Set[str],
            source: str) -> Tuple[Dict[str, str], List[str]]:
    """key -> the command the user gave it (the last one, when given twice), and what was wrong."""
    problems: List[str] = []
    owner: Dict[str, str] = {}
    for name, keys in bindings.items():
        if name not in known:
            near = difflib.get_close_matches(name, sorted(known), n=1)
            problems.append(f"{source}: keys.{name}: no command has that name (ignored)"
                            + (f"; did you mean {near[0]!r}?" if near else ""))
            continue
        for key in keys:
            canonical = _canon(key)
            if canonical in owner and owner[canonical] != name:
                problems.append(f"{source}: keys.{name}: {key} is also given to {owner[canonical]}; "
                                f"{name} gets it")
            owner[canonical] = name
    return owner, problems


def apply_to_keymap(keymap: Keymap, bindings: Mapping[str, Sequence[str]]) -> None:
    """The user's bindings in one console's keymap: its commands get their keys, and keys
    the user gave to menu commands leave it. (Each console has its own keymap: call this for
    every console made, e.g. a new tab's.)"""
    owner, _ = _owners(bindings, set(bindings), "")
    for key in owner:
        keymap.unbind_key(key)
    for name, keys in bindings.items():
        if name in DEFAULT_BINDINGS:
            keymap.bind(name, [k for k in keys if owner.get(_canon(k)) == name])


def apply_bindings(window: "MainWindow", bindings: Mapping[str, Sequence[str]],
                   source: str = "configuration") -> List[str]:
    """Bind each named command of the window (its console's and its menus') to the keys the
    user gave; returns one message per binding not applied as written."""
    keymap = window.console.keymap
    actions = window_actions(window)
    links = _hint_links(window, actions)
    owner, problems = _owners(bindings, set(keymap.names()) | set(actions), source)
    apply_to_keymap(keymap, {name: keys for name, keys in bindings.items() if name in keymap.names()
                             or name in actions})
    for key, name in owner.items():
        for other, action in actions.items():
            if other != name:
                kept = [s for s in action.shortcuts() if s.toString(QKeySequence.PortableText) != key]
                if len(kept) != len(action.shortcuts()):
                    log.debug("key %s moves from %s to %s", key, other, name)
                    action.setShortcuts(kept)
    for name, keys in bindings.items():
        if name in actions:
            actions[name].setShortcuts([QKeySequence(k, QKeySequence.PortableText) for k in keys
                                        if owner.get(_canon(k)) == name])
    for action_name, command in links.items():
        action = actions[action_name]
        base = action.text().split("\t", 1)[0]
        if action.shortcuts():  # now bound itself: the menu shows its own key
            action.setText(base)
            continue
        shown = keymap.shortcut_text(command)
        action.setText(base + (f"\t{shown}" if shown else ""))
    for message in problems:
        log.warning("%s", message)
    return problems


def _canon(key: str) -> str:
    return QKeySequence(key, QKeySequence.PortableText).toString(QKeySequence.PortableText)


def shown_keys(command: Command) -> str:
    """Keys as the user's platform writes them, for display."""
    return ", ".join(_native(k) for k in command.keys)
