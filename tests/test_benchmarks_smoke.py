"""The benchmark harness runs end to end on tiny offline fixtures, so that it cannot rot.

A small Debian repository (real .debs from dpkg-deb, via tests/support/debrepo.py) and a directory of
two tiny wheels stand in for the real indexes; `python -m benchmarks --offline-fixtures` must finish,
write its report, and turn every absent peer or bundler command into a "not available" row. Any
network access would fail: the proxies point at a closed port.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.support.debrepo import DebRepo

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.skipif(shutil.which("dpkg-deb") is None, reason="needs dpkg-deb")


def _wheel(directory: Path, name: str, version: str, requires: list[str]) -> None:
    dist = f"{name}-{version}.dist-info"
    meta = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n" + "".join(
        f"Requires-Dist: {r}\n" for r in requires
    )
    files = {
        f"{name}/__init__.py": "",
        f"{dist}/METADATA": meta,
        f"{dist}/WHEEL": "Wheel-Version: 1.0\nGenerator: tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    files[f"{dist}/RECORD"] = "".join(f"{p},,\n" for p in files) + f"{dist}/RECORD,,\n"
    with zipfile.ZipFile(directory / f"{name}-{version}-py3-none-any.whl", "w") as z:
        for path, text in files.items():
            z.writestr(zipfile.ZipInfo(path, (2020, 1, 1, 0, 0, 0)), text)


def _fixtures(tmp: Path) -> Path:
    fx = tmp / "fx"
    repo = DebRepo(fx / "debian")
    add = repo.add
    add("bookworm", "main", name="app", version="1.0-1", depends="libfoo (>= 1) | libbar")
    add("bookworm", "main", name="libfoo", version="1.2-1")
    add("bookworm", "main", name="libbar", version="2.0-1", arch="all")
    add("bookworm", "main", name="tool", version="0.5-1", depends="libfoo")
    add("bookworm", "main", name="rival", version="1.0-1", conflicts="app")
    add("bookworm", "main", name="broken", version="1.0-1", depends="nowhere")
    for i in range(8):
        add("bookworm", "main", name=f"leaf{i}", version="1.0-1", depends="libfoo" if i % 2 else None)
    repo.write(compressions=("", ".xz"))
    wheels = fx / "wheels"
    wheels.mkdir()
    _wheel(wheels, "tinyapp", "1.0", ["tinylib>=1"])
    _wheel(wheels, "tinylib", "1.1", [])
    (fx / "requirements.txt").write_text("tinyapp\n")
    (fx / "fixture.json").write_text(
        json.dumps(
            {
                "debian": {"suites": ["bookworm"], "roots": ["app", "tool"], "unsolvable": ["app", "rival"]},
                "python": {"requirements": "requirements.txt"},
            }
        )
    )
    return fx


def _offline_env() -> dict[str, str]:
    env = dict(os.environ)
    for var in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY"):
        env[var] = "http://127.0.0.1:9"  # a closed port: any download attempt fails
    env.update(UV_OFFLINE="1", PIP_NO_INDEX="1", NO_PROXY="", no_proxy="")
    return env


def test_harness_runs_offline_on_fixtures(tmp_path: Path) -> None:
    fx = _fixtures(tmp_path)
    env = _offline_env()
    results = tmp_path / "results"
    cmd = [
        sys.executable, "-m", "benchmarks", "--quick", "--repeats", "1", "--budget", "20", "--no-setup",
        # every code path once: the "-many" and "deb-random" cases reuse these paths with other inputs
        "--only", "index-load,deb-openstack,deb-unsolvable,scaling,py-airflow,deb-check,build",
        "--offline-fixtures", str(fx), "--cache-dir", str(tmp_path / "cache"), "--results-dir", str(results),
    ]  # fmt: skip
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    data = json.loads((results / "latest.json").read_text())
    text = (results / "latest.md").read_text()
    assert "## Results" in text and "## Inputs" in text
    assert data["inputs"]["debian"][0]["stanzas"] == 14
    statuses = {r["status"] for r in data["results"]}
    assert statuses <= {"ok", "failed", "not available", "skipped (budget)"}
    # A crash inside a case is reported as a "harness" row: there must be none.
    assert not [r for r in data["results"] if r["contender"] == "harness"], data["results"]
    cases = {r["case"] for r in data["results"]}
    assert {"index-load", "deb-openstack", "deb-unsolvable"} <= cases, cases
    # Every peer that ran agrees on solvability of the fixture cases.
    for answer in data["answers"]:
        if answer["case"] in ("deb-openstack", "deb-unsolvable"):
            solved = {t["solved"] for t in answer["tools"].values() if t.get("solved") is not None}
            assert solved == {answer["expected_solvable"]}, answer
    apt = [r for r in data["results"] if r["tool"] == "apt" and r["case"] == "deb-openstack"]
    if shutil.which("apt-get"):
        assert apt and apt[0]["answer"].get("solved") is True, apt


def test_committed_results_name_no_host() -> None:
    from benchmarks.report import redact_hosts

    text = '{"uri": "http://mirror.example.net/debian", "root": "cache/debian/mirror.example.net_debian"}'
    assert redact_hosts(text) == '{"uri": "http://HOST/debian", "root": "cache/debian/HOST_debian"}'
    assert redact_hosts("https://user@idx.example.org:8443/simple/") == "https://user@HOST:8443/simple/"


def test_alternate_runs_two_trees_of_a_kept_case(tmp_path: Path) -> None:
    """`benchmarks.alternate` over a work directory the harness kept: two trees (here the same one, an
    A/A run) solve the Debian and the Python fixture case in turn, each with its own cache, and their
    locks are the same but for the seal."""
    fx = _fixtures(tmp_path)
    env = _offline_env()
    cmd = [
        sys.executable, "-m", "benchmarks", "--quick", "--repeats", "1", "--budget", "20", "--no-setup",
        "--only", "deb-openstack,py-airflow", "--keep-work", "--offline-fixtures", str(fx),
        "--cache-dir", str(tmp_path / "cache"), "--results-dir", str(tmp_path / "results"),
    ]  # fmt: skip
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    kept = [
        line.split(": ", 1)[1]
        for line in proc.stderr.splitlines()
        if line.startswith("work directory kept: ")
    ]
    assert len(kept) == 1, proc.stderr[-2000:]
    work = Path(kept[0])
    try:
        for case in ("deb-openstack", "py-airflow"):
            run = subprocess.run(
                [sys.executable, "-m", "benchmarks.alternate", str(work), case,
                 "--tree", f"a={ROOT}", "--tree", f"b={ROOT}", "--rounds", "2"],
                cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
            )  # fmt: skip
            assert run.returncode == 0, run.stderr[-2000:]
            rows = [line for line in run.stdout.splitlines() if line.startswith(("| a |", "| b |"))]
            assert len(rows) == 2, run.stdout
            assert "locks the same but for inputs-sha256: yes" in run.stdout, run.stdout
        bad = subprocess.run(
            [sys.executable, "-m", "benchmarks.alternate", str(work), "no-such-case", "--tree", f"a={ROOT}"],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "no-such-case" in bad.stderr, (
            bad.stderr
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)
