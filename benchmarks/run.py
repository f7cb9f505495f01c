"""The harness: gather inputs, install the peers, run every case within the budget, write the report.

Cases (names for `--only`):
  startup          bundler --version, --help, a trivial offline solve vs python's floors and uv (+ -X importtime)
  index-load       parse bookworm main amd64: bundler (cold, warm) vs apt_pkg.TagFile vs libsolv
  index-load-many  the same over bookworm + bookworm-updates + bookworm-security
  deb-openstack    solve the OpenStack roots: bundler vs apt-get -s vs libsolv (+ answers cross-checked)
  deb-openstack-many  the same roots over the three suites
  deb-random       a large random co-installable root set (fixed seed)
  deb-unsolvable   a root set with no solution (two conflicting MTAs)
  deb-check        installability of every package: bundler check vs dose-distcheck
  scaling          solve time against the number of random roots (10 … 2000), plotted
  py-airflow       apache-airflow==2.10.5 + data-science stack: bundler vs uv vs pip
  py-openstack     global-requirements constrained by upper-constraints: bundler vs uv vs pip
  py-small         five roots (data/small.txt): the fixed cost of a cold resolve, bundler vs uv vs pip
  build            bundle build from a warm artifact cache vs cp + sha256sum of the same files
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import platform
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from . import bundler_side as bs
from . import hostconf, inputs, peers, report
from .inputs import DebIndex
from .measure import Budget, Contender, Result, Run, alternate, ratio, skipped
from .peers import PyTarget

HERE = Path(__file__).resolve().parent
OPENSTACK_ROOTS = (
    "nova-api nova-compute neutron-server cinder-volume glance-api keystone openstack-dashboard heat-api placement-api"
).split()
# postfix and exim4-daemon-light both provide and conflict with mail-transport-agent.
UNSOLVABLE_ROOTS = ["keystone", "postfix", "exim4-daemon-light"]
SCALING = [10, 50, 100, 500, 1000, 2000]
POOL = 3000  # shuffled names offered to libsolv's weak install; the kept ones are the random roots
SEED = 20250520
CASES = [
    "startup", "index-load", "deb-openstack", "deb-unsolvable", "deb-random", "scaling", "py-airflow",
    "deb-check", "py-openstack", "build", "index-load-many", "deb-openstack-many", "py-small",
]  # fmt: skip


@dataclass
class Ctx:
    args: argparse.Namespace
    budget: Budget
    cache: Path
    work: Path
    quick: bool
    repeats: int
    fixture: dict | None
    main: list[DebIndex] = field(default_factory=list)
    many: list[DebIndex] = field(default_factory=list)
    py_index: str | None = None
    find_links: Path | None = None
    results: list[Result] = field(default_factory=list)
    answers: list[dict] = field(default_factory=list)
    scaling: list[dict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    setup_log: list[str] = field(default_factory=list)
    py_pages: dict | None = None
    roots_info: dict = field(default_factory=dict)
    startup: list[dict] = field(default_factory=list)  # benchmarks/startup.py: import profiles

    def reps(self, full: int, quick: int = 1) -> int:
        return self.args.repeats or (quick if self.quick else full)


def log(msg: str) -> None:
    print(msg, flush=True)


# --- setup ----------------------------------------------------------------------------------------


def setup_peers(ctx: Ctx) -> None:
    """Install the peers that are missing (apt: python3-solv, dose-distcheck; venv: uv, matplotlib)."""
    if ctx.fixture is not None or ctx.args.no_setup:
        ctx.setup_log.append("setup skipped (offline fixtures or --no-setup): absent peers are skipped")
        return
    want = []
    if not peers.system_modules().get("solv"):
        want.append("python3-solv")
    if not shutil.which("dose-distcheck"):
        want.append("dose-distcheck")
    if not shutil.which("installcheck"):
        want.append("libsolv-tools")
    if want and os.geteuid() == 0:
        log(f"setup: apt-get install -y {' '.join(want)}")
        proc = subprocess.run(["apt-get", "install", "-y", "-q", *want], capture_output=True, text=True)
        ctx.setup_log.append(f"apt-get install -y {' '.join(want)}: exit {proc.returncode}")
        peers._PROBE = None
    py_want = [m for m, mod in (("uv", None), ("matplotlib", "matplotlib")) if not _have(m, mod)]
    if py_want:
        log(f"setup: pip install {' '.join(py_want)}")
        proc = subprocess.run([sys.executable, "-m", "pip", "install", "-q", *py_want], capture_output=True, text=True)
        ctx.setup_log.append(f"pip install {' '.join(py_want)}: exit {proc.returncode}")


def _have(name: str, module: str | None) -> bool:
    if module is None:
        return peers.which(name) is not None
    import importlib.util

    return importlib.util.find_spec(module) is not None


def versions() -> dict[str, str]:
    def out(cmd: list[str]) -> str:
        try:
            p = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
            return (p.stdout or p.stderr).strip().splitlines()[0] if (p.stdout or p.stderr).strip() else "?"
        except (OSError, subprocess.TimeoutExpired):
            return "absent"

    v = {
        "apt": out(["apt-get", "--version"]),
        "dose-distcheck": out(["dose-distcheck", "--version"]),
        "uv": out([peers.which("uv") or "uv", "--version"]),
        "pip": out([sys.executable, "-m", "pip", "--version"]).split(" from ")[0],
        "python": sys.version.split()[0],
        "libsolv": out(["dpkg-query", "-W", "-f", "${Version}", "python3-solv"]),
        "bundler": out(["git", "-C", str(HERE.parent), "rev-parse", "--short", "HEAD"]) + " (git HEAD; tree has uncommitted work)",
    }
    return v


# --- inputs ---------------------------------------------------------------------------------------


def gather_inputs(ctx: Ctx) -> None:
    if ctx.fixture is not None:
        fx = ctx.fixture
        uri = (Path(fx["dir"]) / "debian").resolve().as_uri()
        for suite in fx["debian"]["suites"]:
            idx = inputs.fetch_debian(uri, suite, ctx.cache, log=log)
            (ctx.main if suite == fx["debian"]["suites"][0] else []).append(idx)
            ctx.many.append(idx)
        wheels = Path(fx["dir"]) / "wheels"
        ctx.find_links = wheels if wheels.is_dir() else None
        ctx.py_index = None
        return
    for suite in ("bookworm", "bookworm-updates", "bookworm-security"):
        src = hostconf.mirror_for(suite)
        if src is None:
            ctx.notes.append(f"the host's apt sources have no {suite}: left out")
            continue
        try:
            idx = inputs.fetch_debian(src.uri, suite, ctx.cache, signed_by=src.signed_by, log=log)
        except OSError as e:
            ctx.notes.append(f"{suite}: cannot fetch ({e}); left out")
            continue
        if idx.note:
            ctx.notes.append(f"{suite}: {idx.note}")
        if suite == "bookworm":
            ctx.main.append(idx)
        ctx.many.append(idx)
    ctx.py_index = hostconf.python_index(sys.executable)


def random_roots(ctx: Ctx, n: int) -> list[str]:
    """The first `n` of a fixed-seed shuffle of bookworm main that libsolv can install together."""
    pool = _root_pool(ctx)
    return pool[:n]


def _root_pool(ctx: Ctx) -> list[str]:
    if "pool" in ctx.roots_info:
        return ctx.roots_info["pool"]
    idx = ctx.main[0]
    cached = ctx.cache / f"roots-{SEED}-{idx.packages_sha256[:16]}.json"
    if cached.is_file():
        data = json.loads(cached.read_text())
    else:
        names = sorted({s["Package"] for s in inputs.stanzas(idx.packages_path)})
        random.Random(SEED).shuffle(names)
        names = names[:POOL]
        data = {"seed": SEED, "filter": "none (libsolv absent)", "pool": names}
        if peers.system_modules().get("solv"):
            run = peers.solv_solve(ctx.main, names, timeout=600, weak=True)
            if run.ok:
                data = {
                    "seed": SEED,
                    "filter": f"libsolv SOLVER_WEAK install of {len(names)} shuffled names: those it kept",
                    "pool": run.answer["installable"],
                }
        cached.write_text(json.dumps(data))
    ctx.roots_info = {"seed": data["seed"], "filter": data["filter"], "pool": data["pool"]}
    return data["pool"]


# --- Debian cases -----------------------------------------------------------------------------------


def _bundler_deb_contenders(ctx: Ctx, tag: str, indexes: list[DebIndex], roots: list[str]) -> list[Contender]:
    why = bs.missing("solve")
    spec = bs.deb_spec(ctx.work / f"{tag}.toml", indexes, roots)
    lock = ctx.work / f"{tag}.lock"
    cold_cache = ctx.work / f"{tag}-bundler-cold"
    warm_cache = ctx.work / f"{tag}-bundler-warm"

    def cold(t: float) -> Run:
        return bs.solve(spec, lock, cold_cache, t)

    def warm(t: float) -> Run:
        return bs.solve(spec, lock, warm_cache, t, offline=True)

    def prime() -> None:
        if not (warm_cache / ".primed").exists():
            r = bs.solve(spec, lock, warm_cache, ctx.budget.timeout(600))
            warm_cache.mkdir(parents=True, exist_ok=True)
            (warm_cache / ".primed").write_text(str(r.ok))

    return [
        Contender("bundler solve (cold cache)", "bundler", cold, lambda: shutil.rmtree(cold_cache, True), why),
        Contender("bundler solve (warm, --offline)", "bundler", warm, prime, why),
    ]


def _apt_contenders(ctx: Ctx, tag: str, indexes: list[DebIndex], roots: list[str], print_uris=False,
                    cap: float = 600) -> list:
    why = None if shutil.which("apt-get") else "apt-get not installed"
    if ctx.args.apt_repeats == 0:  # minutes per run from 500 roots on: left out when asked
        why = "not run (--apt-repeats 0)"
    root = peers.AptRoot(indexes, ctx.work / f"{tag}-apt") if not why else None
    out = [
        Contender("apt-get -s install (warm pkgcache)", "apt", lambda t: root.install(roots, t), None, why,
                  repeats=ctx.args.apt_repeats, cap=cap),
    ]  # fmt: skip
    if print_uris and not why:

        def uris(t: float) -> Run:
            cmd = ["apt-get", "-q", "-y", *root.options(), "--print-uris", "install", *roots]
            seconds, proc = peers.timed(cmd, env=root.env(), timeout=t)
            if proc is None:
                return Run(seconds, False, error="timeout")
            n = proc.stdout.count(b"\n'") + proc.stdout.startswith(b"'")
            return Run(seconds, True, answer={"solved": proc.returncode == 0, "count": n})

        out.append(Contender("apt-get --print-uris install (no dpkg simulation)", "apt", uris))
    return out


def _solv_contender(indexes: list[DebIndex], roots: list[str]) -> Contender:
    why = None if peers.system_modules().get("solv") else "python3-solv not importable by /usr/bin/python3"
    return Contender("libsolv (load + solve)", "libsolv", lambda t: peers.solv_solve(indexes, roots, t), None, why)


def deb_solve_case(ctx: Ctx, case: str, indexes: list[DebIndex], roots: list[str], expect: bool) -> None:
    if not indexes or not roots:
        ctx.results += skipped(case, [Contender("all", "-", lambda t: Run(0, False))], "no inputs for this case")
        return
    contenders = _bundler_deb_contenders(ctx, case, indexes, roots)
    contenders += _apt_contenders(ctx, case, indexes, roots, print_uris=case == "deb-openstack")
    contenders.append(_solv_contender(indexes, roots))
    results = alternate(case, contenders, ctx.reps(5, 1), ctx.budget, log=log)
    ctx.results += results
    ctx.answers.append(cross_check(ctx, case, indexes, roots, results, expect))


def cross_check(ctx: Ctx, case: str, indexes, roots, results: list[Result], expect: bool) -> dict:
    """Counts side by side, the differences named, and whether apt accepts bundler's set."""
    by_tool: dict[str, Result] = {}
    for r in results:
        if r.answer and r.tool not in by_tool and "print-uris" not in r.contender:
            by_tool[r.tool] = r
    entry: dict = {"case": case, "roots": len(roots), "expected_solvable": expect, "tools": {}}
    sets = {}
    for tool, r in by_tool.items():
        entry["tools"][tool] = {"solved": r.answer.get("solved"), "count": r.answer.get("count")}
        if r.answer.get("packages"):
            sets[tool] = {p.split("=")[0] for p in r.answer["packages"]}
    diffs = {}
    for a in ("bundler",):
        for b in ("apt", "libsolv"):
            if a in sets and b in sets:
                diffs[f"{a} vs {b}"] = {
                    f"only {a}": sorted(sets[a] - sets[b]),
                    f"only {b}": sorted(sets[b] - sets[a]),
                }
    if "apt" in sets and "libsolv" in sets:
        diffs["apt vs libsolv"] = {"only apt": sorted(sets["apt"] - sets["libsolv"]),
                                   "only libsolv": sorted(sets["libsolv"] - sets["apt"])}  # fmt: skip
    entry["differences"] = diffs
    b = by_tool.get("bundler")
    if b and b.answer.get("solved") and b.answer.get("packages") and shutil.which("apt-get"):
        root = peers.AptRoot(indexes, ctx.work / f"{case}-apt-accept")
        run = root.install(b.answer["packages"], ctx.budget.timeout(600))
        locked = set(b.answer["packages"])
        extra = sorted(set(run.answer.get("packages", [])) - locked)
        entry["apt_accepts_bundler_set"] = {
            "accepted": bool(run.answer.get("solved")) and not extra,
            "apt_solved": run.answer.get("solved"),
            "extra_packages_apt_adds": extra,
            "error": run.answer.get("error", ""),
        }
    return entry


