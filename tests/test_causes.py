"""Failures are data (issue 13): a failed solve gives typed causes (solver/causes.py) that render as
the text the CLI prints and serialise as `--json`, for both ecosystems."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from solver import causes
from tests.support.demo import copy_demo
from tests.support.schemas import assert_strict, assert_valid


def _demo(tmp_path: Path, replace: tuple[str, str]) -> Path:
    return copy_demo(tmp_path, replace)


def _solve_json(spec: Path) -> tuple[int, dict, str]:
    proc = subprocess.run([sys.executable, "-m", "bundler", "solve", str(spec), "--json", "--cache-dir",
                           str(spec.parent / "cache")], capture_output=True, text=True, check=False)  # fmt: skip
    return proc.returncode, json.loads(proc.stdout), proc.stderr


def test_a_debian_failure_is_typed_causes(tmp_path: Path) -> None:
    # Fixing openssl at 3.0.9-1 moves libssl3 to 3.0.9-1, which the spec vetoes.
    spec = _demo(tmp_path, ('fix = ["openssl (= 3.0.11-1~deb12u2)"]', 'fix = ["openssl (= 3.0.9-1)"]'))
    code, doc, err = _solve_json(spec)
    assert code == 1
    assert_strict("solve", assert_valid("solve", doc))
    failure = doc["failure"]
    assert doc["solved"] is False and failure["ecosystem"] == "deb"
    kinds = [c["kind"] for c in failure["chains"][0]]
    assert kinds[0] == "fix" and "veto" in kinds, kinds
    veto = next(c for c in failure["chains"][0] if c["kind"] == "veto")
    assert veto == {"kind": "veto", "package": "libssl3 3.0.9-1", "reason": "CVE-2023-5363",
                    "veto": "libssl3 (<< 3.0.11)", "text": "libssl3 3.0.9-1 is vetoed (CVE-2023-5363)"}  # fmt: skip
    # The text on stderr is the same explanation, rendered from the same causes.
    assert failure["text"] in err and failure["hint"] and f"hint: {failure['hint']}" in err
    assert failure["text"].startswith("Because you fix openssl (= 3.0.9-1)")


def test_a_python_failure_is_typed_causes(tmp_path: Path) -> None:
    spec = _demo(tmp_path, ('require = ["demo-client"]', 'require = ["demo-client", "demo-http>=9"]'))
    code, doc, err = _solve_json(spec)
    assert code == 1
    assert_strict("solve", assert_valid("solve", doc))
    failure = doc["failure"]
    assert failure["ecosystem"] == "python"
    chain = failure["chains"][0]
    assert {"kind": "requirement", "by": "you", "requirement": "demo-http>=9", "field": "root", "unavailable": None,
            "many": False, "text": "you require demo-http>=9"} in chain  # fmt: skip
    assert chain[-1]["kind"] in ("no-match", "excluded")
    assert failure["text"] in err


def test_render_joins_the_causes_as_the_cli_says_them() -> None:
    e = causes.Explanation("deb", ((causes.Requirement("you", "app", "root"),
                                    causes.Requirement("app 1.0", "lib (>= 2)", unavailable="which no source provides for amd64")),))  # fmt: skip
    assert e.render() == ("Because you require app,\n  and app 1.0 depends on lib (>= 2), which no source provides "
                          "for amd64,\nno consistent set of packages exists.")  # fmt: skip
    py = causes.Explanation("python", ((causes.Requirement("a 1.0 and a 0.9", "b>=2", many=True),
                                        causes.NoMatch("b", "no version of b matches >=2 (available: 1.0)"),
                                        causes.Excluded(("a 1.0", "a 0.9"), ("you require a",))),))  # fmt: skip
    assert py.render() == ("Because a 1.0 and a 0.9 depend on b>=2,\n  and no version of b matches >=2 (available: 1.0),"
                           "\na 1.0 and a 0.9 cannot be used.\nAnd because you require a,\nno solution exists.")  # fmt: skip
    assert [c["kind"] for c in py.to_json()["chains"][0]] == ["requirement", "no-match", "excluded"]


@pytest.mark.parametrize("cause", [causes.Fix("x (= 1)"), causes.Pin("x 1", -1, "Pin: release a=x"),
                                   causes.OneVersion("x", ("1", "2")), causes.PythonVersion("3.11"),
                                   causes.Conflict("x 1", "Breaks", "y (<< 2)", "y 1"),
                                   causes.SourceMove("x (= 2)", "x", "2", "libx 1"), causes.BaseNeed("dpkg")])
def test_every_cause_has_a_kind_and_a_sentence(cause: causes.Cause) -> None:
    assert causes.kind(cause) and cause.sentence()


def test_the_solve_schema_knows_every_cause_and_its_fields() -> None:
    import dataclasses

    from bundler.schemas import load

    variants = load("solve")["$defs"]["cause"]["oneOf"]
    by_kind = {v["properties"]["kind"]["const"]: set(v["properties"]) for v in variants}
    assert by_kind == {
        kind: {"kind", "text", *(f.name for f in dataclasses.fields(cls))} for cls, kind in causes._KIND.items()
    }
