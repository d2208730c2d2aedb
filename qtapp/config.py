"""The user's configuration file: ``$XDG_CONFIG_HOME/qtapp/config.toml``.

One TOML file holds everything a user chooses (font, theme, editor, keys...);
``qtapp --generate-config`` writes a commented default. The schema below is
the single source of truth: it validates what is read, documents the
generated file and maps each setting to the command-line option that
overrides it. Loading never fails: a bad value is reported with the file and
the key, and the default is used, so the console always starts.

Choices made in the menus (theme, syntax style, font, confirm restart) are
written back into the same file, in place, keeping the user's comments
(see :mod:`qtapp.configfile`). Window state stays in QSettings.
"""

from __future__ import annotations

import difflib
import logging
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Set, Tuple


def toml() -> Any:
    """The TOML parser, imported when a file is read (most starts have none)."""
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - exercised on older Pythons only
        import tomli as tomllib
    return tomllib


log = logging.getLogger(__name__)

APP_DIR = "qtapp"
CONFIG_NAME = "config.toml"
KEYS_SECTION = "keys"

PAGING_MODES = ("auto", "inline", "pager")
#: Figure formats the console can show inline (the kernel also knows "pdf").
FIGURE_FORMATS = ("svg", "png", "retina", "jpeg")
THEMES = ("light", "dark")
DEFAULT_FONT_SIZE = 10.0
DEFAULT_SCROLLBACK_MB = 128.0


def config_home(env: Mapping[str, str] = os.environ) -> Path:
    """$XDG_CONFIG_HOME, or ~/.config when it is unset or not absolute."""
    value = env.get("XDG_CONFIG_HOME", "")
    if value and os.path.isabs(value):
        return Path(value)
    return Path(env.get("HOME") or Path.home()) / ".config"


def default_config_path(env: Mapping[str, str] = os.environ) -> Path:
    return config_home(env) / APP_DIR / CONFIG_NAME


# -- value checks: each returns the value to use or raises ValueError saying why ------------------
def _string(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"expected a string, got {_describe(value)}")
    if any(ord(c) < 32 for c in value):
        raise ValueError("control characters are not allowed")
    return value


def _choice(*choices: str) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        if not isinstance(value, str) or value not in choices:
            raise ValueError(f"expected one of {', '.join(repr(c) for c in choices)}, got {_describe(value)}")
        return value
    return check


def _number(low: float, high: float) -> Callable[[Any], float]:
    def check(value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"expected a number, got {_describe(value)}")
        if not low <= value <= high:
            raise ValueError(f"{value} is not between {low:g} and {high:g}")
        return float(value)
    return check


def _bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"expected true or false, got {_describe(value)}")
    return value


def _syntax_style(value: Any) -> str:
    value = _string(value)
    if value:
        from .console.highlight import available_styles

        styles = available_styles()
        if value not in styles:
            near = difflib.get_close_matches(value, styles, n=3)
            hint = f" (did you mean {', '.join(near)}?)" if near else f" (known: {', '.join(styles)})"
            raise ValueError(f"no syntax style named {value!r}{hint}")
    return value


def _editor(value: Any) -> str:
    value = _string(value)
    try:
        value.format(filename="file.py", line=1)
    except (KeyError, IndexError, ValueError) as exc:
        raise ValueError(f"only the placeholders {{filename}} and {{line}} are known ({exc})") from None
    return value


def _describe(value: Any) -> str:
    kinds = {bool: "a boolean", int: "a number", float: "a number", str: "a string", list: "a list",
             dict: "a table"}
    return f"{kinds.get(type(value), type(value).__name__)} ({value!r})"


@dataclass(frozen=True)
class Setting:
    """One key of the file: where it lives, its default, how it is checked and documented."""

    section: str
    key: str
    default: Any
    check: Callable[[Any], Any]
    doc: str
    option: Optional[str] = None  # the command-line option that overrides it

    @property
    def name(self) -> str:
        return f"{self.section}.{self.key}"


