"""Inline matplotlib figures from a real kernel: formats, when figures are
sent, that they are closed, and switching backends with %matplotlib."""

from __future__ import annotations

import base64
import os
import struct
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET

import pytest

from helpers import run, stdout_of, strip_ansi

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def displays(msgs: list) -> list:
    return [m["content"] for m in msgs if m["msg_type"] == "display_data"]


def result(kc, expr: str):
    """The value of ``expr`` in the kernel, via its repr."""
    import ast

    reply, msgs = run(kc, expr)
    assert reply["content"]["status"] == "ok", reply["content"]
    out = [m["content"]["data"]["text/plain"] for m in msgs if m["msg_type"] == "execute_result"]
    assert out, f"no result for {expr!r}"
    return ast.literal_eval(out[0])


def ok(kc, code: str) -> list:
    reply, msgs = run(kc, code)
    content = reply["content"]
    assert content["status"] == "ok", f"{code!r}: {content.get('ename')}: {content.get('evalue')}"
    return msgs


def png_size(data: bytes) -> tuple:
    assert data[:8] == PNG_SIGNATURE
    width, height = struct.unpack(">II", data[16:24])
    return width, height


@pytest.fixture
def pkc(skc):
    """The shared kernel with pyplot imported; inline settings restored after."""
    ok(skc, "import matplotlib.pyplot as plt")
    yield skc
    ok(skc, "%matplotlib inline")
    ok(skc, "%config InlineBackend.figure_formats = {'svg'}")
    ok(skc, "%config InlineBackend.close_figures = True")
    ok(skc, "%config InlineBackend.rc = {}")
    ok(skc, "plt.close('all')")


def test_matplotlib_is_imported_only_by_user_code(kc):
    assert result(kc, "import sys; 'matplotlib' in sys.modules") is False
    assert result(kc, "import os; os.environ['MPLBACKEND']") == "module://kernel.inline"
    assert result(kc, "import matplotlib; matplotlib.get_backend()") == "module://kernel.inline"
    assert result(kc, "matplotlib.is_interactive()") is True


def test_figure_arrives_as_svg_by_default_and_is_closed(pkc):
    msgs = ok(pkc, "plt.plot([1, 3, 2]);")
    [fig] = displays(msgs)
    assert fig["data"]["text/plain"] == "<Figure size 640x480 with 1 Axes>"
    assert set(fig["data"]) == {"text/plain", "image/svg+xml"}
    root = ET.fromstring(fig["data"]["image/svg+xml"].encode())
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert root.get("width", "").endswith("pt") and root.get("height", "").endswith("pt")
    assert result(pkc, "plt.get_fignums()") == []


def test_png_after_switching_format(pkc):
    ok(pkc, "%config InlineBackend.figure_format = 'png'")
    [fig] = displays(ok(pkc, "plt.plot([1, 3, 2]);"))
    assert set(fig["data"]) == {"text/plain", "image/png"}
    width, height = png_size(base64.b64decode(fig["data"]["image/png"]))
    # bbox_inches='tight' trims the margins of a 640x480 figure
    assert 300 < width <= 640 and 200 < height <= 480
    assert fig["metadata"] == {}


