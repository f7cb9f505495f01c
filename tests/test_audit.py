"""`bundler audit`, the spec's [audit] vetoes and the kept pins of a re-solve, on real repositories (.debs
built by dpkg-deb, wheels) and advisory files written here in their publishers' formats: OSV records
(ossf.github.io/osv-schema) and the Debian security tracker's JSON export."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

from bundler.audit import audit_lock, codename
from bundler.lock import read_lock
from repos.advisories import PYTHON, Advisory, Range, affects, load_advisories
from solver.errors import InputError
from tests.support.debrepo import DebRepo
from tests.support.pyindex import Dist, make_repo
from tests.support.schemas import assert_strict


def bundler(*args: str | Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BUNDLER_")}
    return subprocess.run([sys.executable, "-m", "bundler", *map(str, args)], capture_output=True, text=True,
                          env=env)


# ---- advisory files, in the publishers' formats ---------------------------------------------------------
def osv(vid: str, name: str, events: list[dict[str, str]], aliases: list[str] | None = None,
        versions: list[str] | None = None, **extra: Any) -> dict[str, Any]:
    return {
        "schema_version": "1.6.0",
        "id": vid,
        "modified": "2026-01-01T00:00:00Z",
        "aliases": aliases or [],
        "affected": [{
            "package": {"ecosystem": "PyPI", "name": name, "purl": f"pkg:pypi/{name}"},
            "ranges": [{"type": "ECOSYSTEM", "events": events}],
            "versions": versions or [],
        }],
        **extra,
    }


OPENSSL_CVE = "CVE-2023-5363"
TRACKER = {
    "openssl": {
        OPENSSL_CVE: {
            "description": "Incorrect cipher key & IV length processing",
            "scope": "remote",
            "releases": {
                "bookworm": {"status": "resolved", "repositories": {"bookworm": "3.0.9-1"},
                             "fixed_version": "3.0.11-1~deb12u2", "urgency": "not yet assigned"},
                "trixie": {"status": "resolved", "fixed_version": "0", "urgency": "not yet assigned"},
            },
        },
        "CVE-2024-0727": {
            "description": "PKCS12 Decoding crashes",
            "releases": {
                "bookworm": {"status": "resolved", "fixed_version": "3.0.13-1~deb12u1", "urgency": "low"},
            },
        },
    },
    "postfix": {
        "CVE-2023-51764": {
            "description": "SMTP smuggling",
            "releases": {"bookworm": {"status": "open", "urgency": "low", "nodsa": "Minor issue"}},
        },
    },
    "libzstd": {
        "CVE-2022-4899": {"releases": {"bookworm": {"status": "undetermined", "urgency": "not yet assigned"}}},
    },
}

PYSEC = osv("PYSEC-2020-96", "PyYAML_Lite", [{"introduced": "0"}, {"fixed": "5.4"}],
            aliases=["CVE-2020-14343", "GHSA-8q59-q68h-6hv4"])
GHSA = osv("GHSA-j8r2-6x86-q33q", "demo.http", [{"introduced": "1.0"}, {"last_affected": "1.1.0"}],
           aliases=["CVE-2023-32681"])


def write_json(path: Path, doc: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=1))
    return path


# ---- OSV evaluation ---------------------------------------------------------------------------------------
def adv(*ranges: tuple[tuple[str, str], ...], versions: tuple[str, ...] = ()) -> Advisory:
    return Advisory("X-1", (), PYTHON, "p", tuple(Range(r) for r in ranges), versions)


@pytest.mark.parametrize(
    ("version", "expected"),
    [("0.9", (False, None)), ("1.0", (True, "1.2")), ("1.1.5", (True, "1.2")), ("1.2", (False, None)),
     ("1.9", (False, None)), ("2.0", (True, "2.0.3")), ("2.0.3", (False, None)), ("3.0", (True, None)),
     ("3.1", (True, None)), ("3.1.1", (False, None))],
)
def test_osv_ranges_follow_the_schemas_evaluation(version: str, expected: tuple[bool, str | None]) -> None:
    # Unsorted events in one range, as the schema allows: [1.0, 1.2) and [2.0, 2.0.3); a second range
    # with last_affected: [3.0, 3.1].
    a = adv((("fixed", "2.0.3"), ("introduced", "1.0"), ("fixed", "1.2"), ("introduced", "2.0")),
            (("introduced", "3.0"), ("last_affected", "3.1")))
    assert affects(a, version) == expected


def test_osv_limit_zero_introduced_and_versions_list() -> None:
    a = adv((("introduced", "0"), ("limit", "2.0")), versions=("3.0.0", "not a pep440 version!"))
    assert affects(a, "0.1")[0] and affects(a, "1.9")[0]
    assert not affects(a, "2.0")[0] and not affects(a, "2.5")[0]
    assert affects(a, "3.0") == (True, None)  # listed as 3.0.0: the same PEP 440 version


def test_osv_files_directories_zips_withdrawn_and_pep503_names(tmp_path: Path) -> None:
    d = tmp_path / "osv"
    write_json(d / "PYSEC-2020-96.json", PYSEC)
    write_json(d / "sub" / "GHSA.json", GHSA)
    write_json(d / "withdrawn.json", osv("PYSEC-0", "pyyaml-lite", [{"introduced": "0"}],
                                         withdrawn="2026-01-02T00:00:00Z"))
    write_json(d / "npm.json", {**osv("GHSA-npm", "x", [{"introduced": "0"}]),
                                "affected": [{"package": {"ecosystem": "npm", "name": "pyyaml-lite"},
                                              "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}]}]}]})
    z = tmp_path / "all.zip"
    with zipfile.ZipFile(z, "w") as zf:
        for f in sorted(d.rglob("*.json")):
            zf.write(f, f.name)
    for db in (load_advisories([d]), load_advisories([z])):
        assert db.count == 2
        hits = db.matches(PYTHON, "pyyaml-lite", "5.3.0")
        assert [(a.id, a.label, fixed) for a, fixed in hits] == [
            ("PYSEC-2020-96", "PYSEC-2020-96 (CVE-2020-14343, GHSA-8q59-q68h-6hv4)", "5.4")]
        assert db.matches(PYTHON, "pyyaml-lite", "5.4") == []
        assert [a.id for a, _ in db.matches(PYTHON, "demo-http", "1.1.0")] == ["GHSA-j8r2-6x86-q33q"]


def test_tracker_statuses(tmp_path: Path) -> None:
    db = load_advisories([write_json(tmp_path / "tracker.json", TRACKER)])
    assert db.releases == {"bookworm"}  # trixie's entry says "never affected"
    hits = db.matches("deb", "openssl", "3.0.11-1~deb12u2", "bookworm")
    assert [(a.id, fixed) for a, fixed in hits] == [("CVE-2024-0727", "3.0.13-1~deb12u1")]
    assert len(db.matches("deb", "openssl", "3.0.9-1", "bookworm")) == 2
    assert db.matches("deb", "openssl", "3.0.9-1", "trixie") == []
    assert [(a.status, f) for a, f in db.matches("deb", "postfix", "3.7.11-0+deb12u1", "bookworm")] == [("open", None)]
    assert [a.status for a, _ in db.matches("deb", "libzstd", "1.5.4+dfsg2-5", "bookworm")] == ["undetermined"]


def test_suite_codenames() -> None:
    assert [codename(s) for s in ("bookworm", "bookworm-security", "bookworm-updates", "bullseye/updates",
                                  "bookworm-backports", "unstable")] == [
        "bookworm", "bookworm", "bookworm", "bullseye", "bookworm", "sid"]


@pytest.mark.parametrize(
    ("name", "doc", "message"),
    [
        ("list.json", [1, 2], "neither an OSV record"),
        ("bad-events.json", osv("GHSA-bad", "x", [{"introduced": "0", "fixed": "1"}]),
         "GHSA-bad affected[0].ranges[0].events[0]: must be an object with one of"),
        ("bad-version.json", osv("GHSA-v", "x", [{"introduced": "0"}, {"fixed": "one point two"}]),
         "GHSA-v: fixed 'one point two' is not a valid python version"),
        ("bad-type.json", {**osv("GHSA-t", "x", []), "affected": [{"package": {"ecosystem": "PyPI", "name": "x"},
                                                                   "ranges": [{"type": "DATE", "events": []}]}]},
         "GHSA-t affected[0].ranges[0].type: must be ECOSYSTEM, SEMVER or GIT"),
        ("tracker.json", {"openssl": {"CVE-1": {"releases": {"bookworm": {"status": "fixed"}}}}},
         "openssl CVE-1 releases.bookworm.status: must be one of resolved, open, undetermined"),
        ("tracker2.json", {"openssl": {"CVE-2": {"releases": {"bookworm": {"status": "resolved"}}}}},
         "openssl CVE-2 releases.bookworm.fixed_version: is required when resolved"),
    ],
)
def test_a_file_in_the_wrong_format_names_the_file_and_entry(tmp_path: Path, name: str, doc: Any,
                                                              message: str) -> None:
    path = write_json(tmp_path / name, doc)
    with pytest.raises(InputError) as e:
        load_advisories([path])
    assert e.value.where == str(path)
    assert message in e.value.message


def test_a_bad_tracker_version_is_named_when_its_package_is_read(tmp_path: Path) -> None:
    # An export is 600,000 release entries: their versions are parsed per source package, when a lock
    # or a solve asks about it (bundler audit then exits 2 naming the entry).
    path = write_json(tmp_path / "t.json", {"openssl": {"CVE-2": {"releases": {"bookworm": {
        "status": "resolved", "fixed_version": "1.0 beta"}}}}})
    db = load_advisories([path])
    with pytest.raises(InputError) as e:
        db.matches("deb", "openssl", "1.0", "bookworm")
    assert str(e.value) == (f"{path}: openssl CVE-2 releases.bookworm.fixed_version: fixed '1.0 beta' is not a "
                            "valid deb version")


def test_a_bad_member_of_a_zip_is_named(tmp_path: Path) -> None:
    z = tmp_path / "all.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("PYSEC-2020-96.json", json.dumps(PYSEC))
        zf.writestr("broken.json", "{not json")
    with pytest.raises(InputError) as e:
        load_advisories([z])
    assert e.value.where == f"{z}:broken.json" and "not JSON" in e.value.message


# ---- real repositories and locks ----------------------------------------------------------------------
def make_deb_repo(root: Path) -> DebRepo:
    repo = DebRepo(root)
    a = repo.add
    a("bookworm", "main", name="app", version="1.0", arch="all", depends="openssl, libssl3, mail-transport-agent")
    a("bookworm", "main", name="postfix", version="3.7.11-0+deb12u1", provides="mail-transport-agent")
    a("bookworm", "main", name="openssl", version="3.0.9-1", depends="libssl3 (>= 3.0.9)", source="openssl")
    a("bookworm", "main", name="libssl3", version="3.0.9-1", source="openssl")
    a("bookworm-security", "main", name="openssl", version="3.0.11-1~deb12u2", depends="libssl3 (>= 3.0.11)",
      source="openssl")
    a("bookworm-security", "main", name="libssl3", version="3.0.11-1~deb12u2", source="openssl")
    a("bookworm-security", "main", name="libssl3", version="3.0.13-1~deb12u1", source="openssl")
    repo.write(compressions=(".xz",))
    return repo


PY_DISTS = [
    Dist("web", "1.0", ["demo-http>=1.0", "pyyaml-lite"]),
    Dist("demo-http", "1.1.0"),
    Dist("demo-http", "1.2.0"),
    Dist("pyyaml-lite", "5.3.0"),
    Dist("pyyaml_lite", "6.0.1"),
]


@pytest.fixture(scope="module")
def repos(tmp_path_factory: pytest.TempPathFactory) -> tuple[DebRepo, Path]:
    deb = make_deb_repo(tmp_path_factory.mktemp("mirror"))
    py = make_repo(tmp_path_factory.mktemp("pypi"), PY_DISTS)
    return deb, py.simple


def write_spec(tmp: Path, repos: tuple[DebRepo, Path], *, deb_extra: str = "", py_extra: str = "",
               audit: str | None = None) -> Path:
    deb, simple = repos
    text = f"""
