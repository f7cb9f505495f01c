"""The typer application object; command modules in `bundler/commands/` register on it."""


from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from rich.console import Console
from typer.core import TyperGroup

# Commands in the order a release engineer uses them, not alphabetically (click's default) nor in the
# order their modules happen to be imported: make the set, ship it, check it, then look inside it.
WORKFLOW_ORDER = (
    "solve",
    "build",
    "verify",
    "serve",
    "publish",
    "audit",
    "delta",
    "upgrade-check",
    "why",
    "graph",
    "diff",
    "check",
)


class _WorkflowGroup(TyperGroup):
    def list_commands(self, ctx: object) -> list[str]:  # type: ignore[override]
        names = list(self.commands)
        rank = {name: i for i, name in enumerate(WORKFLOW_ORDER)}
        return sorted(names, key=lambda n: (rank.get(n, len(rank)), n))


app = typer.Typer(
    name="bundler",
    cls=_WorkflowGroup,
    help="Pick one consistent set of Debian and Python packages and ship it as an offline bundle.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _print_version(value: bool) -> None:
    if value:
        from bundler import __version__

        typer.echo(f"bundler {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool,
        typer.Option("--version", is_eager=True, callback=_print_version, help="Print the version and exit."),
    ] = False,
) -> None:
    """Pick one consistent set of Debian and Python packages and ship it as an offline bundle."""

_consoles: dict[bool, "Console"] = {}


def console(stderr: bool = False) -> "Console":
    """The command's rich console for stdout (or stderr), made on first use so that a command that
    prints nothing does not import rich's console. Markup is off: printed names may hold brackets."""
    c = _consoles.get(stderr)
    if c is None:
        from rich.console import Console

        c = _consoles[stderr] = Console(stderr=stderr, highlight=False, soft_wrap=True, markup=False)
    return c
