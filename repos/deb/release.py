"""Release and InRelease files: parsing, signature checking, freshness (wiki.debian.org/DebianRepository/Format).

A Release file is one deb822 stanza; its `SHA256` field lists every index file of the suite with its
size. `InRelease` is the same text clearsigned (RFC 4880 §7); `Release.gpg` is a detached signature of
`Release`. As apt does, we verify with `gpgv` against the source's `signed-by` keyring (or the host's
trusted keyrings when none is given), refuse a repository whose signature is missing or bad unless it
is `trusted`, and refuse a Release whose `Valid-Until` has passed unless `check_valid_until` is off.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from ..deb822 import read_stanzas
from ..errors import ExpiredError, IntegrityError, ParseError, SignatureError

if TYPE_CHECKING:
    import subprocess

_BEGIN_SIGNED = b"-----BEGIN PGP SIGNED MESSAGE-----"
_BEGIN_SIG = b"-----BEGIN PGP SIGNATURE-----"
_END_SIG = b"-----END PGP SIGNATURE-----"
HOST_KEYRINGS = ("/etc/apt/trusted.gpg", "/etc/apt/trusted.gpg.d")


@dataclass(frozen=True, slots=True)
class IndexFile:
    """One file listed in a Release: its path relative to the Release's directory, size and SHA256."""

    path: str
    size: int
    sha256: str


@dataclass(frozen=True)
class Release:
    """A parsed Release. `sha256` is the digest of the bytes as fetched (InRelease or Release): the lock's."""

    fields: dict[str, str]
    files: dict[str, IndexFile]
    sha256: str
    raw: bytes = field(repr=False)

    @property
    def architectures(self) -> tuple[str, ...]:
        return tuple(self.fields.get("Architectures", "").split())

    @property
    def components(self) -> tuple[str, ...]:
        return tuple(self.fields.get("Components", "").split())

    @property
    def acquire_by_hash(self) -> bool:
        return self.fields.get("Acquire-By-Hash", "").lower() == "yes"

    @property
    def not_automatic(self) -> bool:
        """`NotAutomatic: yes` (backports, experimental): apt gives the suite's packages priority 1."""
        return _flag(self.fields.get("NotAutomatic", ""))

    @property
    def but_automatic_upgrades(self) -> bool:
        """`ButAutomaticUpgrades: yes` with NotAutomatic: priority 100 instead of 1."""
        return _flag(self.fields.get("ButAutomaticUpgrades", ""))

    @property
    def valid_until(self) -> datetime | None:
        value = self.fields.get("Valid-Until")
        return parse_date(value, "Valid-Until") if value else None

    def check(self, path: str, data: bytes, where: str) -> None:
        """Raise IntegrityError(where) unless `data` has the size and SHA256 listed for `path`."""
        entry = self.files.get(path)
        if entry is None:
            raise IntegrityError(f"{path} is not listed in the Release file", where=where)
        if len(data) != entry.size:
            raise IntegrityError(
                f"size {len(data)} differs from the Release's {entry.size} for {path}", where=where
            )
        digest = hashlib.sha256(data).hexdigest()
        if digest != entry.sha256:
            raise IntegrityError(
                f"SHA256 {digest} differs from the Release's {entry.sha256} for {path}", where=where
            )


def _flag(value: str) -> bool:
    # apt's StringToBool as FindFlag uses it: anything else (or nothing) leaves the flag unset.
    return value.strip().lower() in ("yes", "true", "with", "on", "enable")


