"""The kernel skips IPython's input transformations for cells they leave
unchanged; these tests hold it to IPython's own result, cell by cell."""

from __future__ import annotations

import random

import pytest
from IPython.core.inputtransformer2 import TransformerManager

from helpers import run
from kernel.shell import PlainCellTransformer

# IPython's tokenizer step warns about cells split on line breaks other than \n.
pytestmark = pytest.mark.filterwarnings("ignore:`make_tokens_by_line` received:UserWarning")

CELLS = [
    # plain Python: the fast path
    "pass", "x = 1", "x = 1\ny = 2\n", "def f(a, b=2):\n    return a / b\n",
    "for i in range(3):\n    print(i, end=',')\n", "s = 'a,b;c/d'\n", "x = [1,\n     2]\n",
    "class A:\n    '''doc'''\n\n    def m(self):\n        return 1\n", "# a comment\nx = 1",
    "import os\nos.path.join('a', 'b')", "x = 'ünïcödé ✓'\n", "x = 1\n\n\ny = 2", "\ttab = 1",
    "async def f():\n    await g()\n", "x = f'{1 + 1}'", "a = b // c", "x = 1 # % ! ?", "lambda: 0",
    # IPython syntax: must be transformed exactly as IPython does
    "%time x = 1", "%%timeit\nx = 1\n", "x = %pwd", "files = !ls", "!echo hi", "!!echo hi",
    "len?", "len??", "?len", "x.y?", "def f():\n    %time 1\n", ",f a b", ";f a b", "/f a b",
    "x = (1,\n, 2)", "x = 1 \\\n/ 2", "print('%d' % 3)", "a != b", "x = '?'",
    # pasted prompts
    ">>> x = 1\n>>> x\n", ">>> def f():\n...     return 1\n", "In [1]: x = 1\n", "In [2]: def f():\n   ...:     pass\n",
    "def f():\n    ...\n", "x[..., 0]",
    # indentation and blank lines
    "  x = 1\n  y = 2\n", "\n\nx = 1", "   ", "", "\n", "x = 1\n    \ny = 2", "x = '''\n   \n'''",
    "x = 1\n\t\n", "if x:\n\n    pass\n",
    # other line breaks
    "x = 1\r\ny = 2\r\n", "x = 1\ry = 2", "x = 1\x0cy = 2", "x = '\u2028'", "x = 1\x85",
    "x = 1\r/f a", "x = (1\r, 2)", "x = 1\r    \ry", "x=1\u2028/f a", "x = 1\r\n    \r\ny",
]

PIECES = ["x", " = ", "1", "\n", "    ", "\t", "%", "!", "?", ",", ";", "/", "(", ")", "'", '"""', "#",
          ">>> ", "... ", "In [3]: ", "pass", "def f():", "\r\n", " ", "é", "[", "]", ":", "..."]


def reference(cell: str) -> str:
    return TransformerManager().transform_cell(cell)


@pytest.mark.parametrize("cell", CELLS)
def test_same_result_as_ipython(cell):
    assert PlainCellTransformer().transform_cell(cell) == reference(cell)


def test_random_cells_give_ipythons_result_and_plain_ones_skip_the_tokenizer():
    rng = random.Random(20261121)
    fast = PlainCellTransformer()
    skipped = 0
    for _ in range(3000):
        cell = "".join(rng.choice(PIECES) for _ in range(rng.randint(0, 12)))
        try:
            expected = reference(cell)
        except Exception as exc:  # IPython fails on some garbage: so must we
            with pytest.raises(type(exc)):
                fast.transform_cell(cell)
            continue
        assert fast.transform_cell(cell) == expected, repr(cell)
        if cell and not cell[0].isspace() and not fast.NEEDS_TRANSFORMS.search(cell):
            skipped += 1
    assert skipped > 100  # the fast path itself was exercised, not only the fallback


def test_ipythons_default_transformations_are_the_vetted_ones():
    """The fast path holds for these transformations only: an IPython that
    ships other defaults must be looked at again (until then, every cell
    simply takes the full path)."""
    manager = TransformerManager()
    cleanup, line, token = PlainCellTransformer.VETTED
    assert tuple(manager.cleanup_transforms) == cleanup
    assert tuple(manager.line_transforms) == line
    assert tuple(manager.token_transformers) == token


def test_an_added_transformation_sees_every_cell():
    manager = PlainCellTransformer()
    manager.cleanup_transforms.append(lambda lines: [line.replace("1", "2") for line in lines])
    assert manager.transform_cell("x = 1") == "x = 2\n"


def test_kernel_runs_plain_cells_magics_and_user_transformers(skc):
    reply, _ = run(skc, "plain = 6 * 7")
    assert reply["content"]["status"] == "ok"
    reply, _ = run(skc, "t = %time 6 * 7")
    assert reply["content"]["status"] == "ok", reply["content"]
    code = ("def _shout(lines):\n"
            "    return [l.replace('quiet', 'LOUD') for l in lines]\n"
            "get_ipython().input_transformers_cleanup.append(_shout)")
    reply, _ = run(skc, code)
    assert reply["content"]["status"] == "ok", reply["content"]
    try:
        reply, _ = run(skc, "said = 'quiet'", user_expressions={"r": "(plain, t, said)"})
        assert reply["content"]["user_expressions"]["r"]["data"]["text/plain"] == "(42, 42, 'LOUD')"
    finally:
        run(skc, "get_ipython().input_transformers_cleanup.remove(_shout)")
