"""Entry point of the `bundler` command: runs the typer app and turns errors into one line + exit code."""

from __future__ import annotations

import gc
import importlib
import os
import pkgutil
import sys
import threading
from typing import Any

import typer

import bundler.commands
from bundler.app import app
from bundler.startup import defer_rich_extras, lazy_console
from solver.errors import BundlerError, Unsatisfiable

stderr = lazy_console(stderr=True, highlight=False, soft_wrap=True)

# click's ClickException, whichever click typer runs on: click itself (typer < 0.20) or the copy typer
# now carries (typer._click); typer exports neither, but its BadParameter derives from it.
_CLICK_EXCEPTION: type[Any] = next(c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException")


def _register_commands() -> None:
    for info in sorted(pkgutil.iter_modules(bundler.commands.__path__), key=lambda i: i.name):
        importlib.import_module(f"bundler.commands.{info.name}")


def report(error: BundlerError) -> int:
    """Print a BundlerError the way the CLI promises and return its exit code.

    Bad input is one line naming the file, key or package (a parser's caret line may follow);
    an unsolvable problem is "no solution" and then its explanation, which is several lines by nature.
    """
    from rich.markup import escape

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
    # A solve allocates hundreds of thousands of small, long-lived objects (candidates, clauses);
    # the default collector thresholds would walk them over and over for nothing.
    gc.set_threshold(200_000, 50, 100)
    defer_rich_extras()
    _register_commands()
    try:
        code = app(args=argv, standalone_mode=False)
        if isinstance(code, int) and not isinstance(code, bool):
            return code  # `raise typer.Exit(n)` in a command arrives here as n
    except BundlerError as e:
        return report(e)
    except KeyboardInterrupt:
        stderr.out("interrupted")
        return 130
    except SystemExit as e:
        return int(e.code or 0)
    except _CLICK_EXCEPTION as e:  # usage errors: "No such option", a missing argument, ...
        e.show()
        return int(e.exit_code)
    except typer.Abort:
        return 130
    return 0


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