def case_index_load(ctx: Ctx, case: str, indexes: list[DebIndex]) -> None:
    if not indexes:
        return
    spec = bs.deb_spec(ctx.work / f"{case}.toml", indexes, ["base-files"])
    cold_cache, warm_cache = ctx.work / f"{case}-cold", ctx.work / f"{case}-warm"
    why = bs.load_missing()
    sysmods = peers.system_modules()

    def prime() -> None:
        if not warm_cache.exists():
            bs.load(spec, warm_cache, ctx.budget.timeout(600))

    contenders = [
        Contender("bundler load_debian (cold cache)", "bundler", lambda t: bs.load(spec, cold_cache, t),
                  lambda: shutil.rmtree(cold_cache, True), why),
        Contender("bundler load_debian (warm cache)", "bundler", lambda t: bs.load(spec, warm_cache, t), prime, why),
        Contender("apt_pkg.TagFile iteration", "apt_pkg", lambda t: peers.tagfile_load(indexes, t), None,
                  None if sysmods.get("apt_pkg") else "python3-apt not importable by /usr/bin/python3"),
        Contender("libsolv repo.add_debpackages", "libsolv", lambda t: peers.solv_load(indexes, t), None,
                  None if sysmods.get("solv") else "python3-solv not importable by /usr/bin/python3"),
    ]  # fmt: skip
    ctx.results += alternate(case, contenders, ctx.reps(5, 2), ctx.budget, log=log)