def test_retina_is_double_resolution_png_with_css_size(pkc):
    ok(pkc, "%config InlineBackend.figure_format = 'retina'")
    [fig] = displays(ok(pkc, "plt.plot([1, 3, 2]);"))
    width, height = png_size(base64.b64decode(fig["data"]["image/png"]))
    assert fig["metadata"] == {"image/png": {"width": width // 2, "height": height // 2}}
    assert width > 640  # twice the pixels of the 640x480 figure, minus trimmed margins


def test_choosing_a_format_again_after_setting_the_formats_takes_effect(pkc):
    ok(pkc, "%config InlineBackend.figure_format = 'png'")
    ok(pkc, "%config InlineBackend.figure_formats = {'svg'}")
    ok(pkc, "%config InlineBackend.figure_format = 'png'")  # the same value as before
    [fig] = displays(ok(pkc, "plt.plot([1]);"))
    assert set(fig["data"]) == {"text/plain", "image/png"}


def test_several_formats_at_once(pkc):
    ok(pkc, "%config InlineBackend.figure_formats = {'svg', 'png'}")
    [fig] = displays(ok(pkc, "plt.plot([1]);"))
    assert set(fig["data"]) == {"text/plain", "image/svg+xml", "image/png"}


@pytest.mark.parametrize("fmt,mime,magic", [
    ("jpeg", "image/jpeg", b"\xff\xd8\xff"),
    ("jpg", "image/jpeg", b"\xff\xd8\xff"),
    ("pdf", "application/pdf", b"%PDF"),
])
def test_other_formats(pkc, fmt, mime, magic):
    ok(pkc, f"%config InlineBackend.figure_format = {fmt!r}")
    [fig] = displays(ok(pkc, "plt.plot([1]);"))
    assert set(fig["data"]) == {"text/plain", mime}
    assert base64.b64decode(fig["data"][mime]).startswith(magic)


def test_unknown_format_is_refused_clearly_and_nothing_changes(pkc):
    reply, msgs = run(pkc, "%config InlineBackend.figure_format = 'gif'")
    assert reply["content"]["status"] == "error"
    assert "unknown figure format 'gif'" in reply["content"]["evalue"]
    assert "svg" in reply["content"]["evalue"]  # the choices are listed
    assert result(pkc, "%config InlineBackend.figure_formats") == {"svg"}
    [fig] = displays(ok(pkc, "plt.plot([1]);"))
    assert "image/svg+xml" in fig["data"]


def test_explicit_display_is_not_sent_twice(pkc):
    msgs = ok(pkc, "fig, ax = plt.subplots(); ax.plot([1, 2]); display(fig)")
    assert len(displays(msgs)) == 1
    msgs = ok(pkc, "fig = plt.figure(); plt.plot([3]); fig")
    results = [m["content"] for m in msgs if m["msg_type"] == "execute_result"]
    assert displays(msgs) == [] and "image/svg+xml" in results[0]["data"]


def test_figure_changed_after_display_is_sent_again(pkc):
    msgs = ok(pkc, "fig, ax = plt.subplots(); ax.plot([1, 2]); display(fig); ax.set_title('later')")
    assert len(displays(msgs)) == 2
    first, second = (d["data"]["image/svg+xml"] for d in displays(msgs))
    # matplotlib writes each text as a comment next to its glyph outlines
    assert "<!-- later -->" not in first and "<!-- later -->" in second


def test_closed_figure_is_not_sent(pkc):
    msgs = ok(pkc, "f = plt.figure(); plt.plot([1]); plt.close(f)")
    assert displays(msgs) == []


def test_show_sends_at_once_and_not_again(pkc):
    msgs = ok(pkc, "plt.plot([1]); plt.show(); print('after show')")
    kinds = [m["msg_type"] for m in msgs if m["msg_type"] in ("display_data", "stream")]
    assert kinds == ["display_data", "stream"]
    msgs = ok(pkc, "fig = plt.figure(); plt.plot([2]); fig.show(); print('after fig.show')")
    kinds = [m["msg_type"] for m in msgs if m["msg_type"] in ("display_data", "stream")]
    assert kinds == ["display_data", "stream"]


def test_figures_are_sent_in_creation_order(pkc):
    code = ("for size in (2, 3, 4):\n"
            "    plt.figure(figsize=(size, size)); plt.plot([size])\n"
            "plt.figure(2);\n")  # making figure 2 current must not reorder
    sizes = [d["data"]["text/plain"] for d in displays(ok(pkc, code))]
    assert sizes == [f"<Figure size {n}00x{n}00 with 1 Axes>" for n in (2, 3, 4)]


def test_ioff_figures_wait_for_show(pkc):
    msgs = ok(pkc, "with plt.ioff():\n    quiet = plt.figure(); plt.plot([1])\n")
    assert displays(msgs) == []
    msgs = ok(pkc, "with plt.ioff():\n    quiet = plt.figure(); plt.plot([1])\n    plt.show()\n")
    assert len(displays(msgs)) == 1
    assert result(pkc, "plt.isinteractive()") is True


def test_ioff_before_the_first_plot_is_respected(kc):
    msgs = ok(kc, "import matplotlib.pyplot as plt\nwith plt.ioff():\n    fig = plt.figure(); plt.plot([1])\n")
    assert displays(msgs) == []
    assert result(kc, "plt.isinteractive()") is True
    assert len(displays(ok(kc, "plt.plot([2]);"))) == 1


def test_kept_figures_are_sent_again_only_when_changed(pkc):
    ok(pkc, "%config InlineBackend.close_figures = False")
    assert len(displays(ok(pkc, "fig, ax = plt.subplots(); ax.plot([1, 2]);"))) == 1
    assert result(pkc, "len(plt.get_fignums())") == 1
    assert displays(ok(pkc, "x = 1")) == []
    assert displays(ok(pkc, "fig.savefig('/dev/null', format='png')")) == []
    [changed] = displays(ok(pkc, "ax.set_title('changed');"))
    assert "<!-- changed -->" in changed["data"]["image/svg+xml"]
    assert result(pkc, "len(plt.get_fignums())") == 1


def test_rendering_error_is_reported_and_figure_still_closed(pkc):
    reply, msgs = run(pkc, "plt.plot([1]); plt.title(r'$\\frac{$');")
    errors = [m["content"] for m in msgs if m["msg_type"] == "error"]
    assert errors and "frac" in strip_ansi("\n".join(errors[0]["traceback"]))
    [fig] = displays(msgs)
    assert set(fig["data"]) == {"text/plain"}  # the image failed, the figure is still named
    assert result(pkc, "plt.get_fignums()") == []


def test_run_script_shows_each_figure_once(pkc, tmp_path):
    script = tmp_path / "plots.py"
    script.write_text("import matplotlib.pyplot as plt\nplt.plot([1])\nplt.figure()\nplt.plot([2])\n"
                      "plt.show()\nprint('done')\n")
    msgs = ok(pkc, f"%run {script}")
    assert len(displays(msgs)) == 2 and stdout_of(msgs) == "done\n"


def test_rc_overrides_apply_while_inline_is_active(pkc):
    ok(pkc, "%config InlineBackend.rc = {'figure.figsize': (3, 2)}")
    [fig] = displays(ok(pkc, "plt.plot([1]);"))
    assert fig["data"]["text/plain"] == "<Figure size 300x200 with 1 Axes>"
    ok(pkc, "%matplotlib agg")
    assert result(pkc, "tuple(plt.rcParams['figure.figsize'])") == (6.4, 4.8)
    ok(pkc, "%matplotlib inline")
    assert result(pkc, "tuple(plt.rcParams['figure.figsize'])") == (3.0, 2.0)


def test_switching_to_agg_and_back_to_inline(pkc):
    ok(pkc, "%matplotlib agg")
    assert result(pkc, "plt.get_backend()") == "agg"
    assert displays(ok(pkc, "plt.figure(); plt.plot([1]);")) == []
    ok(pkc, "plt.close('all')")
    msgs = ok(pkc, "%matplotlib inline")
    assert stdout_of(msgs) == ""
    assert result(pkc, "plt.get_backend()") == "module://kernel.inline"
    assert result(pkc, "import sys; 'matplotlib_inline' in sys.modules") is False
    assert len(displays(ok(pkc, "plt.plot([1]);"))) == 1


def test_switching_back_with_pyplot_itself(pkc):
    ok(pkc, "%matplotlib agg")
    ok(pkc, "plt.switch_backend('module://kernel.inline')")
    assert len(displays(ok(pkc, "plt.plot([1]);"))) == 1


def test_matplotlib_without_a_name_keeps_inline(pkc):
    msgs = ok(pkc, "%matplotlib")
    assert stdout_of(msgs) == "Using matplotlib backend: module://kernel.inline\n"
    assert len(displays(ok(pkc, "plt.plot([1]);"))) == 1


def test_gui_backend_the_kernel_cannot_run_changes_nothing(pkc):
    # No event loop for macOS's toolkit exists on this platform.
    reply, msgs = run(pkc, "%matplotlib osx")
    assert reply["content"]["status"] == "error" and reply["content"]["ename"] == "UsageError"
    assert "osx" in reply["content"]["evalue"]
    assert result(pkc, "plt.get_backend()") == "module://kernel.inline"
    assert len(displays(ok(pkc, "plt.plot([1]);"))) == 1


def test_unknown_backend_name_is_a_usage_error(pkc):
    reply, _ = run(pkc, "%matplotlib no_such_backend")
    assert reply["content"]["ename"] == "UsageError"
    assert "no_such_backend" in reply["content"]["evalue"] and "--list" in reply["content"]["evalue"]


def test_user_mplbackend_is_kept_until_inline_is_asked_for():
    from kernel.manager import KernelManager

    km = KernelManager(env={"MPLBACKEND": "agg"})
    km.start()
    kc = km.client()
    kc.start_channels()
    try:
        kc.wait_for_ready(timeout=60)
        assert result(kc, "import os; os.environ['MPLBACKEND']") == "agg"
        assert displays(ok(kc, "import matplotlib.pyplot as plt; plt.plot([1]);")) == []
        ok(kc, "plt.close('all')")
        ok(kc, "%matplotlib inline")
        assert len(displays(ok(kc, "plt.plot([1]);"))) == 1
    finally:
        kc.stop_channels()
        km.shutdown(now=True)


def test_two_hundred_figures_are_sent_closed_and_freed(km, kc):
    cell = textwrap.dedent("""\
        import gc, weakref
        plt.rcParams['figure.max_open_warning'] = 0
        refs = []
        for i in range(200):
            fig = plt.figure(figsize=(1.5, 1)); plt.plot([0, i]); plt.axis('off')
            refs.append(weakref.ref(fig))
        del fig
        """)
    ok(kc, "import matplotlib.pyplot as plt")

    def rss_kib() -> int:
        with open(f"/proc/{km.process.pid}/status") as f:
            return next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))

    def draw_200() -> None:
        assert len(displays(ok(kc, cell))) == 200
        assert result(kc, "plt.get_fignums()") == []
        assert result(kc, "gc.collect(); sum(r() is not None for r in refs)") == 0

    draw_200()
    draw_200()  # the allocator has now grown to what 200 open figures need
    baseline = rss_kib()
    draw_200()
    grown = rss_kib() - baseline
    # 200 more figures kept alive cost about 55 MiB here; freed ones cost nothing
    assert grown < 24 * 1024, f"kernel memory grew by {grown} KiB drawing 200 more figures"