SETTINGS: Tuple[Setting, ...] = (
    Setting("appearance", "font_family", "", _string,
            "Monospace font family. Empty: the first installed of DejaVu Sans Mono, Noto Sans Mono, "
            "Liberation Mono... else the system's fixed font.", "--font"),
    Setting("appearance", "font_size", DEFAULT_FONT_SIZE, _number(4, 72), "Font size in points (4 to 72).",
            "--font-size"),
    Setting("appearance", "theme", "light", _choice(*THEMES), 'Colour theme: "light" or "dark".', "--theme"),
    Setting("appearance", "syntax_style", "", _syntax_style,
            "Pygments style for code (e.g. \"monokai\", \"solarized-light\"). Empty: the theme's own.",
            "--style"),
    Setting("console", "scrollback_mb", DEFAULT_SCROLLBACK_MB, _number(1, 65536),
            "Memory (MB) the transcript may use before the oldest output is dropped.", "--scrollback"),
    Setting("console", "paging", "auto", _choice(*PAGING_MODES),
            'Where help text (obj?, %pdoc...) goes: "inline" in the transcript, "pager" in a pager, '
            '"auto": short text inline, long text in the pager.', "--paging"),
    Setting("console", "show_others", True, _bool,
            "Show what other frontends on the same kernel run and print (View > Show others' activity).",
            "--hide-others"),
    Setting("console", "editor", "", _editor,
            "Command that opens a file for %edit, with {filename} and {line} placeholders, e.g. "
            "\"code --goto {filename}:{line}\". Empty: $VISUAL or $EDITOR.", "--editor"),
    Setting("kernel", "username", "", _string,
            "The name this console gives in its messages to the kernel. Empty: your login name.",
            "--username"),
    Setting("kernel", "confirm_restart", True, _bool, "Ask before restarting the kernel.",
            "--no-confirm-restart"),
    Setting("kernel", "figure_format", "svg", _choice(*FIGURE_FORMATS),
            'Inline matplotlib figures: "svg", "png", "retina" (PNG at twice the resolution) or "jpeg". '
            "Set in the kernel at each connection (%config InlineBackend.figure_format).",
            "--figure-format"),
)
BY_NAME: Dict[str, Setting] = {s.name: s for s in SETTINGS}
SECTIONS: Tuple[str, ...] = tuple(dict.fromkeys(s.section for s in SETTINGS))


@dataclass
class ConfigProblem:
    """Something in the file that could not be used; ``key`` is dotted (or None for the file)."""

    path: Optional[Path]
    key: Optional[str]
    message: str

    def __str__(self) -> str:
        where = str(self.path) if self.path else "configuration"
        return f"{where}: {self.key}: {self.message}" if self.key else f"{where}: {self.message}"


class ConfigWriteError(OSError):
    """A change could not be saved without risking what the file already says."""


def key_problem(text: Any, single_press: bool = False) -> Optional[str]:
    """Why ``text`` is not a usable key sequence (None when it is)."""
    from PyQt5.QtGui import QKeySequence

    if not isinstance(text, str) or not text.strip():
        return f"expected a key such as \"Ctrl+J\", got {_describe(text)}"
    seq = QKeySequence(text, QKeySequence.PortableText)
    if seq.isEmpty() or not seq.toString() or any(seq[i] == 0x1FFFFFF for i in range(seq.count())):
        return f"{text!r} is not a key Qt knows (write keys like \"Ctrl+Shift+Return\", \"Alt+F4\", \"Ctrl+.\")"
    if single_press and seq.count() > 1:
        return f"{text!r} is a sequence of several presses; console commands take one key press"
    return None


def console_commands() -> Iterable[str]:
    from .console.keymap import DEFAULT_BINDINGS

    return DEFAULT_BINDINGS.keys()


class UserConfig:
    """The values in force: defaults, overlaid with what the file sets."""

    def __init__(self, path: Optional[Path] = None):
        #: None: settings live in memory only (nothing is saved)
        self.path = path
        self.values: Dict[str, Any] = {s.name: s.default for s in SETTINGS}
        #: settings the file sets (and that were valid)
        self.explicit: Set[str] = set()
        #: [keys]: command name -> key sequences ([] unbinds)
        self.keys: Dict[str, List[str]] = {}
        self.problems: List[ConfigProblem] = []
        #: False when the file exists but could not be read: it is never written over
        self.writable = True

    def get(self, name: str) -> Any:
        return self.values[name]

    def is_set(self, name: str) -> bool:
        return name in self.explicit

    def set(self, name: str, value: Any, persist: bool = True) -> None:
        """Change a setting (checked) and, with a file, save it there in place."""
        setting = BY_NAME[name]
        value = setting.check(value)
        if persist and self.path is not None:
            if not self.writable:
                raise ConfigWriteError(f"{self.path} has errors; fix them before settings can be saved there")
            from .configfile import update_file

            update_file(self.path, setting.section, setting.key, value)
        self.values[name] = value
        self.explicit.add(name)

    def report(self, problem: ConfigProblem) -> None:
        self.problems.append(problem)
        log.warning("%s", problem)