[bundle]
name = "audited"
[[debian.sources]]
uri = "{deb.root.as_uri()}"
suites = ["bookworm", "bookworm-security"]
components = ["main"]
architectures = ["amd64"]
trusted = true
[debian]
require = ["app"]
{deb_extra}
[python]
indexes = ["{simple.as_uri()}"]
require = ["web"]
{py_extra}
"""
    if audit is not None:
        text += f"[audit]\n{audit}\n"
    spec = tmp / "bundle.toml"
    spec.write_text(text)
    return spec


def advisory_db(tmp: Path) -> tuple[Path, Path]:
    tracker = write_json(tmp / "db" / "debian.json", TRACKER)
    osv_dir = tmp / "db" / "osv"
    write_json(osv_dir / "PYSEC-2020-96.json", PYSEC)
    write_json(osv_dir / "GHSA-j8r2-6x86-q33q.json", GHSA)
    return tracker, osv_dir


def solve(tmp: Path, spec: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return bundler("solve", spec, "--cache-dir", tmp / "cache", *extra)


def test_audit_a_lock(repos: tuple[DebRepo, Path], tmp_path: Path) -> None:
    # An old lock: everything held at its oldest version.
    spec = write_spec(tmp_path, repos, deb_extra='fix = ["openssl (= 3.0.9-1)"]',
                      py_extra='constraints = ["demo-http==1.1.0", "pyyaml-lite<6"]')
    proc = solve(tmp_path, spec)
    assert proc.returncode == 0, proc.stderr
    lock_path = tmp_path / "bundle.lock"
    tracker, osv_dir = advisory_db(tmp_path)

    proc = bundler("audit", lock_path, "--db", tracker, "--db", osv_dir, "--json")
    assert proc.returncode == 1, proc.stderr
    out = assert_strict("audit", json.loads(proc.stdout))
    got = {(f["ecosystem"], f["package"], f["version"], f["advisory"], f["fixed"]) for f in out["affected"]}
    assert got == {
        ("deb", "openssl", "3.0.9-1", OPENSSL_CVE, "3.0.11-1~deb12u2"),
        ("deb", "openssl", "3.0.9-1", "CVE-2024-0727", "3.0.13-1~deb12u1"),
        ("deb", "postfix", "3.7.11-0+deb12u1", "CVE-2023-51764", None),
        ("python", "demo-http", "1.1.0", "GHSA-j8r2-6x86-q33q", None),
        ("python", "pyyaml-lite", "5.3.0", "PYSEC-2020-96", "5.4"),
    }
    openssl = next(f for f in out["affected"] if f["advisory"] == OPENSSL_CVE)
    assert openssl["binaries"] == ["libssl3:amd64", "openssl:amd64"] and openssl["release"] == "bookworm"
    pysec = next(f for f in out["affected"] if f["advisory"] == "PYSEC-2020-96")
    assert pysec["aliases"] == ["CVE-2020-14343", "GHSA-8q59-q68h-6hv4"]
    assert out["packages-affected"] == 4

    text = bundler("audit", lock_path, "--db", tracker, "--db", osv_dir)
    assert text.returncode == 1
    assert ("python pyyaml-lite 5.3.0: PYSEC-2020-96 (CVE-2020-14343, GHSA-8q59-q68h-6hv4), fixed in 5.4"
            in text.stdout)
    assert "deb openssl 3.0.9-1 [libssl3:amd64, openssl:amd64]: CVE-2023-5363, fixed in 3.0.11-1~deb12u2" in text.stdout
    assert "deb postfix 3.7.11-0+deb12u1 [postfix:amd64]: CVE-2023-51764, no fix (open)" in text.stdout

    named = bundler("audit", lock_path, "--db", tracker, "--db", osv_dir, "--json", "--release", "bookworm")
    assert named.returncode == 1 and json.loads(named.stdout) == out
    assert bundler("audit", lock_path).returncode == 2  # --db is required
    # The tracker is keyed by release: another release's data is no data, said so, not "clean".
    wrong = bundler("audit", lock_path, "--db", tracker, "--release", "trixie")
    assert wrong.returncode == 2 and "say nothing about release 'trixie'" in wrong.stderr


def test_audit_a_clean_lock_and_bad_input(repos: tuple[DebRepo, Path], tmp_path: Path) -> None:
    spec = write_spec(tmp_path, repos)
    assert solve(tmp_path, spec).returncode == 0
    lock_path = tmp_path / "bundle.lock"
    lock = read_lock(lock_path)
    versions = {p.name: p.version for p in lock.packages}
    assert versions["openssl"] == "3.0.11-1~deb12u2" and versions["libssl3"] == "3.0.13-1~deb12u1"
    _tracker, osv_dir = advisory_db(tmp_path)
    clean = write_json(tmp_path / "clean.json", {"openssl": {OPENSSL_CVE: TRACKER["openssl"][OPENSSL_CVE]}})
    proc = bundler("audit", lock_path, "--db", clean, "--db", osv_dir)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "no known vulnerabilities (3 advisories checked)" in proc.stdout
    bad = write_json(tmp_path / "bad.json", {"id": 3})
    proc = bundler("audit", lock_path, "--db", bad)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and f"{bad}: neither an OSV record" in proc.stderr


def test_spec_audit_vetoes_move_to_fixed_versions(repos: tuple[DebRepo, Path], tmp_path: Path) -> None:
    tracker, osv_dir = advisory_db(tmp_path)
    # Without the audit, the fix and the constraints would hold the vulnerable versions; the audit's
    # vetoes of versions with a fix available win over a previous lock's preference, not over a fix.
    spec = write_spec(tmp_path, repos, py_extra='constraints = ["demo-http<=1.2.0"]',
                      audit=f'db = ["{tracker.relative_to(tmp_path)}", "{osv_dir.relative_to(tmp_path)}"]')
    (tmp_path / "old").mkdir()
    old = write_spec(tmp_path / "old", repos, deb_extra='fix = ["openssl (= 3.0.9-1)"]',
                     py_extra='constraints = ["pyyaml-lite<6"]')
    assert solve(tmp_path, old, "-o", tmp_path / "bundle.lock").returncode == 0
    before = {p.name: p.version for p in read_lock(tmp_path / "bundle.lock").packages}
    assert before["libssl3"] == "3.0.9-1" and before["pyyaml-lite"] == "5.3.0"

    proc = solve(tmp_path, spec, "--json")
    assert proc.returncode == 0, proc.stderr
    after = {p.name: p.version for p in read_lock(tmp_path / "bundle.lock").packages}
    assert_strict("solve", json.loads(proc.stdout), free=("timings", "stats"))
    # Each version is vetoed for the advisories some other version is clear of: openssl 3.0.9 for
    # CVE-2023-5363 (3.0.11 fixes it), not 3.0.11 for CVE-2024-0727 (no openssl binary has its fix);
    # libssl3 3.0.9 and 3.0.11 for CVE-2024-0727 too (3.0.13 fixes it).
    assert after["openssl"] == "3.0.11-1~deb12u2" and after["libssl3"] == "3.0.13-1~deb12u1"
    assert after["pyyaml-lite"] == "6.0.1" and after["demo-http"] == "1.2.0"
    out = json.loads(proc.stdout)
    vetoes = {v["veto"]: (v["reason"], v["removed"]) for v in out["debian"]["vetoes"]}
    assert vetoes["libssl3 (= 3.0.9-1)"] == (f"{OPENSSL_CVE}; CVE-2024-0727", ["libssl3 3.0.9-1"])
    assert vetoes["libssl3 (= 3.0.11-1~deb12u2)"] == ("CVE-2024-0727", ["libssl3 3.0.11-1~deb12u2"])
    assert vetoes["openssl (= 3.0.9-1)"] == (OPENSSL_CVE, ["openssl 3.0.9-1"])
    assert "openssl (= 3.0.11-1~deb12u2)" not in vetoes
    audit = {(v["ecosystem"], v["package"], v["version"]): v["reason"] for v in out["audit"]["vetoes"]}
    assert audit[("python", "pyyaml-lite", "==5.3.0")] == "PYSEC-2020-96 (CVE-2020-14343, GHSA-8q59-q68h-6hv4)"
    assert audit[("deb", "openssl", "= 3.0.9-1")] == OPENSSL_CVE
    assert len(audit) == 4 and out["audit"]["advisories"] == 6


def test_spec_audit_veto_all_explains_by_advisory(repos: tuple[DebRepo, Path], tmp_path: Path) -> None:
    tracker, osv_dir = advisory_db(tmp_path)
    spec = write_spec(tmp_path, repos, audit='db = ["db/debian.json"]\nveto = "all"')
    proc = solve(tmp_path, spec)
    assert proc.returncode == 1
    # postfix has an open CVE and is the only mail-transport-agent; openssl has no clean version.
    assert "is vetoed (CVE-" in proc.stderr, proc.stderr
    spec = write_spec(tmp_path, repos, py_extra='constraints = ["pyyaml-lite<6"]',
                      audit='db = ["db/osv"]\nveto = "all"')
    proc = solve(tmp_path, spec)
    assert proc.returncode == 1
    assert "PYSEC-2020-96 (CVE-2020-14343, GHSA-8q59-q68h-6hv4)" in proc.stderr, proc.stderr


def test_resolve_says_what_it_kept(repos: tuple[DebRepo, Path], tmp_path: Path) -> None:
    tracker, osv_dir = advisory_db(tmp_path)
    old = write_spec(tmp_path, repos, deb_extra='fix = ["openssl (= 3.0.9-1)"]',
                     py_extra='constraints = ["demo-http==1.1.0", "pyyaml-lite<6"]')
    assert solve(tmp_path, old).returncode == 0
    # The same spec without the holds, and an audit that only reports: the re-solve keeps the old pins.
    spec = write_spec(tmp_path, repos, audit='db = ["db/debian.json", "db/osv"]\nveto = "none"')
    proc = solve(tmp_path, spec, "--json")
    assert proc.returncode == 0, proc.stderr
    kept = {k["package"]: (k["version"], k["newest"], k["fixes"]) for k in json.loads(proc.stdout)["kept"]}
    assert kept == {
        "openssl:amd64": ("3.0.9-1", "3.0.11-1~deb12u2", [OPENSSL_CVE]),
        "libssl3:amd64": ("3.0.9-1", "3.0.13-1~deb12u1", ["CVE-2023-5363", "CVE-2024-0727"]),
        "demo-http": ("1.1.0", "1.2.0", ["GHSA-j8r2-6x86-q33q (CVE-2023-32681)"]),
        "pyyaml-lite": ("5.3.0", "6.0.1", ["PYSEC-2020-96 (CVE-2020-14343, GHSA-8q59-q68h-6hv4)"]),
    }
    text = solve(tmp_path, spec, "--no-fast-path")  # the same again: only a solve reports what it kept
    assert "kept deb libssl3:amd64 3.0.9-1 (newer: 3.0.13-1~deb12u1, which fixes CVE-2023-5363, CVE-2024-0727)" \
        in text.stdout
    assert "kept python pyyaml-lite 5.3.0 (newer: 6.0.1, which fixes PYSEC-2020-96" in text.stdout
    # Without advisories the kept pins are still listed; with --upgrade nothing is kept.
    plain = write_spec(tmp_path, repos)
    kept_plain = json.loads(solve(tmp_path, plain, "--json").stdout)["kept"]
    assert {k["package"]: k["fixes"] for k in kept_plain} == {
        "openssl:amd64": [], "libssl3:amd64": [], "demo-http": [], "pyyaml-lite": []}
    assert json.loads(solve(tmp_path, plain, "--json", "--upgrade").stdout)["kept"] == []


def test_spec_audit_table_is_checked(tmp_path: Path) -> None:
    from bundler.spec import load_spec

    base = '[python]\nrequire = ["x"]\n[audit]\n'
    for body, message in [("", "audit.db: is required"), ('db = ["a"]\nveto = "some"', "audit.veto: must be"),
                          ('db = ["a"]\nvetos = "all"', "audit.vetos: unknown key")]:
        spec = tmp_path / "bundle.toml"
        spec.write_text(base + body)
        with pytest.raises(InputError) as e:
            load_spec(spec)
        assert message in str(e.value)
    spec.write_text(base + 'db = ["db/osv"]\nrelease = "bookworm"')
    audit = load_spec(spec).audit
    assert audit is not None and audit.db == (tmp_path / "db/osv",) and audit.veto == "fixed-available"
    assert audit.release == "bookworm"


def test_audit_lock_reads_python_names_per_pep503(tmp_path: Path) -> None:
    from bundler.lock import Lock, LockedPackage

    lock = Lock("x", "x", "0" * 64, None, (), (), (
        LockedPackage("python", "PyYAML.Lite", "5.3", "f.whl", 1, "0" * 64),))
    db = load_advisories([write_json(tmp_path / "a.json", PYSEC)])
    assert [(f.package, f.advisory) for f in audit_lock(lock, db)] == [("pyyaml-lite", "PYSEC-2020-96")]


def test_a_fix_of_an_affected_version_meets_the_audit(repos: tuple[DebRepo, Path], tmp_path: Path) -> None:
    advisory_db(tmp_path)
    spec = write_spec(tmp_path, repos, deb_extra='fix = ["openssl (= 3.0.9-1)"]', audit='db = ["db/debian.json"]')
    proc = solve(tmp_path, spec)
    assert proc.returncode == 1
    assert "openssl 3.0.9-1 is vetoed (CVE-2023-5363)" in proc.stderr, proc.stderr
    spec = write_spec(tmp_path, repos, py_extra='fix = ["pyyaml-lite==5.3.0"]', audit='db = ["db/osv"]')
    proc = solve(tmp_path, spec)
    assert proc.returncode == 1
    assert "is vetoed (PYSEC-2020-96 (CVE-2020-14343, GHSA-8q59-q68h-6hv4))" in proc.stderr, proc.stderr
    # veto = "none": the fix stands, and the audit of the lock reports it.
    spec = write_spec(tmp_path, repos, deb_extra='fix = ["openssl (= 3.0.9-1)"]',
                      audit='db = ["db/debian.json"]\nveto = "none"')
    assert solve(tmp_path, spec).returncode == 0
    assert bundler("audit", tmp_path / "bundle.lock", "--db", tmp_path / "db/debian.json").returncode == 1


def test_a_pin_a_fix_holds_is_not_listed_as_kept(tmp_path: Path) -> None:
    # The demo fixes openssl (moving libssl3, its other binary) and demo-http to versions older than
    # the newest: on a re-solve those are the fixes' decisions, not versions kept from the lock.
    from tests.support.demo import copy_demo

    spec = copy_demo(tmp_path)
    assert solve(tmp_path, spec).returncode == 0
    proc = bundler("solve", spec, "--cache-dir", tmp_path / "cache", "-o", tmp_path / "bundle.lock", "--json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["kept"] == []
