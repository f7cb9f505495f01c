"""The upgrade proof: does a machine holding OLD's set reach NEW's set with the real apt and pip?

    report = upgrade_check(old_lock, new_lock, old_bundle=DIR, new_bundle=DIR)   # or delta=DIR
    report.problems   # empty: the upgrade holds

Debian: an isolated apt root (every `Dir::*` option pointed into a temporary directory, as
tests/support/apt.py does) whose dpkg `status` file says OLD's packages are installed, with their
control stanzas from the old bundle's Packages and `Status: install ok installed` (dpkg(1), "the
status file"; deb-control(5)); its only sources are NEW's bundle, or the base bundle plus the hotfix
bundle (bundler/delta.py). `apt-get update` and `apt-get -s dist-upgrade` then say what a real
upgrade would do: every package NEW holds must end at NEW's version, none may be removed, and nothing
NEW does not hold may be installed. apt's solver, not ours, decides, so the proof is independent of
bundler's own solver.

Python: a fresh venv (the interpreter running bundler) gets OLD's files from the old bundle with
`pip install --no-deps`, then `pip install --upgrade` of every NEW pin from NEW's index (or the base
index plus the delta's as `--extra-index-url`), then `pip check`; each NEW project must end at NEW's
version. pip never removes a project: one OLD had and NEW dropped stays, and `pip check` says
whether something still needs it at an old version.

A bundle given on the command line must be the one of its lock (its bundle.lock holds the same
packages); a missing one is built from the lock into a temporary directory (bundler.build).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from bundler.lock import Lock, LockedPackage, read_lock
from solver.errors import InputError

_NOT_CONTROL = {"Filename", "Size", "MD5sum", "SHA1", "SHA256", "SHA512", "Description-md5"}


@dataclass(frozen=True, slots=True)
class UpgradeReport:
    problems: tuple[str, ...]  # each: which package stays behind, is removed, which pip check line
    notes: tuple[str, ...]  # what changes that is not a problem (a package NEW dropped is removed/kept)
    deb_actions: tuple[str, ...] = ()  # apt's Inst/Remv lines
    python_installed: dict[str, str] = field(default_factory=dict)  # final versions in the venv

    @property
    def ok(self) -> bool:
        return not self.problems


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _same_packages(bundle: Path, lock: Lock, what: str, lock_name: str, name: str = "bundle.lock") -> None:
    """InputError unless `bundle`/`name` is a lock of the same packages as `lock`."""
    path = bundle / name
    if not path.is_file():
        raise InputError(f"not a {what} (no {name})", where=str(bundle))
    if set(read_lock(path).packages) != set(lock.packages):
        raise InputError(f"its {name} is not {lock_name}: it is the {what} of another lock", where=str(bundle))


# -- Debian ---------------------------------------------------------------------------------------
def _stanzas(repo: Path, suite: str) -> list[list[tuple[str, str]]]:
    from bundler.build.debfile import parse_stanzas

    out = []
    for packages in sorted((repo / "dists" / suite).glob("*/binary-*/Packages")):
        out.extend(parse_stanzas(packages.read_text("utf-8"), str(packages)))
    return out


def _status_file(old: Lock, old_bundle: Path) -> str:
    """dpkg's status for OLD's Debian set: each package's control, marked installed."""
    want = {(p.name, p.architecture): p.version for p in old.packages if p.ecosystem == "deb"}
    seen: dict[tuple[str, str], str] = {}
    for stanza in _stanzas(old_bundle / "debian", old.suite):
        d = dict(stanza)
        key = (d.get("Package", ""), d.get("Architecture", ""))
        if want.get(key) != d.get("Version") or key in seen:
            continue
        fields = [(k, v) for k, v in stanza if k not in _NOT_CONTROL]
        fields.insert(1, ("Status", "install ok installed"))
        seen[key] = "".join(f"{k}: {v}\n" for k, v in fields)
    missing = sorted(f"{n}:{a}" for n, a in want.keys() - seen.keys())
    if missing:
        raise InputError(f"the old bundle's Packages lack {', '.join(missing[:5])}", where=str(old_bundle))
    return "\n".join(seen[k] for k in sorted(seen))