def load_config(path: Optional[Path] = None) -> UserConfig:
    """Read the file at ``path`` (default: the XDG location). Missing is fine; bad is reported."""
    path = Path(path) if path is not None else default_config_path()
    config = UserConfig(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return config
    except OSError as exc:
        config.writable = False
        config.report(ConfigProblem(path, None, f"cannot be read ({exc.strerror or exc}); using the defaults"))
        return config
    tomllib = toml()
    try:
        document = tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        config.writable = False
        config.report(ConfigProblem(path, None, f"is not UTF-8 text ({exc.reason} at byte {exc.start}); "
                                                "using the defaults"))
        return config
    except tomllib.TOMLDecodeError as exc:
        config.writable = False
        config.report(ConfigProblem(path, None, f"is not valid TOML: {exc}; using the defaults"))
        return config
    apply_document(config, document)
    return config


def apply_document(config: UserConfig, document: Mapping[str, Any]) -> None:
    """Take every valid value of a parsed file; report the others."""
    path = config.path
    for section, table in document.items():
        if section == KEYS_SECTION:
            _read_keys(config, table)
            continue
        if section not in SECTIONS:
            known = SECTIONS + (KEYS_SECTION,)
            config.report(ConfigProblem(path, section, "unknown section (ignored)" + _near(section, known)))
            continue
        if not isinstance(table, dict):
            config.report(ConfigProblem(path, section, f"expected a [{section}] table, got {_describe(table)}"))
            continue
        for key, value in table.items():
            name = f"{section}.{key}"
            setting = BY_NAME.get(name)
            if setting is None:
                known = [s.key for s in SETTINGS if s.section == section]
                config.report(ConfigProblem(path, name, "unknown setting (ignored)" + _near(key, known)))
                continue
            try:
                config.values[name] = setting.check(value)
            except ValueError as exc:
                config.report(ConfigProblem(path, name, f"{exc}; using the default, {_show(setting.default)}"))
                continue
            config.explicit.add(name)


def _read_keys(config: UserConfig, table: Any) -> None:
    path = config.path
    if not isinstance(table, dict):
        config.report(ConfigProblem(path, KEYS_SECTION, f"expected a [keys] table, got {_describe(table)}"))
        return
    console = set(console_commands())
    for name, value in table.items():
        keys = [value] if isinstance(value, str) else value
        if not isinstance(keys, list):
            config.report(ConfigProblem(path, f"keys.{name}", f"expected a key or a list of keys, got "
                                                              f"{_describe(value)}; keeping its default keys"))
            continue
        problems = [p for p in (key_problem(k, single_press=name in console) for k in keys) if p]
        if problems:
            config.report(ConfigProblem(path, f"keys.{name}", "; ".join(problems) + "; keeping its default keys"))
            continue
        config.keys[name] = list(keys)


def _near(word: str, known: Iterable[str]) -> str:
    near = difflib.get_close_matches(word, list(known), n=1)
    return f"; did you mean {near[0]!r}?" if near else ""


def _show(value: Any) -> str:
    from .configfile import toml_value

    return toml_value(value)


#: argparse dest -> the setting that option overrides
OPTION_SETTINGS: Dict[str, str] = {
    "font": "appearance.font_family",
    "font_size": "appearance.font_size",
    "theme": "appearance.theme",
    "style": "appearance.syntax_style",
    "scrollback": "console.scrollback_mb",
    "paging": "console.paging",
    "editor": "console.editor",
    "username": "kernel.username",
    "no_confirm_restart": "kernel.confirm_restart",
    "hide_others": "console.show_others",
    "figure_format": "kernel.figure_format",
}
#: options whose value is not the setting's value as it is (None: the option was not given)
OPTION_VALUES: Dict[str, Callable[[Any], Any]] = {
    "no_confirm_restart": lambda given: False if given else None,
    "hide_others": lambda given: False if given else None,
}


def option_overrides(options: Any) -> Dict[str, Any]:
    """Settings the command line gives (checked: a bad one raises ValueError naming the option)."""
    out: Dict[str, Any] = {}
    for dest, name in OPTION_SETTINGS.items():
        value = getattr(options, dest, None)
        if dest in OPTION_VALUES:
            value = OPTION_VALUES[dest](value)
        if value is None:
            continue
        setting = BY_NAME[name]
        try:
            out[name] = setting.check(value)
        except ValueError as exc:
            raise ValueError(f"{setting.option}: {exc}") from None
    return out


class EffectiveSettings:
    """What a console uses: the command line over the file over the defaults."""

    def __init__(self, config: UserConfig, overrides: Optional[Mapping[str, Any]] = None):
        self.config = config
        self.overrides = dict(overrides or {})

    def __getitem__(self, name: str) -> Any:
        if name in self.overrides:
            return self.overrides[name]
        return self.config.get(name)
