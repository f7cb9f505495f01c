"""apt's priorities and root names, proved against the real apt-get on the same sources.

A repository with `bookworm`, `bookworm-backports` (Release: NotAutomatic + ButAutomaticUpgrades, apt
priority 100) and `experimental` (NotAutomatic, priority 1) is solved by bundler and by
`apt-get -s install` in an isolated root, with the spec's `[[debian.pin]]` written as apt's
preferences file; the two install sets must be equal (apt-pkg/policy.cc, apt_preferences(5)).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from bundler.pipeline import solve_spec
from bundler.spec import load_spec
from solver.errors import InputError, Unsatisfiable
from tests.support.apt import IsolatedApt
from tests.support.debrepo import DebRepo

pytestmark = pytest.mark.skipif(subprocess.run(["which", "apt-get"], capture_output=True).returncode != 0,
                                reason="needs apt-get")

BPO = "2.0-1~bpo12+1"
SUITE_FIELDS = {
    "bookworm-backports": {"NotAutomatic": "yes", "ButAutomaticUpgrades": "yes"},
    "experimental": {"NotAutomatic": "yes"},
}
ALL = ["bookworm", "bookworm-backports", "experimental"]


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> DebRepo:
    r = DebRepo(tmp_path_factory.mktemp("prio"))
    a = r.add
    a("bookworm", "main", name="app", version="1.0-1", depends="libapp (>= 1), tool | othertool")
    a("bookworm", "main", name="libapp", version="1.0-1")
    a("bookworm", "main", name="tool", version="1.0-1")
    a("bookworm", "main", name="othertool", version="1.0-1")
    a("bookworm", "main", name="alt", version="1", depends="tool (>= 2) | othertool")
    a("bookworm", "main", name="pinme", version="1.0-1")
    a("bookworm", "main", name="pinme", version="1.2-1")
    a("bookworm", "main", name="mta-a", version="1", provides="mail-transport-agent",
      conflicts="mail-transport-agent")
    a("bookworm", "main", name="mta-b", version="1", provides="mail-transport-agent",
      conflicts="mail-transport-agent")
    a("bookworm", "main", name="solo", version="1", provides="only-one")
    a("bookworm", "main", name="realvirt", version="1")
    a("bookworm", "main", name="prov", version="1", provides="realvirt")
    a("bookworm-backports", "main", name="app", version=BPO, depends="libapp (>= 2), tool")
    a("bookworm-backports", "main", name="libapp", version=BPO)
    a("bookworm-backports", "main", name="tool", version=BPO)
    a("bookworm-backports", "main", name="pinme", version="1.3-1~bpo12+1")
    a("bookworm-backports", "main", name="onlybpo", version="1.0-1~bpo12+1", depends="libapp")
    a("experimental", "main", name="app", version="3.0-1", depends="libapp (>= 3)")
    a("experimental", "main", name="libapp", version="3.0-1")
    a("experimental", "main", name="onlyexp", version="1.0-1", depends="tool")
    r.write(compressions=("", ".xz"), suite_fields=SUITE_FIELDS)
    return r


def _spec(tmp: Path, repo: DebRepo, suites: list[str], require: list[str], pins: list[dict[str, object]]) -> Path:
    lines = [
        "[[debian.sources]]",
        f"uri = {json.dumps(repo.root.as_uri())}",
        f"suites = {json.dumps(suites)}",
        'components = ["main"]',
        'architectures = ["amd64"]',
        "trusted = true",
        "[debian]",
        f"require = {json.dumps(require)}",
    ]
    for pin in pins:
        lines.append("[[debian.pin]]")
        lines.extend(f"{k} = {json.dumps(v)}" for k, v in pin.items())
    path = tmp / "bundle.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def _preferences(pins: list[dict[str, object]]) -> str:
    """The spec's pins as apt's preferences file (apt_preferences(5))."""
    records = []
    for pin in pins:
        what = f"release {pin['release']}" if "release" in pin else f"version {pin['version']}"
        records.append(f"Package: {pin['package']}\nPin: {what}\nPin-Priority: {pin['priority']}\n")
    return "\n".join(records)


def bundler_set(tmp: Path, repo: DebRepo, suites: list[str], require: list[str],
                pins: list[dict[str, object]] = ()) -> set[tuple[str, str]]:  # type: ignore[assignment]
    spec = load_spec(_spec(tmp, repo, suites, require, list(pins)))
    report = solve_spec(spec, lock_path=tmp / "bundle.lock", cache_dir=tmp / "cache")
    return {(p.name, p.version) for p in report.lock.packages}


def apt_run(tmp: Path, repo: DebRepo, suites: list[str], require: list[str],
            pins: list[dict[str, object]] = ()) -> tuple[subprocess.CompletedProcess[str], set[tuple[str, str]]]:  # type: ignore[assignment]
    apt = IsolatedApt(tmp / "apt")
    apt.sources.write_text("".join(f"deb [trusted=yes] {repo.root.as_uri()} {s} main\n" for s in suites))
    (apt.root / "etc" / "preferences").write_text(_preferences(list(pins)))
    update = apt.run("update")
    assert update.returncode == 0, update.stdout + update.stderr
    proc, installs = apt.simulate_install(*require)
    return proc, set(installs)


def apt_set(tmp: Path, repo: DebRepo, suites: list[str], require: list[str],
            pins: list[dict[str, object]] = ()) -> set[tuple[str, str]]:  # type: ignore[assignment]
    proc, installs = apt_run(tmp, repo, suites, require, pins)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return installs


CASES = {
    # name: (suites, require, pins, what both must install)
    "without-backports": (["bookworm"], ["app", "pinme"], [],
                          {("app", "1.0-1"), ("libapp", "1.0-1"), ("tool", "1.0-1"), ("pinme", "1.2-1")}),
    "backports-listed-moves-nothing": (["bookworm", "bookworm-backports"], ["app", "pinme"], [],
                                       {("app", "1.0-1"), ("libapp", "1.0-1"), ("tool", "1.0-1"),
                                        ("pinme", "1.2-1")}),
    "experimental-listed-moves-nothing": (ALL, ["app", "pinme"], [],
                                          {("app", "1.0-1"), ("libapp", "1.0-1"), ("tool", "1.0-1"),
                                           ("pinme", "1.2-1")}),
    "only-in-backports": (ALL, ["onlybpo"], [], {("onlybpo", "1.0-1~bpo12+1"), ("libapp", "1.0-1")}),
    "only-in-experimental": (ALL, ["onlyexp"], [], {("onlyexp", "1.0-1"), ("tool", "1.0-1")}),
    "asked-for-by-release": (ALL, ["app/bookworm-backports"], [],
                             {("app", BPO), ("libapp", BPO), ("tool", "1.0-1")}),
    "asked-for-by-codename-experimental": (ALL, ["app/experimental"], [],
                                           {("app", "3.0-1"), ("libapp", "3.0-1")}),
    "generic-pin-raises-backports": (ALL, ["app"], [{"package": "*", "release": "a=bookworm-backports",
                                                      "priority": 500}],
                                     {("app", BPO), ("libapp", BPO), ("tool", BPO)}),
    "package-pin-on-codename": (ALL, ["app"], [{"package": "libapp", "release": "n=bookworm-backports",
                                                "priority": 600}],
                                {("app", "1.0-1"), ("libapp", BPO), ("tool", "1.0-1")}),
    "glob-pin": (ALL, ["app"], [{"package": "lib*", "release": "a=experimental,o=Bundler Tests",
                                 "priority": 990}],
                 {("app", "1.0-1"), ("libapp", "3.0-1"), ("tool", "1.0-1")}),
    "version-pin": (ALL, ["pinme"], [{"package": "pinme", "version": "1.0*", "priority": 900}],
                    {("pinme", "1.0-1")}),
    "regex-version-pin-above-1000": (ALL, ["pinme"], [{"package": "/^pin/", "version": "1.0*",
                                                       "priority": 1001}], {("pinme", "1.0-1")}),
    "negative-pin-takes-the-backports-candidate": (
        ALL, ["app"], [{"package": "tool", "version": "1.0*", "priority": -1}],
        {("app", "1.0-1"), ("libapp", "1.0-1"), ("tool", BPO)}),
    "first-package-pin-wins": (ALL, ["pinme"], [{"package": "pinme", "version": "1.2*", "priority": 50},
                                                {"package": "pinme", "release": "a=bookworm", "priority": 800}],
                               {("pinme", "1.0-1")}),
    "candidate-first-across-alternatives": (ALL, ["alt"], [], {("alt", "1"), ("othertool", "1.0-1")}),
    "pins-together": (ALL, ["onlybpo", "pinme", "alt"], [
        {"package": "*", "release": "a=bookworm-backports", "priority": 500},
        {"package": "libapp", "version": "1.0*", "priority": 990},
        {"package": "tool", "version": "2.0*", "priority": -1},
        {"package": "pinme", "version": "1.3*", "priority": 50},
        {"package": "pin*", "release": "n=bookworm", "priority": 800},
    ], {("onlybpo", "1.0-1~bpo12+1"), ("libapp", "1.0-1"), ("pinme", "1.2-1"), ("alt", "1"),
         ("othertool", "1.0-1")}),
    "real-package-over-its-provider": (ALL, ["realvirt"], [], {("realvirt", "1")}),
    "the-only-provider": (ALL, ["only-one"], [], {("solo", "1")}),
    "real-package-without-candidate-is-virtual": (
        ALL, ["realvirt"], [{"package": "realvirt", "version": "*", "priority": -1}], {("prov", "1")}),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bundler_installs_what_apt_installs(case: str, repo: DebRepo, tmp_path: Path) -> None:
    suites, require, pins, expected = CASES[case]
    got = bundler_set(tmp_path, repo, suites, require, pins)
    assert got == apt_set(tmp_path, repo, suites, require, pins)
    assert got == expected


def test_a_virtual_root_with_several_providers_is_refused_like_apt(repo: DebRepo, tmp_path: Path) -> None:
    proc, _ = apt_run(tmp_path, repo, ALL, ["mail-transport-agent"])
    assert proc.returncode != 0
    assert "is a virtual package provided by" in proc.stdout
    with pytest.raises(InputError) as info:
        bundler_set(tmp_path, repo, ALL, ["mail-transport-agent"])
    assert "mail-transport-agent is a virtual package provided by mta-a, mta-b" in info.value.message


def test_a_vetoed_real_root_is_not_swapped_for_its_provider(repo: DebRepo, tmp_path: Path) -> None:
    spec = _spec(tmp_path, repo, ALL, ["realvirt"], [])
    spec.write_text(spec.read_text() + 'veto = [{ package = "realvirt", reason = "broken" }]\n')
    with pytest.raises(Unsatisfiable) as info:
        solve_spec(load_spec(spec), lock_path=tmp_path / "bundle.lock", cache_dir=tmp_path / "cache")
    assert "realvirt 1 is vetoed (broken)" in info.value.explanation


def test_a_release_without_the_package_is_an_input_error(repo: DebRepo, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="release 'experimental' has no version of pinme"):
        bundler_set(tmp_path, repo, ALL, ["pinme/experimental"])
    proc, _ = apt_run(tmp_path, repo, ALL, ["pinme/experimental"])
    assert proc.returncode != 0 and "experimental" in proc.stderr


def test_a_pin_below_zero_on_every_version_explains_itself(repo: DebRepo, tmp_path: Path) -> None:
    with pytest.raises(Unsatisfiable) as info:
        bundler_set(tmp_path, repo, ALL, ["app"], [{"package": "libapp", "version": "*", "priority": -5}])
    assert "has apt priority -5 (libapp version *), so it is never installed" in info.value.explanation
    assert info.value.hint is not None and "pin libapp version *" in info.value.hint


def test_offline_solve_keeps_the_priorities(repo: DebRepo, tmp_path: Path) -> None:
    # The Release files come from the index cache: backports keeps priority 100 offline too.
    bundler_set(tmp_path, repo, ALL, ["app"])
    spec = load_spec(_spec(tmp_path, repo, ALL, ["app"], []))
    report = solve_spec(spec, lock_path=tmp_path / "other.lock", cache_dir=tmp_path / "cache", offline=True)
    assert ("app", "1.0-1") in {(p.name, p.version) for p in report.lock.packages}


def test_a_fix_from_backports_brings_what_it_needs_from_there(repo: DebRepo, tmp_path: Path) -> None:
    spec = _spec(tmp_path, repo, ALL, ["app"], [])
    spec.write_text(spec.read_text() + f'fix = ["app (= {BPO})"]\n')
    report = solve_spec(load_spec(spec), lock_path=tmp_path / "bundle.lock", cache_dir=tmp_path / "cache")
    assert {(p.name, p.version) for p in report.lock.packages} == {("app", BPO), ("libapp", BPO), ("tool", "1.0-1")}
