"""The lock file: deterministic text that tomllib reads back exactly, and the fast re-solve reader."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bundler.lock import (
    IndexDigest,
    Lock,
    LockedPackage,
    dumps,
    loads,
    parse_own_toml,
    pinned_versions,
    read_lock,
    write_lock,
)
from solver.errors import InputError

text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)
names = st.sampled_from(["a", "libssl3", "python3-nova", "g++-12", "oslo.config"])

packages = st.builds(
    LockedPackage,
    ecosystem=st.sampled_from(["deb", "python"]),
    name=names,
    version=st.sampled_from(["1.0", "2:27.0.0-1", "3.0.15-1~deb12u1", "1.2.3+b1"]),
    filename=text,
    size=st.integers(0, 2**40),
    sha256=st.sampled_from(["0" * 64, "ab" * 32]),
    architecture=st.sampled_from(["amd64", "all", "i386"]),
    source=names,
    source_version=text,
    repository=text,
    url=text,
    requires_python=text,
    depends=st.lists(text, max_size=3).map(tuple),
    fixed=st.booleans(),
)


def _normal(p: LockedPackage) -> LockedPackage:
    # Fields that belong to the other ecosystem are not written.
    if p.ecosystem == "deb":
        return LockedPackage(p.ecosystem, p.name, p.version, p.filename, p.size, p.sha256, p.architecture, p.source,
                          p.source_version, p.repository, "", "", "", p.depends, p.fixed)
    return LockedPackage(p.ecosystem, p.name, p.version, p.filename, p.size, p.sha256, "", "", "", "", p.url,
                         p.platform, p.requires_python, p.depends, p.fixed)


@settings(max_examples=40, deadline=None)
@given(st.lists(packages, max_size=6), text, st.one_of(st.none(), st.integers(0, 2**33)))
def test_round_trip_is_exact_and_deterministic(pkgs: list[LockedPackage], name: str, epoch: int | None) -> None:
    lock = Lock(name, "suite", "ab" * 32, epoch, ("deb:a:amd64",), (IndexDigest("deb", "file:///x s", "00"),),
                tuple(_normal(p) for p in pkgs), {"python-version": "3.11"})
    out = dumps(lock)
    assert parse_own_toml(out) == tomllib.loads(out)  # the fast reader agrees with tomllib
    back = loads(out)
    assert sorted(back.packages, key=repr) == sorted(lock.packages, key=repr)
    assert dumps(back) == out
    # Order of input does not matter.
    assert dumps(Lock(name, "suite", "ab" * 32, epoch, lock.roots, lock.indexes,
                      tuple(reversed(lock.packages)), lock.extra)) == out
    assert sorted(pinned_versions(out)) == sorted(
        (p.ecosystem, p.name, p.version, p.architecture) for p in lock.packages)


def test_write_is_atomic_and_read_back(tmp_path: Path) -> None:
    lock = Lock("demo", "demo", "00", None, (), (), ())
    write_lock(tmp_path / "bundle.lock", lock)
    assert read_lock(tmp_path / "bundle.lock") == lock
    assert [p.name for p in tmp_path.iterdir()] == ["bundle.lock"]


@pytest.mark.parametrize("bad", ["version = 2\n", "version = 1\n[bundle]\nname='x'\n", "not toml ["])
def test_bad_locks_are_input_errors(tmp_path: Path, bad: str) -> None:
    (tmp_path / "bundle.lock").write_text(bad)
    with pytest.raises(InputError) as info:
        read_lock(tmp_path / "bundle.lock")
    assert "bundle.lock" in str(info.value)


def test_every_table_shape_reads_back_as_written() -> None:
    """The `[[package]]` tables are written by one format per shape (the keys of `to_toml`, depends or
    none); a value that needs an escape, or is not a string, is written value by value."""
    deb = LockedPackage("deb", "libc6", "2.36-9", "pool/l/libc6.deb", 10, "ab" * 32, "amd64", "glibc", "2.36-9",
                        "file:///m bookworm main")  # fmt: skip
    py = LockedPackage("python", "Oslo.Config", "9.0", "oslo.config-9.0.tar.gz", 5, "00" * 32, url="file:///w/o.tgz",
                       requires_python=">=3.8")  # fmt: skip
    shapes = [
        deb, LockedPackage(**{**_fields(deb), "name": "a", "depends": ("deb:libc6:amd64",), "fixed": True}),
        py, LockedPackage(**{**_fields(py), "name": "b", "platform": "manylinux_2_28_x86_64", "depends": ("python:c",)}),
        LockedPackage(**{**_fields(deb), "name": "q", "repository": 'file:///"quoted" s', "depends": ("x\ty",)}),
    ]  # fmt: skip
    lock = Lock("n", "suite", "ab" * 32, None, (), (), tuple(shapes), {})
    out = dumps(lock)
    assert parse_own_toml(out) == tomllib.loads(out)
    assert sorted(loads(out).packages, key=repr) == sorted(shapes, key=repr)
    assert 'repository = "file:///\\"quoted\\" s"' in out and 'depends = [\n    "x\\ty",\n]' in out
    assert "fixed = true\n" in out and "depends = []\n" in out


def _fields(p: LockedPackage) -> dict[str, object]:
    from dataclasses import fields

    return {f.name: getattr(p, f.name) for f in fields(p)}
