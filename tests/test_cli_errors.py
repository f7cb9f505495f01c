"""How the CLI reports trouble: bad input is exit 2 with the spec file and key named; no solution is
exit 1 with "no solution" and the explanation; nothing is written in either case."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

WHEELS = Path(__file__).resolve().parent.parent / "examples" / "demo" / "wheels"


def run(tmp_path: Path, python: str) -> subprocess.CompletedProcess[str]:
    spec = tmp_path / "bundle.toml"
    spec.write_text(f'[bundle]\nname = "x"\n[python]\nindexes = []\nfind-links = ["{WHEELS}"]\n{python}\n')
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BUNDLER_", "PIP_"))}
    return subprocess.run([sys.executable, "-m", "bundler", "solve", str(spec), "--cache-dir", str(tmp_path / "c")],
                          capture_output=True, text=True, env=env)


def test_bad_python_requirement_names_file_and_key(tmp_path: Path) -> None:
    proc = run(tmp_path, 'require = ["demo-client>>1"]')
    assert proc.returncode == 2
    first = proc.stderr.splitlines()[0]
    assert first.startswith(f"error: {tmp_path / 'bundle.toml'}: python.require: bad requirement 'demo-client>>1'")
    assert "no solution" not in proc.stderr
    assert not (tmp_path / "bundle.lock").exists()


@pytest.mark.parametrize("veto", ['{ package = "demo-config", reason = "licence" }'])
def test_unsolvable_python_says_no_solution_and_why(tmp_path: Path, veto: str) -> None:
    proc = run(tmp_path, f'require = ["demo-client"]\nveto = [{veto}]')
    assert proc.returncode == 1
    lines = proc.stderr.splitlines()
    assert lines[0] == "error: no solution"
    assert "demo-config is vetoed (licence)" in proc.stderr
    assert not (tmp_path / "bundle.lock").exists()


def test_dependency_metadata_from_the_spec(tmp_path: Path) -> None:
    """A release's requirements stated in the spec replace what its files say (uv's dependency-metadata):
    here demo-config 2.1.0 is made to need demo-certs instead of pyyaml-lite."""
    proc = run(tmp_path, 'require = ["demo-client"]\n'
                         '[[python.dependency-metadata]]\nname = "demo_config"\nversion = "2.1.0"\n'
                         'requires-dist = ["demo-certs>=2026"]\n')
    assert proc.returncode == 0, proc.stderr
    from bundler.lock import read_lock

    pins = {p.name: p for p in read_lock(tmp_path / "bundle.lock").packages}
    assert pins["demo-config"].version == "2.1.0"
    assert "pyyaml-lite" not in pins and "demo-certs" in pins
    assert pins["demo-config"].depends == ("python:demo-certs",)


def test_dependency_metadata_is_checked(tmp_path: Path) -> None:
    proc = run(tmp_path, 'require = ["demo-client"]\n[[python.dependency-metadata]]\nname = "x"\nrequires-dist = ["a>>1"]\n')
    assert proc.returncode == 2
    assert "python.dependency-metadata[0].requires-dist[0]: bad requirement 'a>>1'" in proc.stderr


@pytest.mark.parametrize(("args", "message"), [(["solve", "--bogus"], r"No such option:? '?--bogus"),
                                               (["solve"], "Missing argument 'SPEC'")])  # fmt: skip
def test_usage_errors_are_a_message_and_exit_2(args: list[str], message: str) -> None:
    # typer 0.20+ carries its own copy of click: its usage errors must not reach the user as a traceback
    # (click's wording differs between versions: "No such option: --bogus" / "No such option '--bogus'")
    proc = subprocess.run([sys.executable, "-m", "bundler", *args], capture_output=True, text=True)
    assert proc.returncode == 2
    assert re.search(message, proc.stderr) and "Traceback" not in proc.stderr


def test_archive_without_bundle_is_refused_before_any_work(tmp_path: Path) -> None:
    spec = tmp_path / "bundle.toml"
    spec.write_text("this is not read: the options are checked first")
    proc = subprocess.run(
        [sys.executable, "-m", "bundler", "solve", str(spec), "--archive", str(tmp_path / "x.tar.zst")],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert proc.returncode == 2
    assert "--archive, --iso and --sign-key need --bundle" in proc.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bundle.toml"]