class _Apt:
    """apt-get in its own root: nothing of the host's apt configuration, state or cache is used."""

    def __init__(self, root: Path, archs: list[str]) -> None:
        self.root = root
        for d in ("etc/parts", "etc/trusted.d", "etc/prefs.d", "lists/partial", "cache/archives/partial", "log"):
            (root / d).mkdir(parents=True, exist_ok=True)
        opts = {
            "Dir": str(root), "Dir::State": str(root), "Dir::State::status": str(root / "status"),
            "Dir::State::Lists": str(root / "lists"), "Dir::Cache": str(root / "cache"),
            "Dir::Cache::Archives": str(root / "cache/archives"), "Dir::Log": str(root / "log"),
            "Dir::Etc::SourceList": str(root / "sources.list"), "Dir::Etc::SourceParts": str(root / "etc/parts"),
            "Dir::Etc::Trusted": str(root / "etc/trusted.gpg"), "Dir::Etc::TrustedParts": str(root / "etc/trusted.d"),
            "Dir::Etc::Preferences": str(root / "etc/prefs"), "Dir::Etc::PreferencesParts": str(root / "etc/prefs.d"),
            "Dir::Etc::main": str(root / "etc/apt.conf"), "Dir::Etc::parts": str(root / "etc/parts"),
            "APT::Architecture": archs[0], "APT::Architectures": ",".join(archs), "Debug::NoLocking": "1",
            "APT::Sandbox::User": "root", "Acquire::Languages": "none", "Dir::Bin::dpkg": "/bin/false",
            "pkgCacheGen::Essential": "none", "APT::Install-Recommends": "false",
        }  # fmt: skip
        self.options = [a for k, v in opts.items() for a in ("-o", f"{k}={v}")]

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        cmd = ["apt-get", "-q", "-y", *self.options, *args]
        return subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "LC_ALL": "C"}, check=False)


def _errors(proc: subprocess.CompletedProcess[str]) -> str:
    lines = [ln.strip() for ln in (proc.stderr + proc.stdout).splitlines() if ln.startswith(("E:", "ERROR"))]
    return "; ".join(lines[:3]) or (proc.stderr.strip().splitlines() or ["(no output)"])[-1]


def _sources_line(bundle: Path, suite: str) -> str:
    comps = set()
    for packages in (bundle / "debian" / "dists" / suite).glob("*/binary-*/Packages"):
        comps.add(packages.parent.parent.name)
    return f"deb [trusted=yes] file:{bundle / 'debian'} {suite} {' '.join(sorted(comps)) or 'main'}"


def _deb_ids(lock: Lock) -> dict[str, LockedPackage]:
    return {p.id: p for p in lock.packages if p.ecosystem == "deb"}