def case_check(ctx: Ctx) -> None:
    case = "deb-check"
    indexes = ctx.main
    spec = bs.deb_spec(ctx.work / f"{case}.toml", indexes, ["base-files"])
    warm = ctx.work / f"{case}-bundler"
    contenders = [
        Contender("bundler check", "bundler", lambda t: bs.check(spec, warm, t), None,
                  bs.missing("check") and "not implemented (`bundler check` does not exist yet)"),
        Contender("dose-distcheck", "dose", lambda t: peers.dose_check(indexes, t), None,
                  None if shutil.which("dose-distcheck") else "dose-distcheck not installed"),
        Contender("libsolv installcheck", "libsolv", lambda t: peers.installcheck(indexes, t), None,
                  None if shutil.which("installcheck") else "installcheck not installed (libsolv-tools)"),
    ]  # fmt: skip
    results = alternate(case, contenders, ctx.reps(3, 1), ctx.budget, log=log)
    ctx.results += results
    entry = {"case": case, "tools": {}}
    for r in results:
        if r.answer:
            entry["tools"][r.tool] = {"total": r.answer.get("total"), "broken": r.answer.get("broken"),
                                      "broken_packages": r.answer.get("broken_packages", [])[:40]}  # fmt: skip
    ctx.answers.append(entry)


