"""`bundler verify`, the Debian repository of a bundle: Release (and InRelease, the signatures) →
Packages and Sources → the .debs and source files, each .dsc → its files, and the closure of every
architecture's packages (Debian Policy §7.1, §7.5). See bundler/verify/__init__.py."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from bundler.build.debfile import parse_stanzas
from bundler.provenance import check_signatures
from solver.debversion import satisfies
from solver.errors import BundlerError, InputError
from solver.model import format_group
from solver.relations import parse_dep_list, parse_relations

from .sums import Digests


def _fields(stanza: list[tuple[str, str]]) -> dict[str, str]:
    return {k.lower(): v for k, v in stanza}


def _clearsigned_text(data: str) -> str | None:
    m = re.search(
        r"-----BEGIN PGP SIGNED MESSAGE-----\n(?:[^\n]+\n)*\n(.*?)\n-----BEGIN PGP SIGNATURE-----", data, re.S
    )
    if m is None:
        return None
    return "\n".join(line[2:] if line.startswith("- ") else line for line in m.group(1).split("\n")) + "\n"


@dataclass
class _Deb:
    name: str
    version: str
    arch: str
    fields: dict[str, str]
    where: str


def check_debian(
    root: Path,
    digests: Digests,
    problems: list[str],
    keyring: str | None = None,
    want_sources: bool = False,
    base: dict[str, list[_Deb]] | None = None,
    closure: bool = True,
) -> int:
    """`base`: the packages of the bundle a hotfix bundle completes (they count as providers);
    `closure`: whether to check dependencies at all (not for a hotfix bundle without its base)."""
    dists = root / "debian" / "dists"
    seen_files: set[str] = set()
    if not dists.is_dir():
        return 0
    for suite_dir in sorted(p for p in dists.iterdir() if p.is_dir()):
        release_path = suite_dir / "Release"
        rel_release = f"debian/dists/{suite_dir.name}/Release"
        if not release_path.is_file():
            problems.append(f"{rel_release}: missing")
            continue
        release_text = release_path.read_text("utf-8", "replace")
        check_signatures(root, suite_dir, keyring, problems)
        inrelease = suite_dir / "InRelease"
        if inrelease.is_file():
            signed = _clearsigned_text(inrelease.read_text("utf-8", "replace"))
            if signed is None or signed.rstrip("\n") != release_text.rstrip("\n"):
                problems.append(f"debian/dists/{suite_dir.name}/InRelease: does not match Release")
        stanzas = parse_stanzas(release_text, f"debian/dists/{suite_dir.name}/Release")
        release = _fields(stanzas[0]) if stanzas else {}
        listed: dict[str, tuple[int, str]] = {}
        for line in release.get("sha256", "").splitlines():
            parts = line.split()
            if len(parts) == 3:
                listed[parts[2]] = (int(parts[1]), parts[0])
        if not listed:
            problems.append(f"{rel_release}: no SHA256 list")
        for rel, (size, digest) in sorted(listed.items()):
            got = digests.get(f"debian/dists/{suite_dir.name}/{rel}")
            if got is None:
                problems.append(f"{rel_release}: lists {rel}, which is missing")
            elif (got[0], got[1]) != (size, digest):
                problems.append(f"debian/dists/{suite_dir.name}/{rel}: size/sha256 differ from Release")
        by_arch: dict[str, list[_Deb]] = {}
        needs: list[tuple[str, str, str]] = []  # (source, version, binary) of every binary
        for rel in sorted(listed):
            m = re.fullmatch(r"(.+)/binary-([^/]+)/Packages", rel)
            if not m:
                continue
            arch = m.group(2)
            where = f"debian/dists/{suite_dir.name}/{rel}"
            try:
                text = (root / where).read_text("utf-8")
                packages = parse_stanzas(text, where)
            except (OSError, UnicodeDecodeError, BundlerError) as e:
                problems.append(f"{where}: unreadable ({e})")
                continue
            for stanza in packages:
                f = _fields(stanza)
                name, version = f.get("package", "?"), f.get("version", "?")
                label = f"deb {name} {version} ({f.get('architecture', '?')})"
                filename = f.get("filename", "")
                got = digests.get(f"debian/{filename}") if filename else None
                if got is None:
                    problems.append(f"{label}: its file {filename or '(no Filename)'} is missing")
                else:
                    if str(got[0]) != f.get("size") or got[1] != f.get("sha256"):
                        problems.append(f"debian/{filename}: size/sha256 differ from {where}")
                    elif "md5sum" in f and got[2] != f["md5sum"]:
                        problems.append(f"debian/{filename}: MD5sum differs from {where}")
                seen_files.add(filename)
                src, _, src_version = f.get("source", name).partition(" ")
                needs.append((src, src_version.strip(" ()") or version, label))
                by_arch.setdefault(arch, []).append(_Deb(name, version, f.get("architecture", ""), f, where))
        for arch, debs in sorted(by_arch.items()):
            if arch != "all" and closure:
                extra = (base or {}).get(arch, []) + (base or {}).get("all", [])
                _check_deb_closure(arch, debs + by_arch.get("all", []) + extra, problems)
        _check_deb_sources(root, suite_dir.name, listed, digests, problems, needs, want_sources)
    return len(seen_files)


def bundle_debs(root: Path) -> dict[str, list[_Deb]]:
    """Every Packages stanza of the bundle at `root`, by the architecture of its index (no checks:
    the base of a hotfix bundle is verified on its own)."""
    out: dict[str, list[_Deb]] = {}
    for index in sorted((root / "debian" / "dists").glob("*/*/binary-*/Packages")):
        arch = index.parent.name.removeprefix("binary-")
        try:
            stanzas = parse_stanzas(index.read_text("utf-8"), str(index))
        except (OSError, UnicodeDecodeError, BundlerError) as e:
            raise InputError(f"unreadable ({e})", where=str(index)) from None
        for stanza in stanzas:
            f = _fields(stanza)
            out.setdefault(arch, []).append(
                _Deb(f.get("package", "?"), f.get("version", "?"), f.get("architecture", ""), f, str(index))
            )
    return out



def _no_epoch(version: str) -> str:
    return version.split(":", 1)[1] if ":" in version else version


def _check_deb_sources(
    root: Path,
    suite: str,
    listed: dict[str, tuple[int, str]],
    digests: Digests,
    problems: list[str],
    needs: list[tuple[str, str, str]],
    want: bool,
) -> None:
    """Sources → files (size, SHA256, MD5), each .dsc → its files, and every binary → its source."""
    from bundler.build.debsrc import read_dsc

    have: set[tuple[str, str]] = set()
    indexes = [rel for rel in sorted(listed) if re.fullmatch(r"(.+/)?source/Sources", rel) or rel == "Sources"]
    for rel in indexes:
        where = f"debian/dists/{suite}/{rel}"
        try:
            stanzas = parse_stanzas((root / where).read_text("utf-8"), where)
        except (OSError, UnicodeDecodeError, BundlerError) as e:
            problems.append(f"{where}: unreadable ({e})")
            continue
        for stanza in stanzas:
            f = _fields(stanza)
            name, version, directory = f.get("package", "?"), f.get("version", "?"), f.get("directory", "")
            have.add((name, _no_epoch(version)))
            label = f"deb-src {name} {version}"
            sums = {}
            for title, kind, algo in (("checksums-sha256", 1, "sha256"), ("files", 2, "md5")):
                for line in f.get(title, "").splitlines():
                    parts = line.split()
                    if len(parts) != 3:
                        continue
                    path = f"debian/{directory}/{parts[2]}"
                    got = digests.get(path)
                    if got is None:
                        problems.append(f"{label}: its file {directory}/{parts[2]} is missing")
                    elif str(got[0]) != parts[1] or got[kind] != parts[0]:
                        problems.append(f"{path}: size/{algo} differ from {where}")
                    if kind == 1:
                        sums[parts[2]] = (parts[1], parts[0])
            dscs = [n for n in sums if n.endswith(".dsc")]
            if len(dscs) != 1:
                problems.append(f"{label}: {len(dscs)} .dsc files listed in {where}")
                continue
            dsc = f"debian/{directory}/{dscs[0]}"
            if digests.get(dsc) is None:
                continue
            try:
                fields = dict(read_dsc(root / dsc, dsc))
            except BundlerError as e:
                problems.append(f"{dsc}: {e.message}")
                continue
            in_dsc = {}
            for line in fields.get("Checksums-Sha256", "").splitlines():
                parts = line.split()
                if len(parts) == 3:
                    in_dsc[parts[2]] = (parts[1], parts[0])
            others = {k: v for k, v in sums.items() if k != dscs[0]}
            for n in sorted(set(in_dsc) | set(others)):
                if in_dsc.get(n) != others.get(n):
                    problems.append(f"{dsc}: {n} differs from {where} (or is missing from one of them)")
    if not (want or indexes):
        return
    missing = sorted({(s, v, b) for s, v, b in needs if (s, _no_epoch(v)) not in have})
    reported: set[tuple[str, str]] = set()
    for s, v, b in missing:
        if (s, v) not in reported:
            reported.add((s, v))
            problems.append(f"{b}: its source package {s} {v} is not in debian/dists/{suite}'s Sources")


def _check_deb_closure(arch: str, debs: list[_Deb], problems: list[str]) -> None:
    names: dict[str, list[str]] = {}
    provides: dict[str, list[str | None]] = {}
    for d in debs:
        names.setdefault(d.name, []).append(d.version)
        try:
            for p in parse_dep_list(d.fields.get("provides", ""), arch):
                provides.setdefault(p.name, []).append(p.version if p.op == "=" else None)
        except BundlerError as e:
            problems.append(f"deb {d.name} {d.version}: bad Provides ({e})")
    seen: set[tuple[str, str, str]] = set()
    for d in debs:
        if d.arch not in (arch, "all") or (d.name, d.version, d.arch) in seen:
            continue
        seen.add((d.name, d.version, d.arch))
        for field_name in ("pre-depends", "depends"):
            try:
                groups = parse_relations(d.fields.get(field_name, ""), arch)
            except BundlerError as e:
                problems.append(f"deb {d.name} {d.version}: bad {field_name} ({e})")
                continue
            for group in groups:
                if not any(_deb_satisfied(dep.name, dep.op, dep.version, names, provides) for dep in group):
                    title = "Pre-Depends" if field_name == "pre-depends" else "Depends"
                    problems.append(
                        f"deb {d.name} {d.version} ({d.arch}): {title} '{format_group(group)}' "
                        f"has no provider in the bundle for {arch}"
                    )


def _deb_satisfied(
    name: str,
    op: str | None,
    version: str | None,
    names: dict[str, list[str]],
    provides: dict[str, list[str | None]],
) -> bool:
    if any(satisfies(v, op, version) for v in names.get(name, ())):
        return True
    for provided in provides.get(name, ()):
        if op is None or (provided is not None and satisfies(provided, op, version)):
            return True
    return False


# -- Python ---------------------------------------------------------------------------------------
