"""Start-up (issue 11): what `bundler --version` and `bundler --help` import. A structural check, not a
timing: each heavy module named here costs tens of milliseconds on every run of the command, and a
top-level import added to a command module brings it back for every other command too."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

# Needed by no help text: the solver, the index clients, the lock and spec readers, the bundle writers.
HEAVY = ("bundler.pipeline", "bundler.lock", "bundler.spec", "bundler.python_solve", "bundler.build",
         "solver.deb.solve", "solver.deb.encoding", "solver.python", "repos.deb", "repos.pypi", "networkx", "httpx", "packaging",
         "resolvelib", "zstandard", "tomllib")  # fmt: skip


def _modules_after(*args: str) -> set[str]:
    code = (
        "import sys, json\n"
        "from bundler.cli import main\n"
        f"code = main({list(args)!r})\n"
        "sys.stdout.flush()\n"
        "sys.__stderr__.write('\\n' + json.dumps(sorted(sys.modules)))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(json.loads(proc.stderr.strip().splitlines()[-1]))


def test_version_loads_no_command_line_machinery() -> None:
    loaded = _modules_after("--version")
    assert not {m for m in loaded if m.split(".")[0] in ("typer", "click", "rich")}, "typer/click/rich"
    assert not [m for m in HEAVY if m in loaded]


@pytest.mark.parametrize("args", [["--help"], ["solve", "--help"], ["build", "--help"], ["check", "--help"],
                                  ["why", "--help"], ["publish", "--help"], ["delta", "--help"]])  # fmt: skip
def test_help_loads_nothing_a_command_needs_only_to_run(args: list[str]) -> None:
    loaded = _modules_after(*args)
    assert "typer" in loaded  # the help is typer's
    assert [m for m in HEAVY if m in loaded] == []
