"""The typer application object; command modules in `bundler/commands/` register on it."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="bundler",
    help="Pick one consistent set of Debian and Python packages and ship it as an offline bundle.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
