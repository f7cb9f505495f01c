"""The one strict, line-numbered reader of deb822 text: Packages, Sources, Release, .dsc, DEBIAN/control
and apt's `*.sources` files.

Format: Debian Policy §5.1 ("Syntax of control files") and deb822(5). A file is a sequence of stanzas
(paragraphs) separated by blank lines (empty or whitespace only). A stanza is a sequence of fields
`Name: value`; a line starting with a space or tab continues the previous field's value. Field names
are case-insensitive (§5.1): `Stanza` keeps them as written, in file order, and a lookup with any case
finds them. A field name is non-empty, has no whitespace and must not appear twice in a stanza (as
written: while reading; in two cases: on the first lookup by another case, which folds them). Lines
starting with `#` are comments where the format allows them (`comments=True`: apt's `.sources` files,
debian/control; apt's own TagFile also skips them in Packages, and so does the compact index, so the
repository indexes are read with comments allowed too); elsewhere (Release) such a line is an error.

A value is the text after the colon plus its continuation lines, joined by "\\n" with their indentation
kept (as apt and dpkg hand it out), leading and trailing whitespace removed (§5.1: not significant).
`value_lines` unfolds a multi-line value (indentation removed, a lone "." standing for an empty line).

Every malformed line is one `ParseError` (an `InputError`) naming the file and line: `where:LINE`.

Hand-written fast paths that remain, and why:
- `repos/deb/cache.py` `build_compact`, with its compiled twin `repos/deb/_scan.c`: the cold load of a
  63,000-stanza Packages file indexes it by package name without splitting every field — whole-file
  C-level splits and searches (0.3 s for bookworm main, README "Performance"), where any per-line
  reader in Python takes ~1.5 s. It checks the shape of every line (a field has a colon; else a
  continuation, comment or blank) and names a bad one by its line (tests/test_deb_repos_parsing.py);
  the finer rules (a name without spaces, not starting with "-", not twice) are applied when it hands
  a stanza a solve needs to `read_stanza` here, and then name the index and the package.
- `repos/deb/srcindex.py` `_wanted_stanzas`: a byte search that cuts the few hundred stanzas a solve
  needs out of a 40 MB Sources file before they are read here.
apt's own TagFile (python-apt) is no longer a second reader: it is the oracle our tests compare with.
Measured on a generated 63,000-stanza, 19-field, 39 MB Packages file on the shared 2-core project
machine (best of 5, interleaved): this reader 1.21 s; the pure reader it replaces 0.97 s (it checked
no duplicates nor leading "-"), apt_pkg.TagFile 1.01 s. Building DebCandidates from all of it
(`parse_packages`, used for small indexes and tests only) 1.97 s, was 1.53 s through apt_pkg: the
case-insensitive `get` is Python code. Folding the names is lazy for that reason: eagerly it cost
a third more.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TypeVar, overload

from repos.errors import ParseError

T = TypeVar("T")

__all__ = ["Stanza", "decode", "read_stanza", "read_stanzas", "value_lines"]


class Stanza(dict[str, str]):
    """One stanza's fields, {name as written: value} in file order; `line` is its first line (0 when
    unknown). `get`, `[]` and `in` ignore the case of the name (Policy §5.1)."""

    __slots__ = ("_folded", "_where", "line")
    line: int
    _where: str | None  # the stanza's place for the error of a name twice in two cases; None: no check
    _folded: dict[str, str] | None

    def _name(self, key: object) -> str | None:
        # Names are nearly always asked for as written; only a miss folds the case (built once, not
        # while reading: a dict per stanza more costs a third more time on a big index).
        if not isinstance(key, str):
            return None
        folded = getattr(self, "_folded", None)
        if folded is None or len(folded) != len(self):
            folded = dict(zip(map(str.lower, self), self, strict=True))
            where = getattr(self, "_where", None)
            if len(folded) != len(self) and where is not None:
                twice = next(k for k in self if folded[k.lower()] != k)
                raise ParseError(
                    f"field {twice} appears twice in a stanza (as {folded[twice.lower()]})", where=where
                )
            self._folded = folded
        return folded.get(key.lower())

    def check_names(self) -> None:
        """ParseError if a field name appears twice in two cases (what the first case-folding look-up
        would find), for readers that take the fields by iterating instead of looking them up."""
        self._name("")

    def __missing__(self, key: str) -> str:
        name = self._name(key)
        if name is None:
            raise KeyError(key)
        return dict.__getitem__(self, name)

    @overload  # type: ignore[override]
    def get(self, key: str, /) -> str | None: ...
    @overload
    def get(self, key: str, default: str, /) -> str: ...
    @overload
    def get(self, key: str, default: T, /) -> str | T: ...
    def get(self, key: str, default: object = None, /) -> object:
        value = dict.get(self, key)
        if value is not None:
            return value
        name = self._name(key)
        return default if name is None else dict.__getitem__(self, name)

    def __contains__(self, key: object) -> bool:
        return dict.__contains__(self, key) or self._name(key) is not None


def decode(data: bytes, where: str) -> str:
    """`data` as UTF-8 text (Policy §5.1), else a ParseError naming the first bad line."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        bad = data.count(b"\n", 0, e.start) + 1
        raise ParseError("not UTF-8 text", where=f"{where}:{bad}") from None


