"""Every real Python client installs from a bundle exactly as the bundle's own README says.

The clients: the stock pip of the host's Debian (a fresh `/usr/bin/python3 -m venv`: pip 23.0.1 on
Debian 12), a current pip (this venv's, driving the target venv with `--python`) and uv; each from the
bundle's `file://` index and over `bundler serve` on 127.0.0.1. The bundle is solved and built by the
real CLI from wheels and an sdist made here, with projects whose metadata names are not normalised
(`Flask`, `PyYAML`, `zope.interface`, `oslo.config`, `typing_extensions`), file names spelt the old
way (`PyYAML-…`, `zope.interface-…`) and the new (`oslo_config-…`), and an extra. Each install must
give exactly the locked set, and `pip check` must be clean. Offline: nothing leaves 127.0.0.1.

A client that is missing fails the test under CI=true (it is skipped only on a developer's machine).
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
import sysconfig
from collections.abc import Iterator
from pathlib import Path

import pytest

from bundler.lock import read_lock
from tests.support.pyindex import Dist, make_repo

UNIVERSE = [
    Dist(
        "Flask",
        "3.0.0",
        ["Werkzeug>=3.0", "itsdangerous>=2.1", "asgiref>=3.2; extra == 'async'"],
        provides_extra=["async"],
    ),
    Dist("Flask", "2.3.3", ["Werkzeug>=2.3"], provides_extra=["async"]),
    Dist("Werkzeug", "3.0.1", ["MarkupSafe>=2.1.1"]),
    Dist("MarkupSafe", "2.1.3", file_name="MarkupSafe"),
    Dist("itsdangerous", "2.1.2"),
    Dist("asgiref", "3.7.2", ["typing_extensions>=4; python_version < '3.11'"]),
    Dist("PyYAML", "6.0.1", file_name="PyYAML"),
    Dist("PyYAML", "5.4.1", file_name="PyYAML"),
    Dist("zope.interface", "6.1", file_name="zope.interface"),
    Dist("oslo.config", "9.2.0", ["PyYAML>=5.1", "oslo.i18n>=3.15.3", "typing_extensions>=4"]),
    # an sdist (built by its own in-tree PEP 517 backend: no build requirement to fetch)
    Dist("oslo.i18n", "6.1.0", sdist=True, file_name="oslo.i18n"),
    Dist("typing_extensions", "4.8.0"),
]
REQUIRE = ["Flask[async]", "oslo.config", "zope.interface"]
EXPECTED = {
    "asgiref": "3.7.2",
    "flask": "3.0.0",
    "itsdangerous": "2.1.2",
    "markupsafe": "2.1.3",
    "oslo-config": "9.2.0",
    "oslo-i18n": "6.1.0",
    "pyyaml": "6.0.1",
    "typing-extensions": "4.8.0",
    "werkzeug": "3.0.1",
    "zope-interface": "6.1",
}
CLIENTS = ["debian-pip", "pip", "uv"]
MODES = ["file", "served"]

SPEC = """
[bundle]
name = "clients"
epoch = 1700000000
[python]
indexes = ["{index}"]
python-version = "{python}"
require = {require}
"""


def _missing(what: str) -> None:
    """A client that is not there: a failure in CI (nothing may be skipped silently), else a skip."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{what} is missing (scripts/dev setup installs it)")
    pytest.skip(f"{what} is missing")


