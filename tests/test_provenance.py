"""The bundle proves itself (bundler/provenance.py): a signed bundle ships its key (`debian/bundle.gpg`)
and names its signer in Release's Signed-By; `bundler verify`, with no keyring, refuses the bundle once
its signatures are stripped or replaced, and checks every file against bundle.lock. Real gpg, gpgv, apt."""

from __future__ import annotations

import dataclasses
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from bundler.build import build_bundle, manifest
from bundler.build.signing import public_key, sign_release
from bundler.cli import main
from bundler.lock import dumps, loads
from bundler.verify import verify_bundle
from tests.support.locks import EPOCH, OldKey, Upstream
from tests.test_build import _apt

DIST = "debian/dists/bookworm"


@pytest.fixture(scope="module")
def key() -> Iterator[OldKey]:
    k = OldKey.generate()
    yield k
    k.close()


@pytest.fixture(scope="module")
def other() -> Iterator[OldKey]:
    k = OldKey.generate()
    yield k
    k.close()


@pytest.fixture(scope="module")
def signed(key: OldKey, tmp_path_factory: pytest.TempPathFactory) -> Path:
    upstream = Upstream.create(tmp_path_factory.mktemp("upstream"))
    out = tmp_path_factory.mktemp("signed") / "b"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GNUPGHOME", str(key.home))
        build_bundle(upstream.lock(), out, sign_key=key.fingerprint, epoch=EPOCH)
    return out


def _copy(signed: Path, tmp_path: Path) -> Path:
    dest = tmp_path / "b"
    shutil.copytree(signed, dest)
    return dest


def _reseal(root: Path) -> None:
    """Rewrite SHA256SUMS to match the tree, as one who tampers with the bundle would."""
    (root / "SHA256SUMS").unlink()
    manifest.write_sums(root, {})


def test_signed_bundle_ships_its_key(signed: Path, key: OldKey, tmp_path: Path) -> None:
    shipped = signed / "debian/bundle.gpg"
    assert shipped.is_file()
    assert f"Signed-By: {key.fingerprint.upper()}" in (signed / DIST / "Release").read_text()
    readme = (signed / "README").read_text()
    assert "debian/bundle.gpg" in readme and key.fingerprint.upper() in readme
    assert verify_bundle(signed).problems == []
    assert verify_bundle(signed, keyring=str(key.keyring)).problems == []
    # apt takes the shipped key as the README says (signed-by), Release's Signed-By included.
    line = f"deb [signed-by={shipped}] file:{signed / 'debian'} bookworm main contrib"
    r = _apt(tmp_path / "apt", line, "update")
    assert r.returncode == 0 and "W:" not in r.stderr and "E:" not in r.stderr, r.stdout + r.stderr
    r = _apt(tmp_path / "apt", line, "-s", "install", "extra-tool")
    assert r.returncode == 0 and "Inst extra-tool" in r.stdout, r.stdout + r.stderr


def test_stripped_signatures_are_refused_without_keyring(signed: Path, tmp_path: Path) -> None:
    b = _copy(signed, tmp_path)
    (b / DIST / "InRelease").unlink()
    (b / DIST / "Release.gpg").unlink()
    (b / "debian/bundle.gpg").unlink()
    _reseal(b)  # SHA256SUMS no longer lists them: only the Release's own record can tell
    problems = verify_bundle(b).problems
    assert len(problems) == 1 and "the signatures were stripped" in problems[0], problems
    assert main(["verify", str(b)]) == 1


def test_one_stripped_signature_is_still_checked(signed: Path, tmp_path: Path) -> None:
    b = _copy(signed, tmp_path)
    (b / DIST / "InRelease").unlink()
    _reseal(b)
    assert verify_bundle(b).problems == []  # Release + Release.gpg is a signed repository too
    release = b / DIST / "Release"
    release.write_text(release.read_text().replace("Description: ", "Description: tampered "))
    _reseal(b)
    problems = verify_bundle(b).problems
    assert len(problems) == 1 and "Release.gpg: bad signature" in problems[0], problems


def test_replaced_signatures_are_refused(signed: Path, other: OldKey, tmp_path: Path) -> None:
    b = _copy(signed, tmp_path)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GNUPGHOME", str(other.home))
        sign_release(b / DIST / "Release", other.fingerprint, EPOCH)
        # Signatures by another key, the shipped key left: they do not verify.
        _reseal(b)
        problems = verify_bundle(b).problems
        assert len(problems) == 2 and all("bad signature" in p for p in problems), problems
        # ... and with that key shipped instead: they verify, but not by the signer Release names.
        (b / "debian/bundle.gpg").write_bytes(public_key(other.fingerprint)[1])
    _reseal(b)
    problems = verify_bundle(b).problems
    assert sorted(p.split(":")[0] for p in problems) == [f"{DIST}/InRelease", f"{DIST}/Release.gpg"], problems
    assert all(f"signed by {other.fingerprint.upper()}" in p and "was replaced" in p for p in problems)


def test_missing_key_is_reported(signed: Path, key: OldKey, tmp_path: Path) -> None:
    b = _copy(signed, tmp_path)
    (b / "debian/bundle.gpg").unlink()
    _reseal(b)
    assert verify_bundle(b).problems == ["debian/bundle.gpg: missing, so the signatures of "
                                         f"{DIST} cannot be checked (use --keyring)"]  # fmt: skip
    assert verify_bundle(b, keyring=str(key.keyring)).problems == []


def test_files_are_checked_against_the_lock(signed: Path, tmp_path: Path) -> None:
    b = _copy(signed, tmp_path)
    lock = loads((b / "bundle.lock").read_text(), "bundle.lock")
    victim = next(p for p in lock.packages if p.ecosystem == "python")
    changed = dataclasses.replace(victim, sha256="0" * 64)
    lock = dataclasses.replace(lock, packages=tuple(changed if p is victim else p for p in lock.packages))
    (b / "bundle.lock").write_text(dumps(lock))
    _reseal(b)  # every index still agrees with the files; only the lock does not
    problems = verify_bundle(b).problems
    assert problems == [
        f"python/files/{victim.filename}: size/sha256 differ from bundle.lock ({victim.id} is sha256 0000000000000000…)"
    ]