def _check_debian(
    old: Lock, new: Lock, old_bundle: Path, sources: list[str], work: Path
) -> tuple[list[str], list[str], list[str]]:
    from bundler.build import _target_archs

    if shutil.which("apt-get") is None:
        raise InputError("apt-get is not installed: the Debian upgrade proof needs it")
    olds, news = _deb_ids(old), _deb_ids(new)
    archs = _target_archs(new) or sorted({p.architecture for p in [*olds.values(), *news.values()]} - {"all"})
    apt = _Apt(work / "apt", archs or ["amd64"])
    (apt.root / "status").write_text(_status_file(old, old_bundle), "utf-8")
    (apt.root / "sources.list").write_text("".join(s + "\n" for s in sources), "utf-8")
    proc = apt.run("update")
    if proc.returncode != 0 or "\nW:" in "\n" + proc.stderr:
        raise InputError(f"apt-get update over the bundles failed: {_errors(proc)}")
    proc = apt.run("-s", "dist-upgrade")
    problems: list[str] = []
    notes: list[str] = []
    if proc.returncode != 0:
        return [f"apt-get -s dist-upgrade fails: {_errors(proc)}"], notes, []

    native = archs[0] if archs else "amd64"

    def ident(word: str) -> str:
        name, _, arch = word.partition(":")
        for a in ([arch] if arch else [native, "all"]):
            if f"deb:{name}:{a}" in olds or f"deb:{name}:{a}" in news:
                return f"deb:{name}:{a}"
        return f"deb:{name}:{arch or native}"

    after = {i: p.version for i, p in olds.items()}
    actions = []
    for line in proc.stdout.splitlines():
        m = re.match(r"^(Inst|Remv) (\S+) (?:\[([^\]]+)\] )?(?:\((\S+))?", line)
        if not m:
            continue
        actions.append(line)
        i = ident(m[2])
        if m[1] == "Remv":
            after.pop(i, None)
        else:
            after[i] = m[4]
    for i, p in sorted(news.items()):
        got = after.get(i)
        if got == p.version:
            continue
        if i in olds and got is None:
            problems.append(f"{i}: dist-upgrade removes it ({olds[i].version}), NEW holds {p.version}")
        elif i in olds:
            problems.append(f"{i}: stays at {got}, NEW has {p.version}")
        elif got is None:
            notes.append(f"{i} {p.version}: new in NEW and not pulled in by dist-upgrade (apt-get install {p.name})")
        else:
            problems.append(f"{i}: dist-upgrade installs {got}, NEW has {p.version}")
    for i, version in sorted(after.items()):
        if i not in news and (i not in olds or olds[i].version != version):
            problems.append(f"{i}: dist-upgrade installs {version}, which NEW does not hold")
    for i in sorted(olds.keys() - news.keys()):
        notes.append(f"{i}: dropped by NEW; dist-upgrade {'keeps' if i in after else 'removes'} it")
    return problems, notes, actions


# -- Python ---------------------------------------------------------------------------------------
def _pip_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    env.update(PIP_CONFIG_FILE=os.devnull, PIP_DISABLE_PIP_VERSION_CHECK="1", PIP_NO_INPUT="1", LC_ALL="C")
    return env


def _pins(lock: Lock) -> list[str]:
    return sorted({f"{p.name}=={p.version}" for p in lock.packages if p.ecosystem == "python"})


def _check_python(
    old: Lock, new: Lock, old_bundle: Path, index: list[str], work: Path
) -> tuple[list[str], list[str], dict[str, str]]:
    import json

    venv = work / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, capture_output=True)
    python = venv / "bin" / "python"

    def pip(*args: str) -> subprocess.CompletedProcess[str]:
        cmd = [sys.executable, "-m", "pip", "--python", str(python), "--no-cache-dir", *args]
        return subprocess.run(cmd, capture_output=True, text=True, env=_pip_env(), check=False)

    if _pins(old):
        files = old_bundle / "python" / "files"
        proc = pip("install", "--no-deps", "--no-index", "--find-links", str(files), *_pins(old))
        if proc.returncode != 0:
            raise InputError(f"cannot install OLD's Python set into a venv of this interpreter: {_errors(proc)}")
    problems: list[str] = []
    notes: list[str] = []
    host = f"{sys.version_info.major}.{sys.version_info.minor}"
    target = str(new.extra.get("python-version", host))
    if target != host and not target.startswith(host + "."):
        notes.append(f"pip ran on Python {host}; the lock targets Python {target}")
    proc = pip("install", "--upgrade", *index, *_pins(new))
    if proc.returncode != 0:
        return [f"pip install --upgrade fails: {_errors(proc)}"], notes, {}
    check = pip("check")
    if check.returncode != 0:
        problems += [f"pip check: {ln.strip()}" for ln in check.stdout.splitlines() if ln.strip()]
    # What the venv holds, read by its own interpreter (a third pip run would cost seconds); -I so that
    # neither the working directory (a project's *.egg-info) nor PYTHONPATH adds distributions.
    script = "import importlib.metadata as m, json; print(json.dumps({d.name: d.version for d in m.distributions()}))"
    listed = subprocess.run([str(python), "-I", "-c", script], capture_output=True, text=True, check=True)
    installed = {_norm(k): v for k, v in json.loads(listed.stdout).items()}
    news = {_norm(p.name): p.version for p in new.packages if p.ecosystem == "python"}
    olds = {_norm(p.name): p.version for p in old.packages if p.ecosystem == "python"}
    for name, version in sorted(news.items()):
        got = installed.get(name)
        if got != version:
            problems.append(f"python:{name}: {'not installed' if got is None else f'stays at {got}'}, NEW has {version}")
    for name in sorted(olds.keys() - news.keys()):
        notes.append(f"python:{name}: dropped by NEW; pip leaves {olds[name]} installed")
    return problems, notes, installed


