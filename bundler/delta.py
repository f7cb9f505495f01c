"""Hotfix (delta) bundles: what changed between two locks of one bundle, shipped as an overlay.

    plan = plan_delta(old_lock, new_lock)           # checks lineage, finds what to ship, and why
    report, plan = build_delta(old_lock, new_lock, OUT)

The design (README, "Hotfix bundles and the upgrade proof"). apt fetches a package's `Filename`
relative to the source whose Packages file listed it, so a delta cannot list the whole NEW set while
its pool holds only the new files. Instead the delta is an *overlay*, as Debian's `<suite>-updates`
is over `<suite>` (https://wiki.debian.org/StableUpdates):

    debian/dists/<suite>-updates/...   Packages list only the new and changed .debs, all in its pool
    python/simple/, python/files/      PEP 503/691/658 pages of only the new and changed files

The machine keeps the base bundle as its source and adds the delta beside it; both have apt's default
priority, so apt installs the higher version (Debian policy 5.6.12 ordering), and pip merges the
candidates of `--index-url BASE --extra-index-url DELTA` and takes the best. The union holds every
package of NEW at NEW's version because a delta may only move versions up: a downgrade (which
neither apt nor pip would pick) or a rebuild under the same version (which apt could not tell from
the base's) is refused. A package NEW dropped is not in the delta; apt and pip leave it installed.
`bundle.lock` in the delta is the whole NEW lock and `base.lock` the OLD lock it applies to.

Lineage: OLD and NEW must be locks of the same bundle: the same `[bundle] name` and `suite` (the
base's sources line and the delta's suite derive from it), the same Debian architectures and the
same Python target (`python-version`, `platforms`), and NEW's epoch must not be before OLD's. The
spec's digest is not compared: a hotfix changes the spec (a new fix or veto) by nature.

Why each package changed comes from the lock where it can tell: `fixed = true` (a fix of the spec),
the other binaries of a fixed source package, a package first needed by a fixed one, and, given the
spec (`bundler solve --since`), the vetoes that exclude the old version: the spec's own and those its
`[audit]` made from advisories (their reasons name the advisory ids). `advisories_of` is the hook for
advisory ids once a lock carries them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from bundler.lock import Lock, LockedPackage, dumps
from solver.errors import InputError

if TYPE_CHECKING:
    from bundler.build import BuildReport
    from bundler.spec import Veto

UPDATES = "-updates"  # the delta's Debian suite is the base's suite + this


@dataclass(frozen=True, slots=True)
class DeltaChange:
    id: str  # deb:name:arch, or python:<normalized name>
    old: str | None  # None: added
    new: str | None  # None: dropped by NEW
    reasons: tuple[str, ...] = ()

    @property
    def kind(self) -> str:
        return "added" if self.old is None else "dropped" if self.new is None else "changed"


@dataclass(frozen=True, slots=True)
class DeltaPlan:
    old: Lock
    new: Lock
    ship: tuple[LockedPackage, ...]  # the artifacts the delta holds
    changes: tuple[DeltaChange, ...]  # sorted by id

    @property
    def suite(self) -> str:
        return self.new.suite + UPDATES


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _key(p: LockedPackage) -> str:
    return p.id if p.ecosystem == "deb" else f"python:{_norm(p.name)}"


def _versions(lock: Lock) -> dict[str, str]:
    out: dict[str, str] = {}
    for p in lock.packages:
        out.setdefault(_key(p), p.version)
    return out


def _cmp(ecosystem: str, a: str, b: str) -> int:
    if ecosystem == "deb":
        from solver.debversion import compare

        return compare(a, b)
    from packaging.version import InvalidVersion, Version

    try:
        va, vb = Version(a), Version(b)
    except InvalidVersion:
        return (a > b) - (a < b)
    return (va > vb) - (va < vb)


def _archs(lock: Lock) -> list[str]:
    from bundler.build import _target_archs

    return sorted(_target_archs(lock))


def check_lineage(old: Lock, new: Lock, old_where: str = "OLD", new_where: str = "NEW") -> None:
    """Raise InputError unless NEW can follow OLD as an update of the same bundle (module docstring)."""
    same = "a hotfix goes between two locks of one bundle (same [bundle] name, suite and targets)"
    if old.name != new.name:
        raise InputError(f"bundle {new.name!r} is not {old.name!r} of {old_where}; {same}", where=new_where)
    if old.suite != new.suite:
        raise InputError(f"suite {new.suite!r} is not {old.suite!r} of {old_where}; {same}", where=new_where)
    for key in ("python-version", "platforms"):
        a, b = old.extra.get(key), new.extra.get(key)
        if a is not None and b is not None and a != b:
            raise InputError(f"{key} {b!r} is not {a!r} of {old_where}; {same}", where=new_where)
    if _archs(old) and _archs(new) and _archs(old) != _archs(new):
        raise InputError(f"architectures {_archs(new)} are not {_archs(old)} of {old_where}; {same}", where=new_where)
    if old.epoch is not None and new.epoch is not None and new.epoch < old.epoch:
        raise InputError(
            f"is older than {old_where}: its epoch {new.epoch} is before {old.epoch}", where=new_where,
            hint="give the older lock first: bundler delta OLD NEW OUT",
        )  # fmt: skip


def advisories_of(p: LockedPackage) -> tuple[str, ...]:
    """Advisory ids (CVE-…, DSA-…) the lock records for `p`. The hook for locks that will carry them
    (an `advisories` list in the package's table); today's LockedPackage has none."""
    return tuple(getattr(p, "advisories", ()) or ())


def _vetoed(ecosystem: str, name: str, version: str, vetoes: Iterable[tuple[str, Veto]]) -> list[str]:
    out = []
    for eco, v in vetoes:
        if eco != ecosystem:
            continue
        if ecosystem == "deb":
            from solver.deb.problem import parse_veto

            dv = parse_veto(v.package, v.version, v.reason)
            hit = dv.package == name and (dv.op is None or _satisfies(version, dv.op, dv.version))
        else:
            from packaging.specifiers import InvalidSpecifier, SpecifierSet

            try:
                spec = SpecifierSet(v.version or "")
            except InvalidSpecifier:
                continue
            hit = _norm(v.package) == _norm(name) and spec.contains(version, prereleases=True)
        if hit:
            where = f" ({v.version})" if v.version else ""
            out.append(f"veto {v.package}{where}: {v.reason}")
    return out


def _satisfies(version: str, op: str, wanted: str | None) -> bool:
    from solver.debversion import satisfies

    return satisfies(version, op, wanted)


def _reasons(
    p: LockedPackage, old_version: str | None, new: Lock, vetoes: Sequence[tuple[str, Veto]]
) -> tuple[str, ...]:
    out: list[str] = []
    if p.fixed:
        out.append("fix")
    fixed = [f for f in new.packages if f.fixed and f is not p]
    if p.ecosystem == "deb" and not p.fixed:
        for f in fixed:
            if f.ecosystem == "deb" and p.source and f.source == p.source and f.source_version == p.source_version:
                out.append(f"same source as the fix of {f.name} ({p.source} {p.source_version})")
                break
    if old_version is None and not out:
        # First needed by a fix: reachable from a fixed package through the lock's dependency edges.
        by_id = {q.id: q for q in new.packages}
        for f in sorted(fixed, key=lambda f: f.id):
            seen, todo = {f.id}, list(f.depends)
            while todo:
                d = todo.pop()
                if d in seen:
                    continue
                seen.add(d)
                todo.extend(by_id[d].depends if d in by_id else ())
            if p.id in seen:
                out.append(f"needed by the fix of {f.name}")
                break
    if old_version is not None:
        out.extend(_vetoed(p.ecosystem, p.name, old_version, vetoes))
    out.extend(f"advisory {a}" for a in advisories_of(p))
    return tuple(out)


def plan_delta(
    old: Lock,
    new: Lock,
    *,
    vetoes: Sequence[tuple[str, Veto]] = (),
    old_where: str = "OLD",
    new_where: str = "NEW",
) -> DeltaPlan:
    """What the delta from OLD to NEW ships, and why each package changed; InputError when NEW cannot
    follow OLD (lineage, a downgrade, a rebuild under the same version, no change at all).
    `vetoes`: (ecosystem "deb" | "python", the spec's veto), to name the veto that moved a package."""
    check_lineage(old, new, old_where, new_where)
    old_v, new_v = _versions(old), _versions(new)
    old_files = {(p.ecosystem, p.filename if p.ecosystem == "python" else p.id, p.version): p for p in old.packages}
    ship: list[LockedPackage] = []
    first: dict[str, LockedPackage] = {}
    for p in sorted(new.packages, key=lambda p: (_key(p), p.filename)):
        key = _key(p)
        was = old_v.get(key)
        if was is not None and was != p.version and _cmp(p.ecosystem, p.version, was) < 0:
            raise InputError(
                f"{key} goes down from {was} to {p.version}: apt and pip keep the higher version of the "
                "base bundle, so a hotfix bundle cannot carry a downgrade", where=new_where,
            )  # fmt: skip
        twin = old_files.get((p.ecosystem, p.filename if p.ecosystem == "python" else p.id, p.version))
        if twin is not None:
            if twin.sha256 != p.sha256:
                raise InputError(
                    f"{key} {p.version}: its file differs from OLD's under the same version; apt and pip "
                    "could not tell the two apart (give the rebuild a new version)", where=new_where,
                )  # fmt: skip
            continue
        ship.append(p)
        first.setdefault(key, p)
    changes = [
        DeltaChange(k, old_v.get(k), new_v.get(k), _reasons(first[k], old_v.get(k), new, vetoes) if k in first else ())
        for k in sorted(old_v.keys() | new_v.keys())
        if k in first or k not in new_v
    ]
    if not ship:
        raise InputError(f"holds no new or changed package since {old_where}: no hotfix to build", where=new_where)
    return DeltaPlan(old, new, tuple(ship), tuple(changes))


def delta_readme(plan: DeltaPlan, *, signed: bool = False) -> str:
    """The delta's README: what it fixes (each change, old → new, and why) and how to use it."""
    new = plan.new
    debs = [p for p in plan.ship if p.ecosystem == "deb"]
    pys = [p for p in plan.ship if p.ecosystem == "python"]
    comps = " ".join(sorted({p.component for p in debs})) or "main"
    base_comps = " ".join(sorted({p.component for p in plan.old.packages if p.ecosystem == "deb"})) or "main"
    title = f"Hotfix bundle for {new.name!r}"
    out = [
        title,
        "=" * len(title),
        "",
        "This directory holds only what changed since the base bundle whose lock is base.lock; with that",
        "bundle it gives the whole set of bundle.lock. Keep the base bundle as a source and add this one",
        "beside it: apt and pip then install the higher version of each package. /BASE stands for the",
        "mounted base bundle, /MOUNT for this one.",
        "",
        "Check it first:",
        "",
        "    cd /MOUNT && sha256sum -c SHA256SUMS",
        "",
        "What it changes (base -> this update, and why, as far as the locks tell):",
        "",
    ]
    for c in plan.changes:
        mark = {"added": "+", "dropped": "-", "changed": "~"}[c.kind]
        why = "; ".join(c.reasons) if c.reasons else ""
        if c.kind == "dropped":
            why = "no longer in the set; apt and pip leave it installed"
        line = f"  {mark} {c.id} {c.old or '(new)'} -> {c.new or '(dropped)'}"
        out.append(line + (f"   [{why}]" if why else ""))
    fixes = sorted(f"{p.name} {p.version}" for p in new.packages if p.fixed)
    if fixes:
        out += ["", "Fixes in force (fixed = true in bundle.lock): " + ", ".join(fixes)]
    out.append("")
    opt = "signed-by=/etc/apt/keyrings/bundle.gpg" if signed else "trusted=yes"
    if debs:
        out += [
            "Debian packages (apt)",
            "---------------------",
            "",
            "/etc/apt/sources.list.d/bundle.list, the base bundle's line (as its README says) and this one's",
            "(each line is copied as it is):",
            "",
            f"    deb [{opt}] file:/BASE/debian {new.suite} {base_comps}",
            f"    deb [{opt}] file:/MOUNT/debian {plan.suite} {comps}",
            "",
            "Then:",
            "",
            "    apt-get update",
            "    apt-get dist-upgrade",
            "",
            f"This bundle's Packages list only the {len(debs)} new or changed .deb(s), all in its own pool: apt",
            "fetches a package from the source that listed it. A machine that has every package of the base",
            "it needs installed can upgrade from this bundle alone; a new install needs the base too.",
            "",
        ]
    if pys:
        pins = " ".join(sorted({f"{p.name}=={p.version}" for p in pys}))
        out += [
            "Python packages (pip, uv)",
            "-------------------------",
            "",
            "    pip install --upgrade --index-url file:///BASE/python/simple \\",
            f"        --extra-index-url file:///MOUNT/python/simple {pins}",
            "",
            "(uv reads --extra-index-url first, pip merges both: either takes this bundle's files.)",
            "or, from this bundle's files directory:",
            "",
            "    pip install --upgrade --index-url file:///BASE/python/simple \\",
            f"        --find-links /MOUNT/python/files {pins}",
            "",
        ]
    out += [
        "Prove the upgrade before shipping it (apt-get -s dist-upgrade and pip over the locked sets):",
        "",
        "    bundler upgrade-check /MOUNT/base.lock /MOUNT/bundle.lock --old-bundle /BASE --delta /MOUNT",
        "",
    ]
    return "\n".join(out)


def build_delta(
    old: Lock,
    new: Lock,
    out: Path,
    *,
    vetoes: Sequence[tuple[str, Veto]] = (),
    old_where: str = "OLD",
    new_where: str = "NEW",
    **build_options: object,
) -> tuple[BuildReport, DeltaPlan]:
    """Write the hotfix bundle from OLD to NEW at `out` with bundler.build's writer (atomic and
    reproducible as a full bundle); `build_options` are build_bundle's (cache_dir, epoch, archive, ...)."""
    from bundler.build import Overlay, build_bundle

    plan = plan_delta(old, new, vetoes=vetoes, old_where=old_where, new_where=new_where)
    overlay = Overlay(
        ship=plan.ship,
        suite=plan.suite,
        readme=delta_readme(plan, signed=bool(build_options.get("sign_key"))),
        files=(("base.lock", dumps(old).encode("utf-8")),),
        description=f"hotfix bundle {new.name}",
        name=new.name + UPDATES,
    )
    report = build_bundle(new, out, overlay=overlay, **build_options)  # type: ignore[arg-type]
    return report, plan


def spec_vetoes(spec: object, audit: object = None) -> list[tuple[str, Veto]]:
    """The vetoes of a loaded spec, tagged with their ecosystem (for plan_delta's reasons), and those
    its `[audit]` added in the solve (a bundler.audit.AuditPolicy: reasons are advisory ids)."""
    from bundler.spec import Veto

    out: list[tuple[str, Veto]] = []
    for eco, part in (("deb", getattr(spec, "debian", None)), ("python", getattr(spec, "python", None))):
        if part is not None:
            out.extend((eco, v) for v in part.veto)
    for eco, package, version, reason in getattr(audit, "added", ()):
        out.append((eco, Veto(package, version, reason)))
    return out