def case_scaling(ctx: Ctx) -> None:
    pool = _root_pool(ctx)
    sizes = sorted({min(n, len(pool)) for n in (SCALING if not ctx.quick else [10, 100, 500])})
    for n in sizes:
        if ctx.budget.remaining() < (2 if ctx.fixture else 30):
            ctx.notes.append(f"scaling: stopped before {n} roots (budget)")
            break
        roots = pool[:n]
        case = f"scaling-{n}"
        contenders = _bundler_deb_contenders(ctx, case, ctx.main, roots)[1:]  # warm only
        # apt-get -s takes minutes from 500 roots on (its simulated dpkg run): capped, so that a slow
        # point costs at most 4 minutes of the budget ("failed: timeout" says apt took longer).
        contenders += _apt_contenders(ctx, case, ctx.main, roots, cap=240)
        contenders.append(_solv_contender(ctx.main, roots))
        results = alternate(case, contenders, ctx.reps(3, 1), ctx.budget, log=log)
        ctx.results += results
        for r in results:
            ctx.scaling.append({"roots": n, "tool": r.tool, "contender": r.contender, "median_s": r.median,
                                "solved": r.answer.get("solved"), "count": r.answer.get("count"),
                                "internal_s": r.internal})  # fmt: skip


# --- Python cases -----------------------------------------------------------------------------------