# -- the check ------------------------------------------------------------------------------------
def upgrade_check(
    old: Lock,
    new: Lock,
    *,
    old_bundle: Path | None = None,
    new_bundle: Path | None = None,
    delta: Path | None = None,
    cache_dir: Path | None = None,
    old_where: str = "OLD",
    new_where: str = "NEW",
) -> UpgradeReport:
    """Simulate the upgrade from OLD's set to NEW's with apt and pip (module docstring).
    Raises InputError for bad input (locks of two bundles, a bundle of another lock)."""
    from bundler.delta import check_lineage

    if new_bundle is not None and delta is not None:
        raise InputError("give --new-bundle or --delta, not both")
    # apt's file: URIs and pip's file:// URLs must be absolute.
    old_bundle, new_bundle, delta = (Path(os.path.abspath(d)) if d else None for d in (old_bundle, new_bundle, delta))
    check_lineage(old, new, old_where, new_where)
    if old_bundle is not None:
        _same_packages(old_bundle, old, "bundle", old_where)
    if new_bundle is not None:
        _same_packages(new_bundle, new, "bundle", new_where)
    if delta is not None:
        _same_packages(delta, new, "hotfix bundle", new_where)
        _same_packages(delta, old, "hotfix bundle", old_where, name="base.lock")
    has_deb = any(p.ecosystem == "deb" for p in (*old.packages, *new.packages))
    has_py = any(p.ecosystem == "python" for p in (*old.packages, *new.packages))
    with tempfile.TemporaryDirectory(prefix="bundler-upgrade-") as tmp:
        work = Path(tmp)
        if old_bundle is None or (new_bundle is None and delta is None):
            from bundler.build import build_bundle

            if old_bundle is None:
                old_bundle = build_bundle(old, work / "old", cache_dir=cache_dir).out
            if new_bundle is None and delta is None:
                new_bundle = build_bundle(new, work / "new", cache_dir=cache_dir).out
        problems: list[str] = []
        notes: list[str] = []
        actions: list[str] = []
        installed: dict[str, str] = {}
        if has_deb:
            if delta is not None:
                from bundler.delta import UPDATES

                sources = [_sources_line(old_bundle, old.suite)] if (old_bundle / "debian").is_dir() else []
                if (delta / "debian").is_dir():
                    sources.append(_sources_line(delta, new.suite + UPDATES))
            else:
                assert new_bundle is not None
                sources = [_sources_line(new_bundle, new.suite)]
            p, n, actions = _check_debian(old, new, old_bundle, sources, work)
            problems += p
            notes += n
        if has_py:
            if delta is not None:
                index = ["--index-url", (old_bundle / "python" / "simple").as_uri()]
                if (delta / "python" / "simple").is_dir():
                    index += ["--extra-index-url", (delta / "python" / "simple").as_uri()]
            else:
                assert new_bundle is not None
                index = ["--index-url", (new_bundle / "python" / "simple").as_uri()]
            p, n, installed = _check_python(old, new, old_bundle, index, work)
            problems += p
            notes += n
    return UpgradeReport(tuple(problems), tuple(notes), tuple(actions), installed)


