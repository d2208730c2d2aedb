"""Python with IPython's syntax on top, for the input editor and echoed cells.

Python's own rules, plus what IPython adds at the start of a line:
``%magic args``, ``%%cell_magic`` (first line of a cell), ``!shell``,
``name = %magic`` / ``name = !shell``, and ``name?`` / ``?name`` help.
A cell magic's body is coloured as its language (``%%bash``, ``%%html``,
``%%javascript``, ``%%latex``, ``%%writefile name.ext``...), and so is the
rest of a ``!`` line; a magic that takes Python (``%time``, ``%%timeit``...)
gets Python.

The lexer for another language is created the first time such a line is
typed. That is the point of this module: a lexer that imported every
embedded language up front (HTML, JavaScript, TeX, Ruby, Perl, shells)
would cost each console a few megabytes and tens of milliseconds before the
first cell is even typed.
"""

from __future__ import annotations

from typing import Dict, Iterator, Optional, Tuple

from pygments.lexer import Lexer, bygroups, inherit
from pygments.lexers import get_lexer_by_name, get_lexer_for_filename
from pygments.lexers.python import PythonLexer
from pygments.token import Keyword, Name, Operator, Text
from pygments.util import ClassNotFound

#: Magics whose arguments or body are Python code.
PYTHON_MAGICS = frozenset({
    "time", "timeit", "prun", "debug", "capture", "python", "python3", "pypy", "run",
})
#: Magic name -> pygments alias of the language of its body.
LANGUAGE_MAGICS = {
    "bash": "bash", "sh": "bash", "script": "bash", "system": "bash", "sx": "bash",
    "html": "html", "svg": "xml", "javascript": "javascript", "js": "javascript",
    "latex": "latex", "markdown": "markdown", "perl": "perl", "ruby": "ruby",
}

Token = Tuple[int, object, str]


class IPythonLexer(PythonLexer):
    """Python 3 with IPython's magics, shell escapes and help syntax."""

    name = "IPython3"
    aliases = ["ipython3", "ipython"]
    filenames: list = []
    mimetypes = ["text/x-ipython"]

    tokens = {
        "root": [
            # ``\A``: a cell magic is only a cell magic on a cell's first line
            (r"\A(%%)(\w+)([^\n]*)(\n?)([\s\S]*)", lambda lexer, m: lexer._cell_magic(m)),
            (r"^([ \t]*)(%%?)(\w+)([^\n]*)$", lambda lexer, m: lexer._line_magic(m)),
            (r"^([ \t]*)(!!?)([^\n]*)$", lambda lexer, m: lexer._shell(m, 1, 2, 3)),
            (r"^([ \t]*)([\w.]+)([ \t]*)(=)([ \t]*)(%)(\w+)([^\n]*)$",
             lambda lexer, m: lexer._assigned_magic(m)),
            (r"^([ \t]*)([\w.]+)([ \t]*)(=)([ \t]*)(!)([^\n]*)$",
             lambda lexer, m: lexer._assigned_shell(m)),
            (r"^([ \t]*)(\?\??)([\w.*]*)([ \t]*)$", bygroups(Text, Operator, Name, Text)),
            (r"^([ \t]*)([\w.*]+)(\?\??)([ \t]*)$", bygroups(Text, Name, Operator, Text)),
            inherit,
        ],
    }

    def __init__(self, **options):
        super().__init__(**options)
        self._others: Dict[str, Optional[Lexer]] = {}

    # -- the parts ------------------------------------------------------------------------
    def _cell_magic(self, m) -> Iterator[Token]:
        yield m.start(1), Operator, m.group(1)
        yield m.start(2), Keyword, m.group(2)
        name, args = m.group(2), m.group(3)
        if name in PYTHON_MAGICS:
            yield from self._python(m.start(3), args)
        else:
            yield m.start(3), Text, args
        yield m.start(4), Text, m.group(4)
        body = self._body_lexer(name, args)
        yield from self._sub(body, m.start(5), m.group(5))

    def _line_magic(self, m) -> Iterator[Token]:
        yield m.start(1), Text, m.group(1)
        yield m.start(2), Operator, m.group(2)
        yield m.start(3), Keyword, m.group(3)
        yield from self._magic_args(m.group(3), m.start(4), m.group(4))

    def _assigned_magic(self, m) -> Iterator[Token]:
        yield from self._assignment(m)
        yield m.start(6), Operator, m.group(6)
        yield m.start(7), Keyword, m.group(7)
        yield from self._magic_args(m.group(7), m.start(8), m.group(8))

    def _assigned_shell(self, m) -> Iterator[Token]:
        yield from self._assignment(m)
        yield from self._shell(m, None, 6, 7)

    def _assignment(self, m) -> Iterator[Token]:
        yield m.start(1), Text, m.group(1)
        yield m.start(2), Name, m.group(2)
        yield m.start(3), Text, m.group(3)
        yield m.start(4), Operator, m.group(4)
        yield m.start(5), Text, m.group(5)

    def _shell(self, m, indent: Optional[int], bang: int, command: int) -> Iterator[Token]:
        if indent is not None:
            yield m.start(indent), Text, m.group(indent)
        yield m.start(bang), Operator, m.group(bang)
        yield from self._sub(self._other("bash"), m.start(command), m.group(command))

    def _magic_args(self, name: str, start: int, args: str) -> Iterator[Token]:
        if name in PYTHON_MAGICS:
            yield from self._python(start, args)
        elif LANGUAGE_MAGICS.get(name) == "bash":  # %sx, %system: a command line
            yield from self._sub(self._other("bash"), start, args)
        else:
            yield start, Text, args

    # -- other lexers ---------------------------------------------------------------------
    def _python(self, start: int, code: str) -> Iterator[Token]:
        yield from self._sub(self, start, code)

    def _body_lexer(self, name: str, args: str) -> Optional[Lexer]:
        if name in PYTHON_MAGICS:
            return self
        if name == "writefile":  # the file's own language, from its name
            filename = args.split()[-1] if args.split() else ""
            return self._other("file:" + filename) if filename else None
        alias = LANGUAGE_MAGICS.get(name)
        return self._other(alias) if alias else self

    def _other(self, key: str) -> Optional[Lexer]:
        """The lexer for a pygments alias (or ``file:NAME``), made once."""
        if key not in self._others:
            options = dict(self.options)
            try:
                if key.startswith("file:"):
                    self._others[key] = get_lexer_for_filename(key[5:], **options)
                else:
                    self._others[key] = get_lexer_by_name(key, **options)
            except ClassNotFound:
                self._others[key] = None
        return self._others[key]

    @staticmethod
    def _sub(lexer: Optional[Lexer], start: int, code: str) -> Iterator[Token]:
        if not code:
            return
        if lexer is None:
            yield start, Text, code
            return
        for index, token, value in lexer.get_tokens_unprocessed(code):
            yield start + index, token, value

