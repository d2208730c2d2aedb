"""The config file: the generated default, every setting round-tripping through
the file, bad values reported with the file and key (defaults used, the
console still starts), edits in place that keep the user's comments, the
command line over the file, and old QSettings preferences moved into it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from PyQt5.QtCore import QSettings

from console_helpers import TIMEOUT_MS, run
from kernel.client import KernelClient
from qtapp.__main__ import build_parser
from qtapp.config import (BY_NAME, SETTINGS, ConfigWriteError, EffectiveSettings, UserConfig, default_config_path,
                          load_config, option_overrides)
from qtapp.configfile import default_text, toml_value, update_file, update_text
from qtapp.console.keymap import DEFAULT_BINDINGS
from qtapp.kernelprefs import KernelPreferences
from qtapp.settings import Preferences, migrate_to_config, open_settings
from test_compat import needs_ipykernel
from test_mainwindow import open_window

#: a valid value, different from the default, for every setting
NON_DEFAULTS = {
    "appearance.font_family": "Monospace",
    "appearance.font_size": 13.5,
    "appearance.theme": "dark",
    "appearance.syntax_style": "solarized-dark",
    "console.scrollback_mb": 3.0,
    "console.paging": "pager",
    "console.show_others": False,
    "console.editor": "myedit --line {line} {filename}",
    "kernel.username": "ada",
    "kernel.confirm_restart": False,
    "kernel.figure_format": "png",
}


def _qtapp(*args, env=None, **kwargs):
    env = dict(os.environ if env is None else env)
    env.pop("DISPLAY", None)
    env.pop("WAYLAND_DISPLAY", None)
    return subprocess.run([sys.executable, "-m", "qtapp", *args], capture_output=True, text=True, env=env,
                          timeout=120, **kwargs)


def test_every_setting_has_a_non_default_example_here():
    assert set(NON_DEFAULTS) == set(BY_NAME)
    assert all(NON_DEFAULTS[s.name] != s.default for s in SETTINGS)


def test_the_default_location_follows_xdg(tmp_path):
    assert default_config_path({"XDG_CONFIG_HOME": str(tmp_path)}) == tmp_path / "qtapp" / "config.toml"
    assert default_config_path({"HOME": "/h", "XDG_CONFIG_HOME": "rel"}) == Path("/h/.config/qtapp/config.toml")


def test_generate_config_writes_a_documented_default_that_reads_as_the_defaults(tmp_path):
    path = tmp_path / "sub" / "config.toml"
    out = _qtapp("--generate-config", "--config", str(path))
    assert out.returncode == 0, out.stderr
    assert str(path) in out.stdout
    text = path.read_text()
    for s in SETTINGS:
        assert f"# {s.key} = {toml_value(s.default)}" in text
        assert s.option in text  # documents the overriding option
    for name, keys in DEFAULT_BINDINGS.items():
        assert f"# {name} = {toml_value(list(keys))}".replace('"Escape"', '"Esc"') in text
    for menu_command in ("zoom_in", "save_html", "new_window", "shortcuts", "about"):
        assert f"# {menu_command} = " in text
    config = load_config(path)
    assert config.problems == [] and config.explicit == set() and config.keys == {}
    assert all(config.get(s.name) == s.default for s in SETTINGS)
    again = _qtapp("--generate-config", "--config", str(path))
    assert again.returncode == 1 and "already exists" in again.stderr
    assert path.read_text() == text


def test_every_setting_round_trips_through_the_file_keeping_its_comments(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text(default_text([("force_run", ["Shift+Return"], "Run the cell as it is")]))
    config = load_config(path)
    for name, value in NON_DEFAULTS.items():
        config.set(name, value)
    text = path.read_text()
    assert text.startswith("# qtapp configuration") and "# Run the cell as it is" in text
    reread = load_config(path)
    assert reread.problems == []
    assert {n: reread.get(n) for n in NON_DEFAULTS} == NON_DEFAULTS
    assert reread.explicit == set(NON_DEFAULTS)
    for s in SETTINGS:  # and back
        reread.set(s.name, s.default)
    back = load_config(path)
    assert all(back.get(s.name) == s.default for s in SETTINGS) and back.problems == []


def test_a_hand_written_file_with_every_setting_and_keys_is_read_exactly(tmp_path):
    path = tmp_path / "config.toml"
    sections = {}
    for name, value in NON_DEFAULTS.items():
        section, key = name.split(".")
        sections.setdefault(section, []).append(f"{key} = {toml_value(value)}")
    body = "\n".join(f"[{s}]\n" + "\n".join(lines) for s, lines in sections.items())
    path.write_text(body + '\n[keys]\nforce_run = "Ctrl+J"\nzoom_in = ["Ctrl+Shift+Up", "F7"]\nclear = []\n')
    config = load_config(path)
    assert config.problems == []
    assert {n: config.get(n) for n in NON_DEFAULTS} == NON_DEFAULTS
    assert config.keys == {"force_run": ["Ctrl+J"], "zoom_in": ["Ctrl+Shift+Up", "F7"], "clear": []}


def test_bad_values_name_the_key_and_file_and_the_defaults_are_used(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text("""
[appearance]
font_family = "Monospace"
font_size = 200
theme = "blue"
syntax_style = "monokia"
colour = "red"
[console]
scrollback_mb = -1
paging = 3
editor = "vim +{lineno} {filename}"
[kernel]
confirm_restart = "yes"
figure_format = "gif"
username = "a\\u0007b"
[apparence]
theme = "dark"
[keys]
force_run = "Ctrl+Foo"
zoom_in = 5
run_or_newline = "Ctrl+K, Ctrl+C"
""")
    config = load_config(path)
    problems = {p.key: str(p) for p in config.problems}
    expected = {
        "appearance.font_size": "200 is not between 4 and 72",
        "appearance.theme": "expected one of 'light', 'dark'",
        "appearance.syntax_style": "did you mean monokai",
        "appearance.colour": "unknown setting",
        "console.scrollback_mb": "-1 is not between 1 and 65536",
        "console.paging": "expected one of 'auto', 'inline', 'pager', got a number (3)",
        "console.editor": "placeholders {filename} and {line}",
        "kernel.confirm_restart": "expected true or false, got a string ('yes')",
        "kernel.figure_format": "expected one of 'svg', 'png', 'retina', 'jpeg'",
        "kernel.username": "control characters",
        "apparence": "unknown section (ignored); did you mean 'appearance'?",
        "keys.force_run": "'Ctrl+Foo' is not a key Qt knows",
        "keys.zoom_in": "expected a key or a list of keys",
        "keys.run_or_newline": "console commands take one key press",
    }
    assert set(problems) == set(expected)
    for key, words in expected.items():
        assert problems[key].startswith(f"{path}: {key}: ") and words in problems[key], problems[key]
    for name in ("appearance.font_size", "appearance.theme", "console.paging", "kernel.confirm_restart"):
        assert config.get(name) == BY_NAME[name].default
        assert f"using the default, {toml_value(BY_NAME[name].default)}" in problems[name]
    assert config.get("appearance.font_family") == "Monospace"  # the good value beside them is used
    assert config.keys == {}


def test_a_file_that_is_not_toml_is_reported_and_never_written_over(tmp_path):
    path = tmp_path / "config.toml"
    broken = "[appearance]\ntheme = dark\n"
    path.write_text(broken)
    config = load_config(path)
    assert len(config.problems) == 1
    assert str(config.problems[0]).startswith(f"{path}: is not valid TOML") and "line 2" in str(config.problems[0])
    assert config.get("appearance.theme") == "light"
    with pytest.raises(ConfigWriteError, match="has errors"):
        config.set("appearance.theme", "dark")
    prefs = Preferences(QSettings(str(tmp_path / "w.ini"), QSettings.IniFormat), config)
    prefs.theme = "dark"  # from a menu: kept for this run, the file is left alone
    assert prefs.theme == "dark" and path.read_text() == broken
    (tmp_path / "latin1.toml").write_bytes(b'[kernel]\nusername = "J\xf6rg"\n')
    assert "is not UTF-8" in str(load_config(tmp_path / "latin1.toml").problems[0])


def test_edits_in_place_keep_comments_layout_and_trailing_comments():
    text = ('# mine\n[appearance]\n# the font\nfont_size = 11   # my favourite\ntheme = "light"\n\n'
            '[kernel]\n# figure_format = "svg"\n')
    new = update_text(text, "appearance", "font_size", 14.0)
    assert new == text.replace("font_size = 11   # my favourite", "font_size = 14.0  # my favourite")
    new = update_text(new, "kernel", "figure_format", "png")  # uncomments the default's line
    assert '[kernel]\nfigure_format = "png"\n' in new
    new = update_text(new, "console", "paging", "inline")  # a section the file does not have
    assert new.endswith('\n[console]\npaging = "inline"\n')
    tricky = update_text('[kernel]\nusername = "a # not a comment"\n', "kernel", "username", 'say "hi"\t#1')
    assert tricky == '[kernel]\nusername = "say \\"hi\\"\\t#1"\n'


def test_an_edit_that_would_change_anything_else_is_refused(tmp_path):
    path = tmp_path / "config.toml"
    text = 'appearance.theme = "dark"\n'  # a dotted key: adding [appearance] would clash
    path.write_text(text)
    config = load_config(path)
    assert config.get("appearance.theme") == "dark"
    with pytest.raises(ConfigWriteError):
        update_file(path, "appearance", "theme", "light")
    assert path.read_text() == text


def test_a_symlinked_config_file_is_written_through(tmp_path):
    real = tmp_path / "dotfiles" / "qtapp.toml"
    real.parent.mkdir()
    real.write_text("[appearance]\n")
    link = tmp_path / "config.toml"
    link.symlink_to(real)
    load_config(link).set("appearance.theme", "dark")
    assert link.is_symlink() and 'theme = "dark"' in real.read_text()


def test_the_command_line_wins_over_the_file_and_bad_options_are_refused(tmp_path):
    config = UserConfig()
    config.set("appearance.theme", "dark")
    config.set("appearance.font_size", 14.0)
    config.set("kernel.confirm_restart", True)
    options = build_parser().parse_args(["--theme", "light", "--no-confirm-restart", "--paging", "inline"])
    settings = EffectiveSettings(config, option_overrides(options))
    assert settings["appearance.theme"] == "light" and settings["kernel.confirm_restart"] is False
    assert settings["console.paging"] == "inline" and settings["appearance.font_size"] == 14.0
    out = _qtapp("--style", "nosuch", "--font-size", "12")
    assert out.returncode == 2 and "--style: no syntax style named 'nosuch'" in out.stderr
    out = _qtapp("--font-size", "100")
    assert out.returncode == 2 and "--font-size: 100.0 is not between 4 and 72" in out.stderr


def test_old_qsettings_preferences_move_into_the_config_file(tmp_path):
    ini = tmp_path / "old.ini"
    old = QSettings(str(ini), QSettings.IniFormat)
    for key, value in {"font/family": "Monospace", "font/size": "14", "view/theme": "dark", "view/style": "monokai",
                       "kernel/confirm_restart": "false", "view/zoom": 2.0}.items():
        old.setValue(key, value)
    old.sync()
    path = tmp_path / "config.toml"
    path.write_text('[appearance]\ntheme = "light"\n')  # the file already decides the theme
    config = load_config(path)
    settings = QSettings(str(ini), QSettings.IniFormat)
    moved = migrate_to_config(settings, config)
    assert sorted(moved) == ["appearance.font_family", "appearance.font_size", "appearance.syntax_style",
                             "kernel.confirm_restart"]
    reread = load_config(path)
    assert reread.get("appearance.theme") == "light"
    assert reread.get("appearance.font_size") == 14.0 and reread.get("appearance.syntax_style") == "monokai"
    assert reread.get("kernel.confirm_restart") is False and reread.get("appearance.font_family") == "Monospace"
    after = QSettings(str(ini), QSettings.IniFormat)
    assert sorted(after.allKeys()) == ["view/zoom"]  # only window state stays


def test_a_window_uses_every_setting_of_the_file(qtbot, tmp_path):
    (tmp_path / "config.toml").write_text("".join(
        f"[{section}]\n" + "".join(f"{n.split('.')[1]} = {toml_value(v)}\n" for n, v in NON_DEFAULTS.items()
                                   if n.startswith(section + "."))
        for section in ("appearance", "console", "kernel")))
    window, _, _ = open_window(qtbot, tmp_path)
    c = window.console
    assert c.base_font.family() == "Monospace" and c.base_font.pointSizeF() == 13.5
    assert c.theme.name == "dark" and c.syntax_style == "solarized-dark"
    assert c.transcript.scrollback_bytes == 3 * 1024 * 1024
    assert c.paging == "pager" and c.editor_command == "myedit --line {line} {filename}"
    assert c.confirm_restart is False and not window.actions["confirm_restart"].isChecked()
    assert c.client.session.username == "ada"
    # the kernel sees the username, and draws figures as PNG: watched from a second client
    other = KernelClient.from_connection_file(c.client.connection_file)
    other.start_channels()
    try:
        other.wait_for_ready(timeout=60)
        qtbot.waitUntil(lambda: c.findChild(KernelPreferences).applied == 1, timeout=TIMEOUT_MS)
        run(qtbot, c, "import matplotlib.pyplot as plt\nplt.plot([1, 3, 2])\nplt.show()")
        seen = []
        while not any(m["msg_type"] == "display_data" for m in seen):
            seen.append(other.get_iopub_msg(timeout=60))
        echo = next(m for m in seen if m["msg_type"] == "execute_input")
        assert echo["parent_header"]["username"] == "ada"
        figure = next(m for m in seen if m["msg_type"] == "display_data")
        assert "image/png" in figure["content"]["data"] and "image/svg+xml" not in figure["content"]["data"]
    finally:
        other.stop_channels()


def test_options_win_over_the_file_in_a_window(qtbot, tmp_path):
    (tmp_path / "config.toml").write_text('[appearance]\ntheme = "dark"\nfont_size = 15\n')
    window, _, _ = open_window(qtbot, tmp_path, "--theme", "light", "--font-size", "9")
    assert window.console.theme.name == "light" and window.console.base_font.pointSizeF() == 9


def test_a_bad_file_still_starts_the_console_and_says_what_is_wrong(qtbot, tmp_path):
    path = tmp_path / "config.toml"
    path.write_text('[appearance]\ntheme = "purple"\nfont_size = "big"\n')
    window, _, _ = open_window(qtbot, tmp_path)
    c = window.console
    assert c.theme.name == "light"
    text = c.plain_text()
    assert f"{path}: appearance.theme: expected one of 'light', 'dark', got a string ('purple')" in text
    assert f"{path}: appearance.font_size: expected a number" in text
    assert run(qtbot, c, "print(6 * 7)")["content"]["status"] == "ok"
    assert "42" in c.plain_text()


def test_menu_choices_are_saved_into_the_users_file_in_place(qtbot, tmp_path):
    path = tmp_path / "config.toml"
    path.write_text(default_text())
    window, _, _ = open_window(qtbot, tmp_path)
    window.actions["style_monokai"].trigger()
    window.actions["confirm_restart"].trigger()
    text = path.read_text()
    assert 'theme = "dark"' in text and 'syntax_style = "monokai"' in text and "confirm_restart = true" in text
    assert text.startswith("# qtapp configuration") and "# Font size in points" in text
    config = load_config(path)
    assert config.problems == [] and config.get("appearance.theme") == "dark"
    assert open_settings(str(tmp_path / "settings.ini")).value("view/theme") is None


def test_the_figure_format_is_set_again_after_a_restart(qtbot, tmp_path):
    (tmp_path / "config.toml").write_text('[kernel]\nfigure_format = "retina"\n')
    window, _, _ = open_window(qtbot, tmp_path)
    c = window.console
    qtbot.waitUntil(lambda: c.findChild(KernelPreferences).applied == 1, timeout=TIMEOUT_MS)
    reply = run(qtbot, c, "from kernel import plotting\nsorted(plotting.current().config.figure_formats)")
    assert reply["content"]["status"] == "ok" and "['retina']" in c.plain_text()
    c.restart_kernel(confirm=False)
    qtbot.waitUntil(lambda: c.findChild(KernelPreferences).applied == 2, timeout=TIMEOUT_MS)
    qtbot.waitUntil(lambda: c.is_ready, timeout=TIMEOUT_MS)
    run(qtbot, c, "from kernel import plotting\nprint('after restart', plotting.current().config.figure_format)")
    assert "after restart retina" in c.plain_text()


@needs_ipykernel
def test_the_figure_format_and_about_work_with_ipykernel_too(qtbot, tmp_path):
    (tmp_path / "config.toml").write_text('[kernel]\nfigure_format = "png"\n')
    window, _, _ = open_window(qtbot, tmp_path, "--kernel", "python3")
    c = window.console
    qtbot.waitUntil(lambda: c.findChild(KernelPreferences).applied == 1, timeout=TIMEOUT_MS)
    run(qtbot, c, "from matplotlib_inline.backend_inline import InlineBackend\n"
                  "print('formats', sorted(InlineBackend.instance().figure_formats))")
    assert "formats ['png']" in c.plain_text()
    window.actions["about"].trigger()
    info = c.controller.kernel_info["content"]
    assert info["implementation"] == "ipython" and info["implementation_version"] in window.about_dialog.text()
    window.about_dialog.accept()