def read_stanzas(
    text: str | bytes,
    where: str,
    *,
    comments: bool = True,
    first_line: int | None = 1,
    shape_only: bool = False,
) -> Iterator[Stanza]:
    """Every stanza of deb822 `text` (bytes are decoded as strict UTF-8), in file order.

    `where` names the file in errors, as `where:LINE` with lines counted from `first_line`; with
    `first_line=None` (a piece cut out of a file) errors name `where` alone. `shape_only`: judge only
    each line's shape, as the compact index's scanner does (a field line is anything with a colon not
    starting with a space or tab; a name may repeat, the last value winning): for its look-ups of
    names, the stanzas themselves are read strictly when a solve needs them."""
    if isinstance(text, bytes):
        text = decode(text, where)
    if "\r" in text:
        text = text.replace("\r\n", "\n")
    fields: Stanza | None = None
    count = 0  # field lines of the stanza: more than its names means one came twice
    last = ""
    base = (first_line or 1) - 1

    def fault(message: str, lineno: int) -> ParseError:
        return ParseError(message, where=where if first_line is None else f"{where}:{base + lineno}")

    for lineno, line in enumerate(text.split("\n"), 1):
        if not line or line.isspace():
            if fields is not None:
                yield _finish(fields)
                fields = None
            continue
        first = line[0]
        if first == " " or first == "\t":
            if fields is None:
                raise fault("continuation line outside a field", lineno)
            fields[last] += "\n" + line
            continue
        if first == "#" and comments:
            continue
        key, sep, value = line.partition(":")
        if not sep or (not shape_only and (not key or first in "#-" or " " in key or "\t" in key)):
            raise fault(f"malformed line {line.strip()[:60]!r} (expected 'Field: value')", lineno)
        if fields is None:
            # Built in place, one dict per stanza: each container more makes the collector run more.
            fields = Stanza()
            fields.line = base + lineno
            fields._where = (
                None if shape_only else where if first_line is None else f"{where}:{base + lineno}"
            )
            count = 0
        fields[key] = value
        last = key
        count += 1
        if count != len(fields) and not shape_only:
            raise fault(f"field {key} appears twice in a stanza", lineno)
    if fields is not None:
        yield _finish(fields)


def _finish(fields: Stanza) -> Stanza:
    for k, v in fields.items():  # values only change: iterating stays valid
        fields[k] = v.strip()
    return fields


def read_stanza(
    text: str | bytes,
    where: str,
    *,
    comments: bool = True,
    first_line: int | None = 1,
    shape_only: bool = False,
) -> Stanza:
    """The one stanza of `text` (an empty Stanza for blank text); a second stanza is a ParseError."""
    found = read_stanzas(text, where, comments=comments, first_line=first_line, shape_only=shape_only)
    stanza = next(found, None)
    if stanza is None:
        stanza = Stanza()
        stanza.line, stanza._where = 0, where
        return stanza
    extra = next(found, None)
    if extra is not None:
        raise ParseError(
            "more than one stanza", where=where if first_line is None else f"{where}:{extra.line}"
        )
    return stanza


def value_lines(value: str) -> list[str]:
    """The lines of a multi-line value without their indentation; a line "." stands for an empty one
    (Policy §5.6.13, also used by apt for inline keys in `.sources` files)."""
    out = []
    for line in value.split("\n"):
        line = line.strip()
        out.append("" if line == "." else line)
    return out