def parse_date(value: str, what: str) -> datetime:
    """An RFC 2822 date as Release files write it ("Sat, 10 Jun 2023 08:54:10 UTC"), made aware (UTC)."""
    import email.utils  # 7 ms of imports (socket, calendar, email.charset) that a solve may not need

    try:
        when = email.utils.parsedate_to_datetime(value.replace("UTC", "+0000").replace("GMT", "+0000"))
    except (TypeError, ValueError):
        raise ParseError(f"{what} is not a date: {value!r}") from None
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def strip_clearsign(data: bytes, where: str) -> bytes:
    """The signed text of a clearsigned message (RFC 4880 §7), dash-escaping undone.

    Strict like apt: exactly one signed message, nothing but blank lines around it.
    """
    lines = data.split(b"\n")
    i = 0
    while i < len(lines) and not lines[i].strip():
        i += 1
    if i == len(lines) or lines[i].rstrip() != _BEGIN_SIGNED:
        raise SignatureError("InRelease is not a clearsigned message", where=where)
    i += 1
    while i < len(lines) and lines[i].strip():  # armor headers such as "Hash: SHA512"
        if not lines[i].startswith(b"Hash:"):
            raise SignatureError("unexpected armor header in InRelease", where=where)
        i += 1
    i += 1
    body: list[bytes] = []
    while i < len(lines) and lines[i].rstrip() != _BEGIN_SIG:
        line = lines[i]
        if line.startswith(b"-"):
            if not line.startswith(b"- "):
                raise SignatureError("malformed dash-escaped line in InRelease", where=where)
            line = line[2:]
        body.append(line.rstrip(b"\r"))
        i += 1
    if i == len(lines):
        raise SignatureError("InRelease has no signature", where=where)
    while i < len(lines) and lines[i].rstrip() != _END_SIG:
        i += 1
    if i == len(lines):
        raise SignatureError("InRelease's signature is not terminated", where=where)
    if any(line.strip() for line in lines[i + 1 :]):
        raise SignatureError("text after the signature in InRelease", where=where)
    return b"\n".join(body) + b"\n"


def parse_release(text: bytes, where: str, *, digest_of: bytes | None = None) -> Release:
    """Parse Release text (already stripped of any signature). `digest_of`: the bytes whose SHA256 to record."""
    # One stanza; anything after its blank line is not ours (not even read). No comments in Release.
    stanzas = read_stanzas(text.decode("utf-8", errors="replace"), where, comments=False)
    first = next(stanzas, None)
    fields: dict[str, str] = first if first is not None else {}
    files: dict[str, IndexFile] = {}
    listing = fields.get("SHA256")
    if listing is None:
        raise ParseError("Release lists no SHA256 checksums", where=where)
    for entry in listing.split("\n"):
        if not entry.strip():
            continue
        parts = entry.split()
        if len(parts) != 3 or len(parts[0]) != 64 or not parts[1].isdigit():
            raise ParseError(f"malformed SHA256 entry {entry.strip()!r}", where=where)
        files[parts[2]] = IndexFile(parts[2], int(parts[1]), parts[0].lower())
    raw = digest_of if digest_of is not None else text
    return Release(fields, files, hashlib.sha256(raw).hexdigest(), raw)


def keyring_identity(signed_by: str | None) -> str:
    """A digest of the keys `signed_by` designates (file contents, inline key, or the host's keyrings)."""
    h = hashlib.sha256((signed_by or "").encode())
    if signed_by is None or "BEGIN PGP PUBLIC KEY BLOCK" not in signed_by:
        words = signed_by.split() if signed_by is not None else []
        paths = [Path(w) for w in words]
        if signed_by is None:
            for name in HOST_KEYRINGS:
                p = Path(name)
                paths.extend(sorted(p.iterdir()) if p.is_dir() else [p])
        for p in paths:
            try:
                h.update(p.read_bytes())
            except OSError:
                h.update(b"-missing-")
    return h.hexdigest()


def keyring_files(signed_by: str | None, tmp: Path) -> list[Path]:
    """Keyring files for gpgv: signed-by paths (dearmoring .asc keys), an inline key, or the host's."""
    if signed_by is not None and "BEGIN PGP PUBLIC KEY BLOCK" in signed_by:
        return [_write_dearmored(signed_by.encode(), tmp, 0)]
    paths: list[Path] = []
    if signed_by is not None:
        for word in signed_by.split():
            p = Path(word)
            if not p.is_absolute():
                raise SignatureError(
                    f"signed-by {word!r} is not a keyring path (fingerprints are not supported)",
                    hint="give the path of the repository's keyring file",
                )
            if not p.is_file():
                raise SignatureError(f"keyring {word} does not exist")
            paths.append(p)
    else:
        for name in HOST_KEYRINGS:
            p = Path(name)
            if p.is_file():
                paths.append(p)
            elif p.is_dir():
                paths.extend(sorted(q for q in p.iterdir() if q.suffix in (".gpg", ".asc")))
    out = []
    for i, p in enumerate(paths):
        data = p.read_bytes()
        out.append(_write_dearmored(data, tmp, i + 1) if data.lstrip().startswith(b"-----BEGIN") else p)
    return out


