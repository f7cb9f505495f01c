"""The command line as a new user meets it: `--version`, commands in workflow order, and every
argument's and option's help text shown by `--help` (typer 0.19 on click 8.5 silently dropped the help
of positional arguments, which is why click is kept below 8.5)."""

from __future__ import annotations

import inspect
import os
import subprocess
import sys
import typing

import click
import pytest
import typer.main
from typer.models import ParameterInfo

import bundler
from bundler.app import WORKFLOW_ORDER, app
from bundler.cli import _register_commands

_register_commands()
GROUP = typer.main.get_command(app)
assert isinstance(GROUP, click.Group)
COMMANDS = sorted(GROUP.commands)
ENV = {**os.environ, "COLUMNS": "200", "TERM": "dumb", "NO_COLOR": "1"}


def _help(*args: str) -> str:
    proc = subprocess.run(
        [sys.executable, "-m", "bundler", *args, "--help"], capture_output=True, text=True, env=ENV
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def _squash(text: str) -> str:
    # rich draws boxes and wraps; compare words only
    return " ".join(text.replace("│", " ").split())


def test_version() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "bundler", "--version"], capture_output=True, text=True, env=ENV
    )
    assert (proc.returncode, proc.stdout) == (0, f"bundler {bundler.__version__}\n")


def test_commands_are_listed_in_workflow_order() -> None:
    text = _help()
    listed = [name for name in COMMANDS if f"│ {name} " in text]
    assert set(listed) == set(COMMANDS), "every command is listed"
    positions = sorted(COMMANDS, key=lambda n: text.index(f"│ {n} "))
    assert positions == [n for n in WORKFLOW_ORDER if n in COMMANDS] + sorted(
        set(COMMANDS) - set(WORKFLOW_ORDER)
    )
    assert set(COMMANDS) <= set(WORKFLOW_ORDER), "a new command needs its place in WORKFLOW_ORDER"


def _declared_help(name: str) -> dict[str, str]:
    """The help texts written in the command's signature (not what click kept of them)."""
    info = next(
        c
        for c in app.registered_commands
        if (c.name or typer.main.get_command_name(c.callback.__name__)) == name
    )  # type: ignore[union-attr]
    assert info.callback is not None
    hints = typing.get_type_hints(info.callback, include_extras=True)
    out = {}
    for pname, param in inspect.signature(info.callback).parameters.items():
        # typer takes the ParameterInfo from Annotated[...] or from the default value
        for meta in (*getattr(hints.get(pname), "__metadata__", ()), param.default):
            if isinstance(meta, ParameterInfo) and meta.help:
                out[pname] = meta.help
    return out


@pytest.mark.parametrize("name", COMMANDS)
def test_every_parameter_help_is_shown(name: str) -> None:
    text = _squash(_help(name))
    declared = _declared_help(name)
    params = [p.name for p in GROUP.commands[name].params if p.name != "help"]
    assert sorted(declared) == sorted(params), f"{name}: every argument and option has its help"
    for pname, help_text in declared.items():
        assert _squash(help_text) in text, f"{name}: help of {pname} missing from --help"
