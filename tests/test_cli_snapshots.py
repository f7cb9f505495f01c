"""Snapshot tests of what a person reads: every `--help`, the summary of a solve of examples/demo, and
the main error messages (a bad spec key, no solution, a missing file), each compared with a golden
text file under tests/golden/cli/. Any change of the text fails here, to be reviewed.

Each runs `python -m bundler ...` as a subprocess with COLUMNS=100, NO_COLOR=1 and TERM=dumb (so rich
draws the same boxes everywhere); temporary paths are replaced by <TMP>, timings by N.NNs, and
trailing blanks of each line are dropped.
After an intended change, regenerate the files and review their diff:

    BUNDLER_UPDATE_GOLDEN=1 .venv/bin/python -m pytest -q tests/test_cli_snapshots.py
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import click
import pytest
import typer.main

from bundler.app import app
from bundler.cli import _register_commands
from tests.support.demo import copy_demo

HERE = Path(__file__).resolve().parent
GOLDEN = HERE / "golden" / "cli"
ENV = {
    **{k: v for k, v in os.environ.items() if not k.startswith(("BUNDLER_", "PIP_"))},
    "COLUMNS": "100", "NO_COLOR": "1", "TERM": "dumb",
}  # fmt: skip

_register_commands()
_GROUP = typer.main.get_command(app)
assert isinstance(_GROUP, click.Group)
COMMANDS = sorted(_GROUP.commands)


def run(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bundler", *map(str, args)], capture_output=True, text=True,
                          env={**ENV, "BUNDLER_CACHE_DIR": os.environ["BUNDLER_CACHE_DIR"]}, cwd=cwd)  # fmt: skip


def mask(text: str, tmp: Path | None = None) -> str:
    if tmp is not None:
        text = text.replace(str(tmp), "<TMP>")
    return re.sub(r"\b\d+\.\d\ds\b", "N.NNs", text)  # timings


def assert_snapshot(name: str, text: str) -> None:
    # rich pads every line of a box to the width: trailing blanks are dropped, so that an editor
    # that strips them cannot break a golden file (and `git diff --check` stays quiet)
    text = "".join(line.rstrip() + "\n" for line in text.splitlines())
    golden = GOLDEN / name
    if os.environ.get("BUNDLER_UPDATE_GOLDEN"):
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(text, "utf-8")
    assert golden.is_file(), f"no golden file {golden}: run with BUNDLER_UPDATE_GOLDEN=1 (see the docstring)"
    expected = golden.read_text("utf-8")
    assert text == expected, f"the output differs from {golden} (BUNDLER_UPDATE_GOLDEN=1 regenerates it)"


def outcome(proc: subprocess.CompletedProcess[str], tmp: Path) -> str:
    """Exit code, stdout and stderr in one text."""
    return f"exit: {proc.returncode}\n--- stdout\n{mask(proc.stdout, tmp)}--- stderr\n{mask(proc.stderr, tmp)}"


# ---- --help ------------------------------------------------------------------------------------
@pytest.mark.parametrize("command", ["", *COMMANDS])
def test_help(command: str) -> None:
    proc = run(*([command] if command else []), "--help")
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    assert_snapshot(f"help-{command or 'bundler'}.txt", proc.stdout)


def test_every_command_has_a_help_snapshot() -> None:
    have = sorted(p.name for p in GOLDEN.glob("help-*.txt"))
    assert have == sorted(f"help-{c}.txt" for c in ["bundler", *COMMANDS]), "a stale or missing help snapshot"


# ---- the summary of a solve ----------------------------------------------------------------------
@pytest.fixture
def demo(tmp_path: Path) -> Path:
    return copy_demo(tmp_path).parent


def test_summary_of_the_demo(demo: Path) -> None:
    first = run("solve", demo / "bundle.toml", "--cache-dir", demo / "cache", "--bundle", demo / "out")
    assert first.returncode == 0, first.stderr
    # a re-solve keeps the lock's versions where they fit, and says which have newer releases
    again = run("solve", demo / "bundle.toml", "--cache-dir", demo / "cache", "--offline", "--no-fast-path")
    assert again.returncode == 0, again.stderr
    # with nothing changed, the lock fast path keeps the lock without resolving, and says so
    kept = run("solve", demo / "bundle.toml", "--cache-dir", demo / "cache", "--offline")
    assert kept.returncode == 0, kept.stderr
    assert_snapshot("solve-demo.txt", outcome(first, demo) + "=== re-solve\n" + outcome(again, demo)
                    + "=== unchanged\n" + outcome(kept, demo))


# ---- error messages -----------------------------------------------------------------------------
def _spec(demo: Path, old: str, new: str) -> Path:
    text = (demo / "bundle.toml").read_text()
    assert old in text
    (demo / "bundle.toml").write_text(text.replace(old, new, 1))
    return demo / "bundle.toml"


ERRORS = {
    # name: (what the spec's text becomes: (old, new), or None for the demo's)
    "error-bad-spec-key.txt": ('python-version = "3.11"', 'python_version = "3.11"'),
    "error-unsolvable-debian.txt": ('fix = ["openssl (= 3.0.11-1~deb12u2)"]', 'fix = ["libssl3 (= 3.0.9-1)"]'),
    "error-unsolvable-python.txt": ('fix = ["demo-http==1.1.0"]',
                                    'fix = ["demo-http==1.1.0"]\nconstraints = ["demo-config<2"]'),
    "error-bad-requirement.txt": ('require = ["demo-client"]', 'require = ["demo-client>>1"]'),
}


@pytest.mark.parametrize("name", sorted(ERRORS))
def test_error_messages(demo: Path, name: str) -> None:
    spec = _spec(demo, *ERRORS[name])
    proc = run("solve", spec, "--cache-dir", demo / "cache")
    assert proc.returncode in (1, 2) and proc.stdout == ""
    assert not (demo / "bundle.lock").exists()
    assert_snapshot(name, outcome(proc, demo))


def test_missing_files(tmp_path: Path) -> None:
    texts = []
    for args in (["solve", tmp_path / "nowhere.toml"], ["build", tmp_path / "no.lock", tmp_path / "out"],
                 ["verify", tmp_path / "no-bundle"], ["diff", tmp_path / "a.lock", tmp_path / "b.lock"]):  # fmt: skip
        proc = run(*args)
        assert proc.returncode == 2
        texts.append(f"$ bundler {' '.join(mask(str(a), tmp_path) for a in args)}\n" + outcome(proc, tmp_path))
    assert not (tmp_path / "out").exists()
    assert_snapshot("error-missing-files.txt", "\n".join(texts))