def _write_dearmored(armored: bytes, tmp: Path, n: int) -> Path:
    # gpgv reads binary keyrings; an armored key is base64 between its header block and the "=" checksum.
    lines = armored.strip().splitlines()
    try:
        start = lines.index(b"") + 1 if b"" in lines else 1
        body = [ln.strip() for ln in lines[start:] if not ln.startswith(b"-----") and not ln.startswith(b"=")]
        data = base64.b64decode(b"".join(body), validate=False)
    except ValueError:
        raise SignatureError("signed-by holds a malformed armored key") from None
    path = tmp / f"key{n}.gpg"
    path.write_bytes(data)
    return path


def run_gpgv(signed: bytes, signature: bytes | None, keyrings: list[Path], tmp: Path) -> subprocess.CompletedProcess[bytes]:
    """gpgv over a clearsigned message (`signature` None) or a detached signature, with its status
    lines on stdout ("[GNUPG:] GOODSIG ...", "VALIDSIG ..."); `tmp` is a private scratch directory.
    Raises OSError when gpgv cannot run."""
    import subprocess  # only when a Release is verified: a warm solve finds its verification cached

    args = ["gpgv", "--homedir", str(tmp), "--status-fd", "1"]
    for k in keyrings:
        args += ["--keyring", str(k)]
    (tmp / "data").write_bytes(signed)
    if signature is not None:
        (tmp / "data.sig").write_bytes(signature)
        args += [str(tmp / "data.sig"), str(tmp / "data")]
    else:
        args += [str(tmp / "data")]
    return subprocess.run(args, capture_output=True, check=False)


def gpgv(signed: bytes, signature: bytes | None, signed_by: str | None, where: str) -> None:
    """Verify a clearsigned message (`signature` None) or detached signature with gpgv; SignatureError if bad."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="bundler-gpgv-") as t:
        tmp = Path(t)
        keyrings = keyring_files(signed_by, tmp)
        if not keyrings:
            raise SignatureError(
                "no keyring to verify the Release signature with",
                where=where,
                hint="set signed-by to the repository's keyring, or trusted = true",
            )
        try:
            proc = run_gpgv(signed, signature, keyrings, tmp)
        except OSError as e:
            raise SignatureError(f"cannot run gpgv: {e}", where=where) from None
    status = proc.stdout.decode(errors="replace")
    if proc.returncode != 0 or "[GNUPG:] GOODSIG" not in status or "[GNUPG:] VALIDSIG" not in status:
        reason = "bad signature" if "BADSIG" in status else "signature not verified by the keyring"
        detail = proc.stderr.decode(errors="replace").strip().splitlines()
        raise SignatureError(reason + (f" ({detail[-1]})" if detail else ""), where=where)


def load_release(
    *,
    inrelease: bytes | None,
    release: bytes | None,
    release_gpg: bytes | None,
    signed_by: str | None,
    trusted: bool,
    check_valid_until: bool,
    where: str,
    now: datetime | None = None,
) -> Release:
    """Verify and parse what was fetched: InRelease if present, else Release (+ Release.gpg)."""
    if inrelease is not None:
        text = strip_clearsign(inrelease, where)
        if not trusted:
            gpgv(inrelease, None, signed_by, where)
        rel = parse_release(text, where, digest_of=inrelease)
    elif release is not None:
        if not trusted:
            if release_gpg is None:
                raise SignatureError(
                    "the repository is not signed (no InRelease, no Release.gpg)",
                    where=where,
                    hint="set trusted = true to use an unsigned repository",
                )
            gpgv(release, release_gpg, signed_by, where)
        rel = parse_release(release, where)
    else:
        raise ParseError("neither InRelease nor Release exists", where=where)
    until = rel.valid_until
    if check_valid_until and until is not None and until < (now or datetime.now(UTC)):
        raise ExpiredError(
            f"the Release expired on {until:%Y-%m-%d %H:%M} UTC (Valid-Until)",
            where=where,
            hint="a mirror may be stale; set check-valid-until = false to use it anyway",
        )
    return rel