PY_BUNDLER_COLD = "bundler solve (cold cache)"
PY_BUNDLER_WARM = "bundler solve (warm, --offline)"
PY_BUNDLER_REVALIDATING = "bundler solve (warm, revalidating)"
PY_BUNDLER_FASTPATH = "bundler solve (warm, --offline, lock up to date: the lock fast path, nothing resolved)"
PY_UV_COLD = "uv pip compile (cold cache)"
PY_UV_WARM = "uv pip compile (warm, --offline)"
PY_UV_REVALIDATING = "uv pip compile (warm, revalidating)"
# The pairs the Python cases are judged by, each like for like, plus one that is not: the issue that set
# the targets quotes uv "warm" at ~1.35 s for the airflow set, which fits uv's default second run (it
# asks the index again about every cached project page; only `--offline` skips that: ~0.15 s here), so
# bundler's `--offline` run is also set against that run, labelled as not like for like.
PY_RATIOS = [
    ("bundler cold / uv cold", PY_BUNDLER_COLD, PY_UV_COLD),
    ("bundler warm --offline / uv warm --offline", PY_BUNDLER_WARM, PY_UV_WARM),
    ("bundler warm revalidating / uv warm revalidating", PY_BUNDLER_REVALIDATING, PY_UV_REVALIDATING),
    ("bundler warm --offline / uv warm revalidating (not like for like: uv's default second run)",
     PY_BUNDLER_WARM, PY_UV_REVALIDATING),
    ("bundler lock fast path / uv warm --offline (not like for like: bundler verifies its lock, uv resolves)",
     PY_BUNDLER_FASTPATH, PY_UV_WARM),
]  # fmt: skip


def py_ratios(results: list[Result]) -> list[dict]:
    """PY_RATIOS with the medians behind them; a ratio is None when either side has no figure."""
    by_name = {r.contender: r for r in results}
    out = []
    for label, bundler_name, peer_name in PY_RATIOS:
        b, p = by_name.get(bundler_name), by_name.get(peer_name)
        r = ratio(b, p) if b and p else None
        out.append({"pair": label, "bundler": bundler_name, "peer": peer_name,
                    "bundler_median_s": _round(b.median if b else None),
                    "peer_median_s": _round(p.median if p else None), "ratio": _round(r)})  # fmt: skip
    return out


def _round(x: float | None) -> float | None:
    return None if x is None else round(x, 4)


def py_case(ctx: Ctx, case: str, target: PyTarget) -> None:
    offline = ctx.fixture is not None
    spec = bs.py_spec(ctx.work / f"{case}.toml", target)
    lock = ctx.work / f"{case}.lock"
    b_cold, b_warm = ctx.work / f"{case}-bundler-cold", ctx.work / f"{case}-bundler-warm"
    uv_cold, uv_warm = ctx.work / f"{case}-uv-cold", ctx.cache / "uv-warm"
    pip_cold, pip_warm = ctx.work / f"{case}-pip-cold", ctx.cache / "pip-warm"
    why_b = bs.missing("solve")
    why_uv = None if peers.which("uv") else "uv not installed"
    cap = 300 if ctx.quick else 900

    def primer(kind: str):
        def prime() -> None:
            flag = ctx.work / f"{case}-{kind}.primed"
            if flag.exists():
                return
            t = ctx.budget.timeout(cap)
            if kind == "bundler":
                bs.solve(spec, lock, b_warm, t)
            elif kind == "uv":
                peers.uv_compile(target, uv_warm, t, offline=offline)
            else:
                peers.pip_dry_run(target, pip_warm, t)
            flag.write_text("")

        return prime

    fast_lock = ctx.work / f"{case}-fast-path.lock"

    def prime_fast_path() -> None:
        primer("bundler")()
        if not fast_lock.exists():
            bs.solve(spec, fast_lock, b_warm, ctx.budget.timeout(cap), offline=True)

    # The revalidating runs share the warm caches of the `--offline` ones: they may refresh them, and
    # the `--offline` runs still find every page there.
    contenders = [
        Contender(PY_BUNDLER_COLD, "bundler", lambda t: bs.solve(spec, lock, b_cold, t, offline=offline),
                  lambda: shutil.rmtree(b_cold, True), why_b, repeats=ctx.reps(3, 1), cap=cap),
        Contender(PY_BUNDLER_WARM, "bundler", lambda t: bs.solve(spec, lock, b_warm, t, offline=True),
                  primer("bundler"), why_b, cap=cap),
        Contender(PY_BUNDLER_REVALIDATING, "bundler", lambda t: bs.solve(spec, lock, b_warm, t),
                  primer("bundler"), why_b, cap=cap),
        # An unchanged re-solve over the warm cache: its own lock, written once by a full --offline solve.
        Contender(PY_BUNDLER_FASTPATH, "bundler", lambda t: bs.solve(spec, fast_lock, b_warm, t, True, True),
                  prime_fast_path, why_b, cap=cap),
        Contender(PY_UV_COLD, "uv", lambda t: peers.uv_compile(target, uv_cold, t, offline),
                  lambda: shutil.rmtree(uv_cold, True), why_uv, repeats=ctx.reps(3, 1), cap=cap),
        Contender(PY_UV_WARM, "uv", lambda t: peers.uv_compile(target, uv_warm, t, True),
                  primer("uv"), why_uv, cap=cap),
        Contender(PY_UV_REVALIDATING, "uv", lambda t: peers.uv_compile(target, uv_warm, t, offline=False),
                  primer("uv"), why_uv, cap=cap),
        Contender("pip install --dry-run --report (cold cache)", "pip",
                  lambda t: peers.pip_dry_run(target, pip_cold, t), lambda: shutil.rmtree(pip_cold, True),
                  None, repeats=ctx.reps(2, 1), cap=cap),
    ]  # fmt: skip
    if not ctx.quick:
        contenders.append(Contender("pip install --dry-run --report (warm cache)", "pip",
                                    lambda t: peers.pip_dry_run(target, pip_warm, t), primer("pip"),
                                    None, repeats=ctx.reps(2, 1), cap=cap))  # fmt: skip
    results = alternate(case, contenders, ctx.reps(5, 1), ctx.budget, log=log)
    ctx.results += results
    entry: dict = {"case": case, "tools": {}, "differences": {}, "ratios": py_ratios(results)}
    sets = {}
    for r in results:
        if r.answer and r.tool not in entry["tools"]:
            entry["tools"][r.tool] = {"solved": r.answer.get("solved"), "count": r.answer.get("count"),
                                      "error": r.answer.get("error", "")}  # fmt: skip
            if r.answer.get("packages"):
                sets[r.tool] = set(r.answer["packages"])
    for b in ("uv", "pip"):
        if "bundler" in sets and b in sets:
            entry["differences"][f"bundler vs {b}"] = {
                "only bundler": sorted(sets["bundler"] - sets[b])[:60], f"only {b}": sorted(sets[b] - sets["bundler"])[:60]
            }
    if "uv" in sets and "pip" in sets:
        entry["differences"]["uv vs pip"] = {"only uv": sorted(sets["uv"] - sets["pip"])[:60],
                                             "only pip": sorted(sets["pip"] - sets["uv"])[:60]}  # fmt: skip
    entry["names"] = sorted({p.split("==")[0] for s in sets.values() for p in s})
    ctx.answers.append(entry)