def test_backend_outside_the_kernel_saves_and_warns_on_show(tmp_path):
    script = tmp_path / "outside.py"
    script.write_text(textwrap.dedent(f"""\
        import warnings
        import matplotlib.pyplot as plt
        plt.plot([1, 2])
        plt.savefig({str(tmp_path / 'out.png')!r})
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            plt.show()
        print(plt.get_backend(), [str(w.message) for w in caught])
        """))
    env = dict(os.environ, MPLBACKEND="module://kernel.inline")
    out = subprocess.run([sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("module://kernel.inline")
    assert "cannot be shown" in out.stdout
    assert (tmp_path / "out.png").read_bytes()[:8] == PNG_SIGNATURE


def test_the_kernel_sends_what_lies_past_the_edge(pkc):
    """Declined by the one-draw path, the kernel's figure still includes the
    text outside the figure, as savefig's tight box does."""
    ok(pkc, "%config InlineBackend.figure_format = 'png'")
    [plain] = displays(ok(pkc, "plt.figure(figsize=(4, 3)); plt.plot([1, 3, 2]);"))
    [wide] = displays(ok(pkc, "f = plt.figure(figsize=(4, 3)); plt.plot([1, 3, 2]); "
                              "f.text(0.9, 0.5, 'a note that runs well past the right edge');"))
    plain_w, _ = png_size(base64.b64decode(plain["data"]["image/png"]))
    wide_w, _ = png_size(base64.b64decode(wide["data"]["image/png"]))
    assert plain_w < 400 < wide_w


def test_the_kernel_sends_the_one_draw_svg(pkc):
    [fig] = displays(ok(pkc, "plt.plot([1, 3, 2]);"))
    root = ET.fromstring(fig["data"]["image/svg+xml"].encode())
    x, y, _, _ = map(float, root.get("viewBox").split())
    assert x > 0 and y > 0  # cropped inside the figure, not re-laid out at the origin
