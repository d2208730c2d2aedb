"""IPython's syntax in the console's colours: magics, cell magics in their
own language, shell escapes and help, on top of Python; other languages'
lexers are loaded only when a cell uses them."""

from __future__ import annotations

import subprocess
import sys

import pytest
from pygments.token import Keyword, Name, Operator, Punctuation, Text

from qtapp.console.ipylexer import IPythonLexer


def tokens(code: str) -> list:
    out = list(IPythonLexer(stripnl=False, ensurenl=False).get_tokens(code))
    assert "".join(value for _, value in out) == code  # nothing lost or added
    return [(token, value) for token, value in out if value.strip()]


def test_plain_python_is_pythons_colouring():
    from pygments.lexers.python import PythonLexer

    code = "def f(x):\n    return x % 2  # remainder\n"
    python = [(t, v) for t, v in PythonLexer(stripnl=False).get_tokens(code) if v.strip()]
    assert tokens(code) == python


def test_line_magic_with_python_arguments():
    assert tokens("%time f(x)\n") == [(Operator, "%"), (Keyword, "time"), (Name, "f"), (Punctuation, "("),
                                       (Name, "x"), (Punctuation, ")")]


def test_line_magic_with_other_arguments_is_plain_text():
    assert tokens("%matplotlib inline\n") == [(Operator, "%"), (Keyword, "matplotlib"), (Text, " inline")]


def test_indented_magic_and_assignment_from_a_magic():
    assert tokens("    %who\n") == [(Operator, "%"), (Keyword, "who")]
    assert tokens("names = %who_ls\n") == [(Name, "names"), (Operator, "="), (Operator, "%"), (Keyword, "who_ls")]


def test_shell_escape_is_coloured_as_a_shell():
    toks = tokens("files = !ls $HOME\n")
    assert toks[:3] == [(Name, "files"), (Operator, "="), (Operator, "!")]
    assert (Name.Variable, "$HOME") in toks
    assert tokens("!!echo hi\n")[:2] == [(Operator, "!!"), (Name.Builtin, "echo")]


def test_help_before_and_after_a_name():
    assert tokens("os.path.join?\n") == [(Name, "os.path.join"), (Operator, "?")]
    assert tokens("??print\n") == [(Operator, "??"), (Name, "print")]
    assert tokens("np.*load*?\n") == [(Name, "np.*load*"), (Operator, "?")]


@pytest.mark.parametrize("magic, sample", [
    ("bash", (Name.Builtin, "echo")),
    ("html", (Name.Tag, "b")),
    ("javascript", (Keyword.Declaration, "var")),
])
def test_a_cell_magics_body_is_in_its_language(magic, sample):
    body = {"bash": "echo $PATH\n", "html": "<b>bold</b>\n", "javascript": "var x = 1;\n"}[magic]
    toks = tokens(f"%%{magic}\n{body}")
    assert toks[:2] == [(Operator, "%%"), (Keyword, magic)]
    assert sample in toks


def test_timeit_cell_is_python_and_writefile_follows_the_file_name():
    assert (Keyword, "for") in tokens("%%timeit -n 3\nfor i in range(3): pass\n")
    assert (Keyword.Namespace, "import") in tokens("%%writefile tool.py\nimport os\n")
    assert tokens("%%writefile notes.unknownext\nimport os\n")[-1] == (Text, "import os\n")


def test_percent_percent_later_in_a_cell_is_not_a_cell_magic():
    toks = tokens("x = 1\n%%bash\n")
    assert (Operator, "%%") in toks and (Keyword, "bash") in toks  # shown as a (misplaced) magic line
    assert (Name.Builtin, "echo") not in tokens("x = 1\n%%bash\necho\n")  # body not taken as bash


def test_the_console_loads_other_languages_only_when_a_cell_uses_them():
    script = (
        "import sys\n"
        "from qtapp.console.highlight import make_lexer\n"
        "lexer = make_lexer('ipython3')\n"
        "list(lexer.get_tokens('%time x = 1\\nprint(x)?\\n'))\n"
        "before = sorted(m for m in sys.modules if m.startswith('pygments.lexers.'))\n"
        "list(lexer.get_tokens('%%html\\n<b>x</b>\\n'))\n"
        "after = sorted(m for m in sys.modules if m.startswith('pygments.lexers.'))\n"
        "print(before); print('ipython_pygments_lexers' in sys.modules); print('pygments.lexers.html' in after)\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    before, imported_ipython_lexers, html_after = out.stdout.splitlines()
    assert before == "['pygments.lexers._mapping', 'pygments.lexers.python']"
    assert imported_ipython_lexers == "False"
    assert html_after == "True"