def openstack_target(ctx: Ctx) -> PyTarget:
    data = HERE / "data" / "openstack"
    exclude = {
        inputs.normalize(line.split("#")[0].strip())
        for line in (data / "exclude.txt").read_text().splitlines()
        if line.split("#")[0].strip()
    }
    kept = []
    for line in (data / "global-requirements-2026.1.txt").read_text().splitlines():
        m = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", line)
        if m and inputs.normalize(m.group(1)) in exclude:
            continue
        kept.append(line)
    req = ctx.work / "openstack-requirements.txt"
    req.write_text("\n".join(kept) + "\n")
    # uv builds salt's sdist and its build reports no requirements; bundler runs no code, so the same
    # metadata is stated (its egg-info, written elsewhere, says cryptography<43 against the pin 43.0.3).
    metadata = (data / "dependency-metadata.toml").read_text()
    return PyTarget(req, data / "upper-constraints-2026.1.txt", ctx.py_index, bundler_extra=metadata)


# --- start-up ---------------------------------------------------------------------------------------


def case_startup(ctx: Ctx) -> None:
    """Whole-process wall time of the start-up commands next to their floors, and their import profile."""
    from . import startup

    ctx.results += alternate("startup", startup.contenders(ctx.work), ctx.reps(10, 5), ctx.budget, log=log)
    ctx.startup = startup.profiles(ctx.work, repeats=1 if ctx.quick else 3)


# --- build ------------------------------------------------------------------------------------------


