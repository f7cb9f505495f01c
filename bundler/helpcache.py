"""`bundler --help` and `bundler COMMAND --help` from the text they printed last time (issue 11).

Rendering a help page loads typer, click and rich and builds the click commands: about 0.1 s on top of
the interpreter's start-up, for a text that only changes when bundler, those libraries or the terminal
change. The first run renders as usual and keeps what it wrote under `<cache>/help/`; later runs with
the same key print it without importing any of them. The key holds everything the text depends on:

- the arguments, bundler's version and the size and mtime of every module of the `bundler` package
  (the commands' options and help live there), Python's version;
- the size and mtime of typer's, click's and rich's `__init__.py`, found without importing them
  (an upgrade rewrites them);
- what rich and click read of the terminal and the environment: whether stdin, stdout and stderr are
  terminals, the terminal's size as rich asks for it, stdout's encoding, and the variables that change
  rich's width, colour or terminal detection (`_TERMINAL_VARIABLES`).

A key that cannot be worked out (no `bundler` directory, say) means no cache: the help is rendered.
Writes are atomic (a temporary name, then a rename) and failures to read or write the cache are
ignored; at most `_KEEP` pages are kept. tests/test_helpcache.py checks that a cached page is the
rendered page, byte for byte, and that each part of the key invalidates it.
"""

from __future__ import annotations

import hashlib
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

# The environment rich (console.py) and typer read to decide width, colour and terminal handling.
_TERMINAL_VARIABLES = (
    "COLUMNS", "LINES", "JUPYTER_COLUMNS", "JUPYTER_LINES", "TERM", "COLORTERM", "NO_COLOR", "FORCE_COLOR",
    "TTY_COMPATIBLE", "TTY_INTERACTIVE", "DATABRICKS_RUNTIME_VERSION", "PYTHONIOENCODING",
)  # fmt: skip
_LIBRARIES = ("typer", "click", "rich")
_KEEP = 64  # pages kept (one per command, terminal width and environment met)
FORMAT = "bundler-help-1"


def is_help_request(args: list[str]) -> bool:
    """`bundler --help` or `bundler NAME --help`, where NAME is not an option."""
    return args == ["--help"] or (len(args) == 2 and args[1] == "--help" and not args[0].startswith("-"))


def _package() -> Path:
    """The `bundler` package's directory, whose modules define every command and its help."""
    return Path(__file__).resolve().parent


def _directory() -> Path:
    from bundler.cachedir import default_cache_dir

    return default_cache_dir() / "help"


def key(args: list[str]) -> str | None:
    """The cache key of the help page `args` ask for; None when it cannot be worked out."""
    from bundler import __version__

    h = hashlib.sha256()
    parts: list[Any] = [FORMAT, __version__, sys.version, args]
    try:
        from bundler.keptfiles import source_files

        parts += [(rel, st.st_size, st.st_mtime_ns) for rel, _, st in source_files(str(_package()), (".py",))]
        from importlib.util import find_spec

        for library in _LIBRARIES:
            spec = find_spec(library)
            if spec is None or spec.origin is None:
                return None
            st = os.stat(spec.origin)
            parts.append((library, spec.origin, st.st_size, st.st_mtime_ns))
    except (OSError, ImportError, ValueError):
        return None
    parts.append([(name, os.environ.get(name)) for name in _TERMINAL_VARIABLES])
    ttys: list[bool | None] = []
    for fd in (0, 1, 2):
        try:
            ttys.append(os.isatty(fd))
        except OSError:
            ttys.append(None)
    size = None
    for fd in (0, 1, 2):  # rich's Console.size asks stdin, stdout, stderr in this order
        try:
            size = tuple(os.get_terminal_size(fd))
            break
        except (AttributeError, ValueError, OSError):
            continue
    parts += [ttys, size, getattr(sys.stdout, "encoding", None)]
    h.update(repr(parts).encode("utf-8", "backslashreplace"))
    return h.hexdigest()[:40]


def cached(page_key: str) -> str | None:
    """The page kept under `page_key`, or None."""
    from bundler.keptfiles import read

    return read(_directory(), f"{page_key}.txt")


class _Tee:
    """sys.stdout, also keeping the text written through it. A page written any other way (through
    the binary `buffer` under it, as click does with a stream whose encoding it distrusts) is not kept:
    `complete` turns false."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream
        self.written: list[str] = []
        self.complete = True

    def write(self, text: str) -> int:
        if not isinstance(text, str):  # click probes with b"": the text stream raises TypeError, as here
            return int(self._stream.write(text))
        self.written.append(text)
        return int(self._stream.write(text))

    def __getattr__(self, name: str) -> Any:
        if name == "buffer":
            self.complete = False
        return getattr(self._stream, name)


@contextmanager
def recording(page_key: str) -> Iterator[list[int]]:
    """Keep what the help page writes to stdout; the caller puts the exit code in the yielded list,
    and a page that ended with 0 is stored."""
    tee = _Tee(sys.stdout)
    sys.stdout = tee  # type: ignore[assignment]
    outcome: list[int] = []
    try:
        yield outcome
    finally:
        sys.stdout = tee._stream
    if outcome == [0] and tee.written and tee.complete:
        _store(page_key, "".join(tee.written))


def _store(page_key: str, text: str) -> None:
    from bundler.keptfiles import keep

    keep(_directory(), f"{page_key}.txt", text, newest=_KEEP)
