"""Entry point of the `bundler` command: runs the typer app and turns errors into one line + exit code.

Start-up counts (issue 11): this module imports only the standard library's basics at load time.
`bundler --version`, a `--help` page kept by the last run (bundler/helpcache.py) and a `bundler solve`
of a plain shape (bundler/quicksolve.py) answer before typer and click are imported; other commands
import the typer app, and each command module imports what its command needs inside the command
(tests/test_cli_startup.py checks which modules `--version` and `--help` load).
"""

from __future__ import annotations

import contextlib
import gc
import os
import sys
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console

    from solver.errors import BundlerError

_stderr: Console | None = None


def _err() -> Console:
    global _stderr
    if _stderr is None:
        from rich.console import Console

        _stderr = Console(stderr=True, highlight=False, soft_wrap=True)
    return _stderr


def _register_commands() -> None:
    import importlib
    import pkgutil

    import bundler.commands

    for info in sorted(pkgutil.iter_modules(bundler.commands.__path__), key=lambda i: i.name):
        importlib.import_module(f"bundler.commands.{info.name}")


@contextlib.contextmanager
def _only_what_runs(argv: list[str]) -> Iterator[None]:
    """Let typer build only the click command that this run needs.

    On every run typer turns each registered command into a click command (its signature walked, a
    click type and a gettext lookup per parameter: about 1 ms a command, 12 commands). `bundler
    COMMAND ...` needs COMMAND only, and `bundler --version` (eager, handled before any command is
    looked up) none; `bundler --help`, no arguments or an unknown name need them all, to list them or
    to say which exist. The group's own options (--version, --help) take no value, so the first
    argument not starting with "-" is the command's name.
    """
    from bundler.app import app

    commands = app.registered_commands
    at = next((i for i, a in enumerate(argv) if not a.startswith("-")), len(argv))
    keep: list[Any] | None = None
    if argv[:1] == ["--version"]:  # eager options run in the order given: this one first
        keep = []
    elif "--help" not in argv[:at] and at < len(argv):  # `bundler --help solve` lists every command
        keep = [c for c in commands if _command_name(c) == argv[at]] or None
    if keep is not None:
        app.registered_commands = keep
    try:
        yield
    finally:
        app.registered_commands = commands


def _command_name(info: Any) -> str:
    return str(info.name or info.callback.__name__.lower().replace("_", "-"))  # typer's get_command_name


def report(error: BundlerError) -> int:
    """Print a BundlerError the way the CLI promises and return its exit code.

    Bad input is one line naming the file, key or package (a parser's caret line may follow);
    an unsolvable problem is "no solution" and then its explanation, which is several lines by nature.
    """
    from rich.markup import escape

    from solver.errors import Unsatisfiable

    stderr = _err()
    if isinstance(error, Unsatisfiable):
        stderr.print("[bold red]error:[/] no solution", markup=True, highlight=False)
        stderr.out(error.explanation, highlight=False)
    else:
        first, *rest = str(error).splitlines() or [""]
        stderr.print(f"[bold red]error:[/] {escape(first)}", markup=True, highlight=False)
        for line in rest:
            stderr.out(line, highlight=False)
    if error.hint:
        stderr.out(f"hint: {error.hint}", highlight=False)
    return error.exit_code


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args == ["--version"]:  # answered without loading the command line machinery
        from bundler import __version__

        sys.stdout.write(f"bundler {__version__}\n")
        return 0
    page = None
    if "--help" in args:  # hashlib and the key's stat calls only for a help page
        from bundler import helpcache

        page = helpcache.key(args) if helpcache.is_help_request(args) else None
    if page is not None:
        text = helpcache.cached(page)
        if text is not None:  # the page this run would render, kept from the last one (bundler/helpcache.py)
            sys.stdout.write(text)
            return 0
        with helpcache.recording(page) as outcome:
            outcome.append(_run(argv))
        return outcome[0]
    if args[:1] == ["solve"]:  # an up-to-date lock of a plain `solve` needs no typer (bundler/quicksolve.py)
        from bundler import quicksolve

        code = quicksolve.run(args)
        if code is not None:
            return code
    return _run(argv)


def tune_gc() -> None:
    """The collector as a command's process wants it (also bundler/quicksolve.py's full solve)."""
    # A solve allocates hundreds of thousands of small, long-lived objects (candidates, clauses);
    # the default collector thresholds would walk them over and over for nothing.
    gc.set_threshold(200_000, 50, 100)
    from bundler.gcpause import freeze_after_pauses

    freeze_after_pauses()  # a command's process ends after its solve (bundler/gcpause.py)


def _run(argv: list[str] | None) -> int:
    tune_gc()
    import typer

    from bundler.app import app
    from solver.errors import BundlerError

    # click's ClickException, whichever click typer runs on: click itself (typer < 0.20) or the copy
    # typer now carries (typer._click); typer exports neither, but its BadParameter derives from it.
    click_exception: type[Any] = next(c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException")
    from bundler.startup import defer_rich_extras

    defer_rich_extras()
    _register_commands()
    try:
        with _only_what_runs(sys.argv[1:] if argv is None else argv):
            code = app(args=argv, standalone_mode=False)
        if isinstance(code, int) and not isinstance(code, bool):
            return code  # `raise typer.Exit(n)` in a command arrives here as n
    except BundlerError as e:
        return report(e)
    except KeyboardInterrupt:
        _err().out("interrupted")
        return 130
    except SystemExit as e:
        return int(e.code or 0)
    except click_exception as e:  # usage errors: "No such option", a missing argument, ...
        e.show()
        return int(e.exit_code)
    except typer.Abort:
        return 130
    return 0


_KEPT_FOR_EXIT: list[object] = []


def keep_until_exit(obj: object) -> None:
    """Hold `obj` until the process ends. `run` exits without freeing the heap (below), but what a
    command's frames hold is freed one object at a time as they return, before `run` gets there: a
    2,000-root Debian solve's report (10,000 locked packages, the solution behind them) took 50 ms to
    free (py-spy, 3.9% of the command). Only the latest object is held, so a long-lived caller (the
    tests) keeps one report, not all of them."""
    _KEPT_FOR_EXIT[:] = [obj]


def run() -> None:
    """The console script: main(), then exit without tearing down the heap.

    A solve leaves hundreds of thousands of objects behind; freeing them one by one at interpreter
    exit costs a third of a second and helps nobody. Output is flushed first, and the threads the
    interpreter would wait for are waited for (an index cache being written behind the solve); every
    output file was already written and renamed into place by then.
    """
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    for thread in threading.enumerate():
        if thread is not threading.current_thread() and not thread.daemon:
            thread.join()
    os._exit(code)


if __name__ == "__main__":
    run()