def case_build(ctx: Ctx) -> None:
    case = "build"
    roots = ctx.fixture["debian"]["roots"] if ctx.fixture else ["keystone"]
    why = bs.missing("build") or bs.missing("solve")
    spec = bs.deb_spec(ctx.work / f"{case}.toml", ctx.main, roots)
    lock = ctx.work / f"{case}.lock"
    files: list[Path] = []
    if not why:
        run = bs.solve(spec, lock, ctx.work / f"{case}-idx", ctx.budget.timeout(600))
        if not run.ok or not run.answer.get("solved"):
            why = f"bundler solve of {roots} failed: {run.error or run.answer.get('error')}"
    if not why:
        pkgs = [p for p in bs.read_lock(lock) if p.ecosystem == "deb"]
        idx = ctx.main[0]
        got = inputs.fetch_pool_files(idx, [p.filename for p in pkgs], log=log)
        ctx.notes.append(f"build: copied {got} bytes of .deb files for {roots} into the cache")
        files = [Path(idx.local_root) / p.filename for p in pkgs]
        missing = [f for f in files if not f.is_file()]
        if missing:
            why = f"{len(missing)} artifacts not in the cache (e.g. {missing[0]})"
    art_cache = ctx.work / f"{case}-artifacts"
    out_b, out_cp = ctx.work / f"{case}-out", ctx.work / f"{case}-cp"

    def prime() -> None:
        if not (art_cache / ".primed").exists():
            bs.build(lock, out_b, art_cache, ctx.budget.timeout(900))
            art_cache.mkdir(parents=True, exist_ok=True)
            (art_cache / ".primed").write_text("")

    contenders = [
        Contender("bundler build (warm artifact cache)", "bundler", lambda t: bs.build(lock, out_b, art_cache, t),
                  prime, why),
        Contender("cp + sha256sum of the same files", "cp", lambda t: peers.cp_sha256(files, out_cp, t), None,
                  None if files else (why or "no files")),
    ]  # fmt: skip
    ctx.results += alternate(case, contenders, ctx.reps(5, 1), ctx.budget, log=log)
    # A hotfix of the same lock: about 5% of its .debs moved (bundler delta), against the whole build.
    old = ctx.work / f"{case}-old.lock"
    why_delta = why or bs.missing("delta")
    if not why_delta:
        moved = bs.older_lock(lock, old)
        ctx.notes.append(f"build-delta: {moved} of {len(files)} .debs changed since the older lock")
    out_d = ctx.work / f"{case}-delta"
    contenders = [
        Contender("bundler delta (5% of the .debs changed)", "bundler",
                  lambda t: bs.delta(old, lock, out_d, art_cache, t), prime, why_delta),
        Contender("bundler build of the whole lock", "bundler build", lambda t: bs.build(lock, out_b, art_cache, t),
                  prime, why),
    ]  # fmt: skip
    ctx.results += alternate(f"{case}-delta", contenders, ctx.reps(5, 1), ctx.budget, log=log)


# --- main ---------------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    p.add_argument("--quick", action="store_true", help="fewer runs and cases sized for <= 5 minutes")
    p.add_argument("--budget", type=float, default=None, help="wall-clock budget in seconds (default 1200, quick 300)")
    p.add_argument("--only", default="", help="comma-separated case names (see above)")
    p.add_argument("--offline-fixtures", type=Path, default=None,
                   help="DIR with debian/ (a repository), wheels/ and fixture.json: no network at all")  # fmt: skip
    p.add_argument("--repeats", type=int, default=None, help="runs per contender (overrides the defaults)")
    p.add_argument("--apt-repeats", type=int, default=None,
                   help="runs of apt-get -s (minutes each at 500+ roots; default: as --repeats; 0: not run)")  # fmt: skip
    p.add_argument("--cache-dir", type=Path, default=HERE / "cache")
    p.add_argument("--results-dir", type=Path, default=HERE / "results")
    p.add_argument("--no-setup", action="store_true", help="do not install missing peers")
    p.add_argument("--keep-work", action="store_true", help="keep the scratch directory (for benchmarks.alternate)")
    return p.parse_args(argv)


