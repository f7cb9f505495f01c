"""Every `--json` output against its schema (bundler/schemas/*.json, JSON Schema draft 2020-12), on real
runs of the command over the demo and over repositories built here; and the values, not only the shape.

`assert_strict` also drops and renames each key of a real output in turn and requires the schema to
reject every such copy: a part of the output that goes missing is caught here, not by a consumer.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bundler.lock import read_lock
from bundler.schemas import COMMANDS, load
from tests.support.debrepo import DebRepo
from tests.support.demo import copy_demo
from tests.support.schemas import assert_strict, assert_valid, errors
from tests.test_cli_debian import make_repo, write_spec

DEMO = Path(__file__).resolve().parent.parent / "examples" / "demo"
FREE_FORM = {"timings", "stats"}  # maps whose keys are open-ended (stage names, solver counters)


def bundler(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BUNDLER_", "PIP_"))}
    return subprocess.run([sys.executable, "-m", "bundler", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, env=env)  # fmt: skip


def _objects(schema: Any, where: str = "") -> list[tuple[str, dict[str, Any]]]:
    out = []
    if isinstance(schema, dict):
        if "properties" in schema and "object" in schema.get("type", ()):
            out.append((where, schema))
        for k, v in schema.items():
            out += _objects(v, f"{where}/{k}")
    elif isinstance(schema, list):
        for i, v in enumerate(schema):
            out += _objects(v, f"{where}/{i}")
    return out


# Keys that only some documents have, with the condition that requires or forbids them in the schema.
CONDITIONAL = {"audit": {"binaries", "release", "status"}, "publish": {"uploaded_keys", "pruned_keys"}}


@pytest.mark.parametrize("command", COMMANDS)
def test_schemas_are_closed(command: str) -> None:
    schema = load(command)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    objects = _objects(schema)
    assert objects or schema["type"] == "array"
    for where, obj in objects:
        assert obj.get("additionalProperties") is False, f"{command}{where} is not closed"
        optional = set(obj["properties"]) - set(obj["required"])
        assert optional <= CONDITIONAL.get(command, set()), f"{command}{where}: {optional} not required"
    if command in CONDITIONAL:
        assert "if" in json.dumps(schema) and "then" in json.dumps(schema)


# ---- solve --------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_demo(tmp_path_factory.mktemp("demo")).parent


@pytest.fixture(scope="module")
def demo_solved(demo: Path) -> tuple[dict[str, Any], Path]:
    out = demo / "out"
    proc = bundler("solve", demo / "bundle.toml", "--cache-dir", demo / "cache", "--json", "--bundle", out)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout), out


def test_solve_json_of_the_demo(demo: Path, demo_solved: tuple[dict[str, Any], Path]) -> None:
    doc = json.loads(json.dumps(demo_solved[0]))  # a copy: the fixture is shared
    assert_strict("solve", doc, free=tuple(FREE_FORM))
    assert set(doc["timings"]) == {"debian-load", "debian-solve", "debian-vetoes", "python", "total"}
    assert set(doc["debian"]["stats"]) == {"variables", "clauses", "decisions", "backjumps", "baseline_seconds",
                                           "solve_seconds", "report_seconds"}  # fmt: skip
    del doc["timings"], doc["debian"]["stats"]
    lock = read_lock(demo / "bundle.lock")
    assert doc == {
        "solved": True,
        "bundle": "demo",
        "lock": str(demo / "bundle.lock"),
        "packages": {"deb": 10, "python": 5},
        "roots": ["deb:demo-api:all", "deb:openssl:amd64", "python:demo-client", "python:demo-http"],
        "debian": {
            "fixes": [{
                "fix": "openssl (= 3.0.11-1~deb12u2)",
                "chosen": "openssl 3.0.11-1~deb12u2",
                # the fix moved libssl3 with its source package, though 3.0.13 is newer
                "changed": [{"package": "libssl3:amd64", "from": "3.0.13-1~deb12u1", "to": "3.0.11-1~deb12u2"},
                            {"package": "openssl:amd64", "from": None, "to": "3.0.11-1~deb12u2"}],
            }],
            "vetoes": [
                {"veto": "exim4-daemon-light", "reason": "we ship postfix",
                 "removed": ["exim4-daemon-light 4.96-15+deb12u6"], "changed": []},
                {"veto": "libssl3 (<< 3.0.11)", "reason": "CVE-2023-5363", "removed": ["libssl3 3.0.9-1"],
                 "changed": []},
            ],
            "notes": [],
            "mirror-extra": 0,
            "skipped-recommends": 0,
        },
        "python": {
            "fixes": [{
                "fix": "demo-http==1.1.0",
                "chosen": "demo-http 1.1.0",
                # demo-http 1.2.0 needs demo-certs, 1.1.0 does not
                "changed": [{"package": "demo-certs", "from": "2026.1.0", "to": None},
                            {"package": "demo-http", "from": "1.2.0", "to": "1.1.0"}],
            }],
            "vetoes": [],  # pyyaml-lite<5.4: the resolver never met 5.3.0 (6.0.1 fits)
            "notes": [],
            "sdists": [],
        },
        "kept": [],
        "audit": None,
        "warnings": [],
        "up-to-date": False,
        "fast-path-miss": "no lock yet",
    }  # fmt: skip
    assert doc["packages"]["deb"] == sum(1 for p in lock.packages if p.ecosystem == "deb")


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> DebRepo:
    return make_repo(tmp_path_factory.mktemp("mirror"))


def test_a_debian_veto_says_what_it_moved(repo: DebRepo, tmp_path: Path) -> None:
    spec = write_spec(tmp_path, repo.root.as_uri())
    text = spec.read_text().replace('version = "<< 3.0.11", reason = "CVE-2023-5363"',
                                    'version = ">= 3.0.13", reason = "regression"')
    spec.write_text(text)
    moved = [{"package": "libssl3:amd64", "from": "3.0.13-1~deb12u1", "to": "3.0.11-1~deb12u2"}]
    for run in ("fresh", "re-solve"):  # a re-solve keeps 3.0.11 anyway: the veto is judged from scratch
        extra = () if run == "fresh" else ("--no-fast-path",)  # unchanged, it would keep the lock unreported
        proc = bundler("solve", spec, "--cache-dir", tmp_path / "cache", "--json", *extra)
        assert proc.returncode == 0, proc.stderr
        doc = assert_valid("solve", json.loads(proc.stdout))
        vetoes = {v["veto"]: v for v in doc["debian"]["vetoes"]}
        assert vetoes["libssl3 (>= 3.0.13)"] == {"veto": "libssl3 (>= 3.0.13)", "reason": "regression",
                                                 "removed": ["libssl3 3.0.13-1~deb12u1"], "changed": moved}, run
        # without that veto, apt's choice for mail-transport-agent is exim (first of its providers)
        assert vetoes["exim4-daemon-light"]["changed"] == [
            {"package": "exim4-daemon-light:amd64", "from": "4.96-15+deb12u6", "to": None},
            {"package": "postfix:amd64", "from": None, "to": "3.7.11-0+deb12u1"},
        ], run
        assert doc["python"] is None and doc["debian"]["fixes"] == []
    text = bundler("solve", spec, "--cache-dir", tmp_path / "cache", "--no-fast-path")
    assert ("  veto libssl3 (>= 3.0.13) (regression) removed libssl3 3.0.13-1~deb12u1; "
            "moved: libssl3:amd64 3.0.13-1~deb12u1 → 3.0.11-1~deb12u2") in text.stdout.splitlines()


def test_schema_rejects_what_the_output_must_not_be(demo_solved: tuple[dict[str, Any], Path]) -> None:
    doc = json.loads(json.dumps(demo_solved[0]))
    assert errors("solve", doc) == []
    doc["python"]["fixes"] = {"demo-http==1.1.0": []}  # the old shape of the Python fixes
    assert errors("solve", doc) == ["python/fixes: {'demo-http==1.1.0': []} is not of type 'array'"]
    doc = json.loads(json.dumps(demo_solved[0]))
    doc["debian"]["vetoes"][0]["changed"] = [{"package": "x", "from": 1, "to": None}]
    assert errors("solve", doc)
    # the failure document (solve --json on no solution) is another shape, checked as such
    failure = {"ecosystem": "deb", "chains": [], "hint": None, "text": "no consistent set exists."}
    assert errors("solve", {"solved": False, "failure": failure}) == []
    assert errors("solve", {"solved": False, "failure": {"because": []}})  # the cause tree's own shape
    assert errors("solve", {"solved": False, "failure": failure, "lock": "x"}) == [
        "(top): Additional properties are not allowed ('lock' was unexpected)"]
    assert errors("solve", {"solved": False})


# ---- verify -------------------------------------------------------------------------------------
def test_verify_json(demo_solved: tuple[dict[str, Any], Path], tmp_path: Path) -> None:
    _, out = demo_solved
    proc = bundler("verify", out, "--json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert_strict("verify", doc)
    sums = (out / "SHA256SUMS").read_text().splitlines()
    assert doc == {"bundle": str(out), "ok": True, "files": len(sums), "debs": 10, "python-files": 5,
                   "dependencies-checked": True, "problems": [], "notes": []}  # fmt: skip
    text = bundler("verify", out)
    assert text.stdout == (f"ok: {len(sums)} files, 10 Debian package entries, 5 Python files; "
                           "dependencies satisfiable\n")  # fmt: skip

    bad = tmp_path / "bad"
    shutil.copytree(out, bad)
    wheel = next((bad / "python" / "files").glob("demo_client-*.whl"))
    wheel.write_bytes(wheel.read_bytes() + b"tampered")
    proc = bundler("verify", bad, "--json")
    assert proc.returncode == 1
    doc = assert_valid("verify", json.loads(proc.stdout))
    assert doc["ok"] is False and doc["bundle"] == str(bad)
    rel = wheel.relative_to(bad).as_posix()
    assert doc["problems"] and all(rel in p for p in doc["problems"]), doc["problems"]
    assert any(p.startswith(f"{rel}: ") and "SHA256SUMS" in p for p in doc["problems"]), doc["problems"]


# ---- check --------------------------------------------------------------------------------------
def test_check_json(tmp_path: Path) -> None:
    mirror = DebRepo(tmp_path / "mirror")
    mirror.add("bookworm", "main", name="good", version="1", depends="lib")
    mirror.add("bookworm", "main", name="lib", version="1")
    mirror.add("bookworm", "main", name="orphan", version="1", depends="gone (>= 2)")
    mirror.add("bookworm-updates", "main", name="gone", version="1")
    mirror.write(compressions=("",))
    spec = write_spec(tmp_path, mirror.root.as_uri())
    proc = bundler("check", spec, "--cache-dir", tmp_path / "cache", "--json")
    assert proc.returncode == 1, proc.stderr
    doc = json.loads(proc.stdout)
    assert_strict("check", doc)
    assert set(doc.pop("timings")) == {"load", "check"}
    assert doc == {
        "checked": 4,
        "installable": 3,
        "broken": [{"package": "orphan", "version": "1", "architecture": "amd64",
                    "why": "Because you require orphan:amd64 (= 1),\n"
                           "  and orphan 1 depends on gone (>= 2), but no available version fits for amd64 "
                           "(available: 1),\nno consistent set of packages exists."}],
    }  # fmt: skip


# ---- diff ---------------------------------------------------------------------------------------
def test_diff_json(repo: DebRepo, tmp_path: Path) -> None:
    plain = write_spec(tmp_path, repo.root.as_uri())
    assert bundler("solve", plain, "--cache-dir", tmp_path / "cache", "-o", tmp_path / "a.lock").returncode == 0
    fixed = write_spec(tmp_path, repo.root.as_uri(), fix=["openssl (= 3.0.11-1~deb12u2)"])
    assert bundler("solve", fixed, "--cache-dir", tmp_path / "cache", "-o", tmp_path / "b.lock").returncode == 0
    proc = bundler("diff", tmp_path / "a.lock", tmp_path / "b.lock", "--json")
    assert proc.returncode == 1
    doc = json.loads(proc.stdout)
    assert_strict("diff", doc)
    assert doc == [
        {"id": "deb:libssl3:amd64", "kind": "changed", "from": "3.0.13-1~deb12u1", "to": "3.0.11-1~deb12u2",
         "why": None},
        {"id": "deb:openssl:amd64", "kind": "added", "from": None, "to": "3.0.11-1~deb12u2", "why": None},
    ]  # fmt: skip
    why = json.loads(bundler("diff", tmp_path / "a.lock", tmp_path / "b.lock", "--json", "--why").stdout)
    assert [c["why"] for c in assert_valid("diff", why)] == [
        "openssl 3.0.11-1~deb12u2 → libssl3 3.0.11-1~deb12u2",  # the shortest path from a root
        "openssl 3.0.11-1~deb12u2",
    ]
    back = json.loads(bundler("diff", tmp_path / "b.lock", tmp_path / "a.lock", "--json").stdout)
    assert assert_valid("diff", back)[1] == {"id": "deb:openssl:amd64", "kind": "removed",
                                             "from": "3.0.11-1~deb12u2", "to": None, "why": None}  # fmt: skip
    same = bundler("diff", tmp_path / "a.lock", tmp_path / "a.lock", "--json")
    assert same.returncode == 0 and assert_valid("diff", json.loads(same.stdout)) == []
    wrong = [{**doc[1], "kind": "changed"}]  # an added package is not "changed"
    assert errors("diff", wrong)


# ---- the parts of a solve the demo does not show ------------------------------------------------
def test_debian_notes_recommends_and_mirror_closure(tmp_path: Path) -> None:
    mirror = DebRepo(tmp_path / "mirror")
    mirror.add("bookworm", "main", name="app", version="1", recommends="docs, fancy", depends="web | httpd")
    mirror.add("bookworm", "main", name="docs", version="1")
    mirror.add("bookworm", "main", name="fancy", version="1", conflicts="plain")
    mirror.add("bookworm", "main", name="plain", version="1")
    mirror.add("bookworm", "main", name="web", version="1")
    mirror.add("bookworm", "main", name="nginx", version="1", provides="httpd")
    mirror.add("bookworm-updates", "main", name="unrelated", version="1")
    mirror.write(compressions=("",))
    spec = write_spec(tmp_path, mirror.root.as_uri(), require=["plain", "app"])
    spec.write_text(spec.read_text().replace("[debian]\n", "[debian]\nrecommends = true\n"))
    args = ("solve", spec, "--cache-dir", tmp_path / "cache", "--closure", "mirror")
    proc = bundler(*args, "--json")
    assert proc.returncode == 0, proc.stderr
    deb = assert_valid("solve", json.loads(proc.stdout))["debian"]
    assert deb["notes"] == ["app 1 (amd64): Recommends fancy skipped: cannot be installed"]
    names = sorted(p.name for p in read_lock(tmp_path / "bundle.lock").packages)
    assert names == ["app", "docs", "fancy", "nginx", "plain", "web"], names
    # the mirror closure adds nginx (the other httpd) and fancy (a Recommends alternative), though
    # fancy cannot be installed beside plain
    assert (deb["skipped-recommends"], deb["mirror-extra"]) == (1, 2)
    assert deb["fixes"] == [] and [v["veto"] for v in deb["vetoes"]] == []
    lines = bundler(*args, "--no-fast-path").stdout.splitlines()  # the same again: report, not the fast path
    assert lines[1:4] == [
        "  mirror closure added 2 alternatives and providers",
        "  1 Recommends could not be installed and were skipped",
        "  note: app 1 (amd64): Recommends fancy skipped: cannot be installed",
    ]


def test_python_notes(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("--index-url http://127.0.0.1:9/simple\ndemo-client\n")
    spec = tmp_path / "bundle.toml"
    spec.write_text(f'[bundle]\nname = "py"\n[python]\nindexes = []\nfind-links = ["{DEMO / "wheels"}"]\n'
                    'requirements-file = "requirements.txt"\n')
    note = f"{tmp_path / 'requirements.txt'}:1: ignored pip option --index-url (indexes come from the spec)"
    proc = bundler("solve", spec, "--cache-dir", tmp_path / "cache", "--json")
    assert proc.returncode == 0, proc.stderr
    doc = assert_valid("solve", json.loads(proc.stdout))
    assert doc["debian"] is None
    assert doc["python"] == {"fixes": [], "vetoes": [], "notes": [note], "sdists": []}
    assert doc["packages"] == {"deb": 0, "python": len(read_lock(tmp_path / "bundle.lock").packages)}
    assert doc["roots"] == ["python:demo-client"]
    again = bundler("solve", spec, "--cache-dir", tmp_path / "cache", "--no-fast-path")  # a solve's notes
    assert f"  note: {note}" in again.stdout.splitlines()