def _clean_env(home: Path) -> dict[str, str]:
    """No pip or uv configuration of the host (its find-links, indexes, constraints) and no caches."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PIP_", "UV_", "VIRTUAL_ENV", "PYTHON", "BUNDLER_"))
    }
    env.update(
        HOME=str(home),
        XDG_CACHE_HOME=str(home / "cache"),
        XDG_CONFIG_HOME=str(home / "config"),
        PIP_CONFIG_FILE=os.devnull,
        PIP_DISABLE_PIP_VERSION_CHECK="1",
        PIP_NO_INPUT="1",
        UV_NO_CONFIG="1",
        UV_CACHE_DIR=str(home / "uv-cache"),
    )
    return env


def _run(cmd: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    # From $HOME, not this checkout: `python -c` would see the checkout's bundler.egg-info.
    return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=240, cwd=env["HOME"])


def _target_python() -> str:
    """The version of the host's python3, the one every client installs into."""
    out = subprocess.run(
        ["/usr/bin/python3", "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.strip()


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not Path("/usr/bin/python3").exists():
        _missing("/usr/bin/python3")
    root = tmp_path_factory.mktemp("clients")
    repo = make_repo(root / "upstream", UNIVERSE)
    spec = root / "bundle.toml"
    spec.write_text(
        SPEC.format(index=repo.simple.as_uri(), python=_target_python(), require=json.dumps(REQUIRE))
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("BUNDLER_")}
    r = subprocess.run(
        [sys.executable, "-m", "bundler", "solve", str(spec), "--cache-dir", str(root / "cache"),
         "--bundle", str(root / "out")],
        capture_output=True, text=True, env=env,
    )  # fmt: skip
    assert r.returncode == 0, r.stdout + r.stderr
    lock = read_lock(root / "out" / "bundle.lock")
    assert {p.name: p.version for p in lock.packages} == EXPECTED
    return root / "out"


@pytest.fixture(scope="module")
def served(bundle: Path) -> Iterator[str]:
    """`bundler serve OUT --port 0`, the real command; its base URL."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "bundler", "serve", str(bundle), "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        assert first.startswith("serving ") and " at http://127.0.0.1:" in first, first
        yield first.rsplit(" at ", 1)[1].strip().rstrip("/")
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def readme_command(bundle: Path, client: str, mode: str) -> list[str]:
    """The one README line that installs the whole set with `client` ("pip" or "uv") in `mode`."""
    start = {"pip": "pip install ", "uv": "uv pip install "}[client]
    base = {"file": "--index-url file:///MOUNT/", "served": "--index-url http://HOST:PORT/"}[mode]
    lines = [
        line.strip()
        for line in (bundle / "README").read_text().splitlines()
        if line.startswith("    " + start + base) and " -r " in line
    ]
    assert len(lines) == 1, f"the README should have one {client} line for {mode}: {lines}"
    return shlex.split(lines[0])


def _installed(python: Path, env: dict[str, str]) -> dict[str, str]:
    code = (
        "import importlib.metadata as m, json, re\n"
        "print(json.dumps({re.sub(r'[-_.]+', '-', d.metadata['Name']).lower(): d.version"
        " for d in m.distributions()}))"
    )
    r = _run([str(python), "-c", code], env)
    assert r.returncode == 0, r.stderr
    got: dict[str, str] = json.loads(r.stdout)
    return {k: v for k, v in got.items() if k not in ("pip", "setuptools")}


class Client:
    """One client and the venv it installs into; `argv(words)` runs the README's `pip` or `uv` words
    as in that venv, activated: its own bin/pip for Debian's pip, this venv's pip with `--python
    VENV/bin/python` for a current one, uv with $VIRTUAL_ENV set."""

    def __init__(self, kind: str, tmp: Path, *, ensurepip: bool = False) -> None:
        self.kind, self.env = kind, _clean_env(tmp / "home")
        (tmp / "home").mkdir()
        self.venv = tmp / "venv"
        if kind == "debian-pip":
            self.pip = [str(self.venv / "bin/pip")]
            if ensurepip:
                r = _run(["/usr/bin/python3", "-m", "venv", str(self.venv)], self.env)
            else:
                # What ensurepip does, minus setuptools and its 20 s: Debian's python3-venv installs
                # the pip wheel of python3-pip-whl. The venv's own bin/pip is that stock pip.
                wheels = sorted(Path("/usr/share/python-wheels").glob("pip-*.whl"))
                if not wheels:
                    _missing("Debian's pip wheel (/usr/share/python-wheels, python3-pip-whl)")
                subprocess.run(
                    ["/usr/bin/python3", "-m", "venv", "--without-pip", str(self.venv)], check=True
                )
                r = _run([sys.executable, "-m", "pip", "--python", str(self.venv / "bin/python"), "install",
                          "--no-index", "--no-deps", str(wheels[-1])], self.env)  # fmt: skip
            if r.returncode != 0:
                _missing(f"the stock pip in a venv ({r.stdout.strip()} {r.stderr.strip()})")
            version = _run([*self.pip, "--version"], self.env).stdout.split()[1]
            if Path("/etc/debian_version").read_text().startswith("12"):
                assert version == "23.0.1", f"Debian 12's pip is 23.0.1, this venv has {version}"
        else:
            subprocess.run(["/usr/bin/python3", "-m", "venv", "--without-pip", str(self.venv)], check=True)
            self.pip = [sys.executable, "-m", "pip", "--python", str(self.venv / "bin/python")]
        if kind == "pip":
            import pip

            if int(pip.__version__.split(".")[0]) < 25:
                _missing(f"a current pip (>= 25; this venv has {pip.__version__})")
        self.uv = shutil.which("uv", path=sysconfig.get_path("scripts")) or shutil.which("uv")
        if kind == "uv" and self.uv is None:
            _missing("uv")
        # As `. venv/bin/activate` leaves it: uv installs into $VIRTUAL_ENV.
        self.env.update(VIRTUAL_ENV=str(self.venv), PATH=f"{self.venv / 'bin'}:{self.env.get('PATH', '')}")

    def argv(self, words: list[str]) -> list[str]:
        head, rest = words[0], words[1:]
        if head == "uv":
            assert self.uv is not None
            return [self.uv, *rest]
        assert head == "pip", words
        return [*self.pip, *rest]

    def check(self) -> subprocess.CompletedProcess[str]:
        return _run([*self.pip, "check"], self.env)


def _substitute(words: list[str], bundle: Path, base: str) -> list[str]:
    out = []
    for w in words:
        w = w.replace("file:///MOUNT", bundle.as_uri()).replace("/MOUNT", str(bundle))
        out.append(w.replace("http://HOST:PORT", base))
    return out


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("kind", CLIENTS)
def test_client_installs_the_bundle_as_its_readme_says(
    kind: str, mode: str, bundle: Path, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    base = request.getfixturevalue("served") if mode == "served" else ""
    client = Client(kind, tmp_path)
    words = readme_command(bundle, "uv" if kind == "uv" else "pip", mode)
    cmd = client.argv(_substitute(words, bundle, base))
    r = _run(cmd, client.env)
    assert r.returncode == 0, f"{' '.join(cmd)}\n{r.stdout}\n{r.stderr}"
    assert _installed(client.venv / "bin/python", client.env) == EXPECTED
    r = client.check()
    assert r.returncode == 0 and "No broken requirements found" in r.stdout, r.stdout + r.stderr
    # the sdist was built and installed: its module imports
    r = _run(
        [str(client.venv / "bin/python"), "-c", "import oslo_i18n; print(oslo_i18n.__version__)"], client.env
    )
    assert r.returncode == 0 and r.stdout.strip() == "6.1.0", r.stderr


def test_debian_pip_installs_the_roots(bundle: Path, tmp_path: Path) -> None:
    """The README's other line, the roots by their normalised names (`flask`, metadata `Flask`):
    what Debian 12's pip refused while the index advertised `data-dist-info-metadata`."""
    client = Client("debian-pip", tmp_path, ensurepip=True)  # the venv exactly as Debian makes it
    lines = [
        line.strip()
        for line in (bundle / "README").read_text().splitlines()
        if line.startswith("    pip install --index-url file:///MOUNT/") and " -r " not in line
    ]
    assert len(lines) == 1, lines
    words = shlex.split(lines[0])
    assert words[-3:] == ["flask", "oslo-config", "zope-interface"]
    r = _run(client.argv(_substitute(words, bundle, "")), client.env)
    assert r.returncode == 0, r.stdout + r.stderr
    got = _installed(client.venv / "bin/python", client.env)
    assert got == {k: v for k, v in EXPECTED.items() if k != "asgiref"}  # no extra was named
    r = client.check()
    assert r.returncode == 0, r.stdout + r.stderr


def _readme_lines(bundle: Path, client: str, marker: str) -> list[list[str]]:
    start = {"pip": "    pip install ", "uv": "    uv pip install "}[client]
    lines = (bundle / "README").read_text().splitlines()
    return [shlex.split(line) for line in lines if line.startswith(start) and marker in line]


@pytest.mark.parametrize(
    ("kind", "marker"),
    [
        ("pip", "--index-url file:///MOUNT/python/simple flask"),
        ("uv", "--index-url file:///MOUNT/python/simple flask"),
        ("debian-pip", "--find-links"),
        ("pip", "--find-links"),
        ("uv", "--find-links"),
    ],
)
def test_every_other_readme_line_installs(kind: str, marker: str, bundle: Path, tmp_path: Path) -> None:
    """The README's remaining pip and uv lines, as written: the roots by name from the index, and the
    whole set from the files directory alone (--no-index --find-links)."""
    client = Client(kind, tmp_path)
    found = _readme_lines(bundle, "uv" if kind == "uv" else "pip", marker)
    assert len(found) == 1, found
    cmd = client.argv(_substitute(found[0], bundle, ""))
    r = _run(cmd, client.env)
    assert r.returncode == 0, f"{' '.join(cmd)}\n{r.stdout}\n{r.stderr}"
    got = _installed(client.venv / "bin/python", client.env)
    whole = "--find-links" in marker
    assert got == (EXPECTED if whole else {k: v for k, v in EXPECTED.items() if k != "asgiref"})
    r = client.check()
    assert r.returncode == 0 and "No broken requirements found" in r.stdout, r.stdout + r.stderr


def test_requirements_txt_marks_packages_locked_for_some_platforms_only() -> None:
    """python/requirements.txt (what the README installs): a package locked for only some target
    platforms carries their marker, so pip on the other platforms skips it; the rest are plain pins."""
    from packaging.requirements import Requirement

    from bundler.build.pyindex import requirements
    from bundler.lock import LockedPackage
    from solver.python.target import Target

    def locked(name: str, platform: str) -> LockedPackage:
        return LockedPackage(
            "python", name, "1.0", f"{name}-{platform or 'any'}.whl", 1, "0" * 64, platform=platform
        )

    linux, win = "manylinux_2_28_x86_64", "win_amd64"
    pkgs = [locked("anywhere", ""), locked("native", linux), locked("native", win), locked("winonly", win)]
    text = requirements(pkgs, "3.11", [linux, win]).decode()
    reqs = {r.name: r for r in (Requirement(line) for line in text.splitlines() if not line.startswith("#"))}
    assert sorted(reqs) == ["anywhere", "native", "winonly"]
    assert all(str(r.specifier) == "==1.0" for r in reqs.values())
    assert reqs["anywhere"].marker is None and reqs["native"].marker is None
    envs = {t.platform: dict(t.environment) for t in Target("3.11", (linux, win)).per_platform}
    marker = reqs["winonly"].marker
    assert marker is not None and marker.evaluate(envs[win]) and not marker.evaluate(envs[linux])
    # one platform: nothing to tell apart
    assert "; " not in requirements(pkgs, "3.11", [win]).decode()