def byte_compile_bundler(root: Path = HERE.parent) -> None:
    """Write the .pyc files of bundler's own modules (of the tree at `root`), as installing its wheel does.

    An editable install under PYTHONDONTWRITEBYTECODE (set on some machines) would otherwise compile
    every module from source in every timed run: 60 to 100 ms that no installed copy pays, and that
    the peers (native binaries, or Debian's byte-compiled python3-apt and python3-solv) do not pay.
    """
    for package in ("solver", "repos", "bundler"):
        compileall.compile_dir(str(root / package), quiet=1)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    budget = Budget(args.budget or (300 if args.quick else 1200))
    only = [c.strip() for c in args.only.split(",") if c.strip()]
    unknown = [c for c in only if c not in CASES]
    if unknown:
        print(f"unknown case(s): {', '.join(unknown)}; known: {', '.join(CASES)}", file=sys.stderr)
        return 2
    fixture = None
    if args.offline_fixtures:
        fixture = json.loads((args.offline_fixtures / "fixture.json").read_text())
        fixture["dir"] = str(args.offline_fixtures.resolve())
    args.cache_dir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="bundler-bench-"))
    ctx = Ctx(args, budget, args.cache_dir.resolve(), work, args.quick, args.repeats or 0, fixture)
    started = datetime.now(UTC)
    load_before = os.getloadavg()
    try:
        byte_compile_bundler()
        setup_peers(ctx)
        if any(name != "startup" for name in only or CASES):  # the start-up case reads no index
            gather_inputs(ctx)
        run_cases(ctx, only or CASES)
        if ctx.fixture is None and ctx.py_index:
            names = sorted({n for a in ctx.answers if a["case"].startswith("py-") for n in a.get("names", [])})
            if names:
                ctx.py_pages = inputs.record_pages(ctx.py_index, names, ctx.cache).to_json()
        elif ctx.find_links:
            ctx.py_pages = {"index": f"find-links {ctx.find_links}", "page_count": len(list(ctx.find_links.iterdir()))}
    finally:
        if not args.keep_work:
            shutil.rmtree(work, ignore_errors=True)
        else:  # for python -m benchmarks.alternate
            print(f"work directory kept: {work}", file=sys.stderr)
    meta = {
        "started": started.isoformat(timespec="seconds"),
        "finished": datetime.now(UTC).isoformat(timespec="seconds"),
        "mode": ("quick" if args.quick else "full") + (" (offline fixtures)" if fixture else ""),
        "budget_s": budget.total,
        "used_s": round(budget.total - budget.remaining(), 1),
        "host": f"{platform.node()} {platform.machine()} {os.cpu_count()} cpus",
        "loadavg_start": [round(x, 2) for x in load_before],
        "loadavg_end": [round(x, 2) for x in os.getloadavg()],
        "versions": versions(),
        "command": "python -m benchmarks " + " ".join(argv if argv is not None else sys.argv[1:]),
    }
    data = {
        "meta": meta,
        "inputs": {
            "debian": [i.to_json() for i in ctx.many],
            "python": ctx.py_pages or {"index": ctx.py_index or "-"},
            "random_roots": {k: v for k, v in ctx.roots_info.items() if k != "pool"}
            | ({"pool_size": len(ctx.roots_info["pool"])} if "pool" in ctx.roots_info else {}),
        },
        "setup": ctx.setup_log,
        "results": [r.to_json() for r in ctx.results],
        "answers": ctx.answers,
        "scaling": ctx.scaling,
        "notes": ctx.notes,
        "startup": ctx.startup,
    }
    text = report.write(data, args.results_dir, started)
    print(text)
    return 0


def run_cases(ctx: Ctx, names: list[str]) -> None:
    fx = ctx.fixture
    deb_roots = fx["debian"]["roots"] if fx else OPENSTACK_ROOTS
    bad_roots = fx["debian"]["unsolvable"] if fx else UNSOLVABLE_ROOTS
    for name in CASES:
        if name not in names:
            continue
        if ctx.budget.remaining() < 5:
            ctx.results.append(Result(name, "all", "-", "skipped (budget)", note="budget exhausted"))
            continue
        log(f"== {name} ({ctx.budget.remaining():.0f}s left)")
        t0 = time.monotonic()
        try:
            if name == "startup":
                case_startup(ctx)
            elif name == "index-load":
                case_index_load(ctx, name, ctx.main)
            elif name == "index-load-many":
                case_index_load(ctx, name, ctx.many)
            elif name == "deb-openstack":
                deb_solve_case(ctx, name, ctx.main, deb_roots, True)
            elif name == "deb-openstack-many":
                deb_solve_case(ctx, name, ctx.many, deb_roots, True)
            elif name == "deb-unsolvable":
                deb_solve_case(ctx, name, ctx.main, bad_roots, False)
            elif name == "deb-random":
                n = 100 if ctx.quick else 500
                deb_solve_case(ctx, name, ctx.main, random_roots(ctx, n), True)
            elif name == "deb-check":
                case_check(ctx)
            elif name == "scaling":
                case_scaling(ctx)
            elif name == "py-airflow":
                reqs = Path(fx["python"]["requirements"]) if fx else HERE / "data" / "airflow.txt"
                if fx and not reqs.is_absolute():
                    reqs = Path(fx["dir"]) / reqs
                py_case(ctx, name, PyTarget(reqs, None, ctx.py_index, ctx.find_links))
            elif name == "py-openstack":
                if fx:
                    ctx.notes.append("py-openstack: not run on offline fixtures")
                    continue
                py_case(ctx, name, openstack_target(ctx))
            elif name == "py-small":
                if fx:
                    ctx.notes.append("py-small: not run on offline fixtures")
                    continue
                py_case(ctx, name, PyTarget(HERE / "data" / "small.txt", None, ctx.py_index))
            elif name == "build":
                case_build(ctx)
        except Exception as e:  # one broken case must not lose the others' figures
            import traceback

            traceback.print_exc()
            ctx.results.append(Result(name, "harness", "-", "failed", note=f"{type(e).__name__}: {e}"))
        log(f"   {name}: {time.monotonic() - t0:.1f}s")
