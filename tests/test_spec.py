"""The bundle spec: valid specs load, every mistake is one clear error naming the file and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from bundler.spec import load_spec
from solver.errors import InputError

GOOD = """
[bundle]
name = "demo"
epoch = "2026-01-01T00:00:00Z"
[[debian.sources]]
uri = "./repo"
suites = ["bookworm", "bookworm-updates"]
components = ["main"]
architectures = ["amd64"]
[debian]
require = ["nova-api", "keystone (>= 2:23)"]
fix = ["openssl (= 3.0.15-1~deb12u1)"]
veto = [{ package = "exim4-base", reason = "we ship postfix" },
        { package = "libssl3", version = "<< 3.0.11", reason = "CVE-2023-5363" }]
[python]
python-version = "3.11"
require = ["requests"]
"""


def _write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "bundle.toml"
    p.write_text(text)
    return p


def test_good_spec(tmp_path: Path) -> None:
    spec = load_spec(_write(tmp_path, GOOD))
    assert spec.name == "demo" and spec.suite == "demo"
    assert spec.epoch == 1767225600
    assert spec.debian is not None and spec.python is not None
    assert spec.debian.sources[0].uri == (tmp_path / "repo").resolve().as_uri()
    assert spec.debian.veto[1].version == "<< 3.0.11"
    assert spec.python.platforms == ("manylinux_2_28_x86_64",)
    assert len(spec.sha256) == 64


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        (GOOD.replace("recommends", "x") + "\n[debian2]\n", "debian2: unknown key"),
        (GOOD.replace('name = "demo"', 'name = "demo"\ncolour = 1'), "bundle.colour: unknown key"),
        (GOOD.replace('reason = "we ship postfix"', 'reasn = "x"'), "debian.veto[0].reasn: unknown key"),
        (GOOD.replace('suites = ["bookworm", "bookworm-updates"]', "suites = 3"), "debian.sources[0].suites"),
        (GOOD.replace('require = ["requests"]', 'require = "requests"'), "python.require: must be a list"),
        ("[bundle\nname=1", "not valid TOML"),
        ("[bundle]\nname='x'\n", "neither a [debian] nor a [python] section"),
        (GOOD.replace('epoch = "2026-01-01T00:00:00Z"', 'epoch = "yesterday"'), "bundle.epoch"),
    ],
)
def test_bad_specs_name_the_fault(tmp_path: Path, text: str, fragment: str) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(InputError) as info:
        load_spec(path)
    message = str(info.value)
    assert fragment in message
    assert str(path) in message
    assert "\n" not in message


def test_missing_spec_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read spec"):
        load_spec(tmp_path / "nope.toml")


PINNED = GOOD.replace("[python]", """[[debian.pin]]
package = "*"
release = "a=bookworm-backports"
priority = 500
[[debian.pin]]
package = "openssl"
version = "3.0*"
priority = 990
[python]""")


def test_pins_load(tmp_path: Path) -> None:
    spec = load_spec(_write(tmp_path, PINNED))
    assert spec.debian is not None
    assert [(p.package, p.release, p.version, p.priority) for p in spec.debian.pins] == [
        ("*", "a=bookworm-backports", None, 500),
        ("openssl", None, "3.0*", 990),
    ]


@pytest.mark.parametrize(
    ("old", "new", "fragment"),
    [
        ("priority = 500", "priority = 0", "debian.pin[0]: pin of *: priority must be a non-zero integer"),
        ("priority = 500", 'priority = "500"', "debian.pin[0].priority: must be a int"),
        ("priority = 500", "priority = 40000", "outside -32768..32767"),
        ("priority = 500\n", "", "debian.pin[0].priority: is required"),
        ('package = "*"\n', "", "debian.pin[0].package: is required"),
        ('release = "a=bookworm-backports"', 'release = "x=bookworm"', "release selector 'x=bookworm'"),
        ('release = "a=bookworm-backports"', 'version = "1*"', "a version pin needs a package name"),
        ('release = "a=bookworm-backports"', 'release = "a=x"\nversion = "1"', "exactly one of release or version"),
        ('release = "a=bookworm-backports"', 'relase = "a=x"', "debian.pin[0].relase: unknown key"),
        ('package = "openssl"', 'package = "src:openssl"', "source and architecture pins are not supported"),
    ],
)
def test_bad_pins_name_the_key(tmp_path: Path, old: str, new: str, fragment: str) -> None:
    assert old in PINNED
    with pytest.raises(InputError) as info:
        load_spec(_write(tmp_path, PINNED.replace(old, new, 1)))
    assert fragment in str(info.value)
    assert str(tmp_path / "bundle.toml") in str(info.value)
