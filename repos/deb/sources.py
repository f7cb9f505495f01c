"""The host's apt sources, the default list of Debian repositories (sources.list(5)).

Reads the one-line format (`/etc/apt/sources.list`, `sources.list.d/*.list`):

    deb [arch=amd64,arm64 signed-by=/usr/share/keyrings/x.gpg] http://mirror/debian bookworm main contrib

and the deb822 format (`sources.list.d/*.sources`, wiki.debian.org/DebianRepository/Format and
sources.list(5) "DEB822-STYLE FORMAT"):

    Types: deb deb-src
    URIs: http://mirror/debian
    Suites: bookworm bookworm-updates
    Components: main
    Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Only `deb` entries are kept (no `deb-src`); `Enabled: no` stanzas, comments and blank lines are skipped.
Files are read in apt's order: `sources.list` first, then `sources.list.d/` by name.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ..deb822 import read_stanzas, value_lines
from ..errors import ParseError


@dataclass(frozen=True, slots=True)
class AptSource:
    """One repository: the same fields as `bundler.spec.DebSource` (which `bundler` converts to and from).

    `suites` ending in "/" with no `components` make a flat repository. `signed_by` is a keyring path, or
    an inline ASCII-armored key (deb822 allows that), or None for the host's trusted keyrings.
    """

    uri: str
    suites: tuple[str, ...]
    components: tuple[str, ...]
    architectures: tuple[str, ...]
    signed_by: str | None = None
    check_valid_until: bool = True
    trusted: bool = False

    @property
    def is_flat(self) -> bool:
        return not self.components


@functools.cache
def host_architecture() -> str:
    """`dpkg --print-architecture`, or "amd64" where dpkg is missing."""
    import subprocess  # only here: a spec that names its architectures never runs dpkg

    try:
        out = subprocess.run(["dpkg", "--print-architecture"], capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return "amd64"
    return out.stdout.strip() or "amd64"


_TRUE = {"yes", "true", "with", "on", "enable"}
_FALSE = {"no", "false", "without", "off", "disable"}


def _boolean(value: str, where: str) -> bool:
    v = value.strip().lower()
    if v in _TRUE:
        return True
    if v in _FALSE:
        return False
    raise ParseError(f"expected yes or no, not {value!r}", where=where)


def read_apt_sources(root: Path | str = "/", *, native_arch: str | None = None) -> list[AptSource]:
    """Every enabled `deb` entry of the host's apt configuration under `root` (a chroot, or a test dir)."""
    native = native_arch or host_architecture()
    etc = Path(root) / "etc" / "apt"
    files: list[Path] = []
    if (etc / "sources.list").is_file():
        files.append(etc / "sources.list")
    d = etc / "sources.list.d"
    if d.is_dir():
        files.extend(sorted(p for p in d.iterdir() if p.suffix in (".list", ".sources") and p.is_file()))
    out: list[AptSource] = []
    for path in files:
        text = path.read_text(encoding="utf-8", errors="replace")
        if path.suffix == ".sources":
            out.extend(parse_deb822_sources(text, native, str(path)))
        else:
            out.extend(parse_one_line_sources(text, native, str(path)))
    return out


_LINE = re.compile(r"^\s*(?P<type>deb|deb-src)\s+(?:\[(?P<opts>[^\]]*)\]\s+)?(?P<rest>.*)$")


def parse_one_line_sources(text: str, native_arch: str, where: str = "sources.list") -> Iterator[AptSource]:
    """Entries of the one-line format; `where` names the file in errors."""
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        m = _LINE.match(line)
        loc = f"{where}:{lineno}"
        if m is None:
            raise ParseError(f"not a sources.list entry: {raw.strip()!r}", where=loc)
        if m.group("type") != "deb":
            continue
        opts: dict[str, str] = {}
        for word in (m.group("opts") or "").split():
            key, sep, value = word.partition("=")
            if not sep:
                raise ParseError(f"option {word!r} has no value", where=loc)
            opts[key] = value  # "arch+" / "arch-" (from arch+=, arch-=) amend the default list
        words = m.group("rest").split()
        if len(words) < 2:
            raise ParseError("an entry needs a URI and a suite", where=loc)
        uri, suite, components = words[0], words[1], tuple(words[2:])
        if suite.endswith("/") and components:
            raise ParseError("a flat repository (suite ending in /) takes no components", where=loc)
        if not suite.endswith("/") and not components:
            raise ParseError("a suite needs at least one component", where=loc)
        archs = _architectures(opts.get("arch"), opts.get("arch+"), opts.get("arch-"), native_arch)
        signed_by = opts.get("signed-by")
        yield AptSource(
            uri=uri.rstrip("/"),
            suites=(suite,),
            components=components,
            architectures=archs,
            signed_by=signed_by or None,
            check_valid_until=_boolean(opts.get("check-valid-until", "yes"), loc),
            trusted=_boolean(opts.get("trusted", "no"), loc),
        )


def _architectures(value: str | None, plus: str | None, minus: str | None, native: str) -> tuple[str, ...]:
    archs = value.replace(",", " ").split() if value else [native]
    if plus:
        archs += [a for a in plus.replace(",", " ").split() if a not in archs]
    if minus:
        drop = set(minus.replace(",", " ").split())
        archs = [a for a in archs if a not in drop]
    return tuple(archs)


def parse_deb822_sources(text: str, native_arch: str, where: str = "x.sources") -> Iterator[AptSource]:
    """Entries of the deb822 format: one AptSource per URI of each enabled stanza with Types: deb."""
    for f in read_stanzas(text, where, comments=True):  # field names in any case (sources.list(5))
        loc = f"{where}:{f.line}"
        if not _boolean(f.get("Enabled", "yes"), loc):
            continue
        if "deb" not in f.get("Types", "").split():
            continue
        uris = f.get("URIs", "").split()
        suites = tuple(f.get("Suites", "").split())
        components = tuple(f.get("Components", "").split())
        if not uris or not suites:
            raise ParseError("a stanza needs URIs and Suites", where=loc)
        flat = [s for s in suites if s.endswith("/")]
        if flat and components:
            raise ParseError("a flat repository (suite ending in /) takes no Components", where=loc)
        if not flat and not components:
            raise ParseError("Suites need Components", where=loc)
        archs = _architectures(
            f.get("Architectures"), f.get("Architectures-Add"), f.get("Architectures-Remove"), native_arch
        )
        # An inline key's lines are indented, an empty one written as " ." (sources.list(5)).
        signed_by = "\n".join(value_lines(f.get("Signed-By", ""))).strip() or None
        if signed_by and "BEGIN PGP" not in signed_by:
            # Several keyring paths may be listed; apt accepts any of them. Keep them as one string.
            signed_by = " ".join(signed_by.replace(",", " ").split())
        for uri in uris:
            yield AptSource(
                uri=uri.rstrip("/"),
                suites=suites,
                components=components,
                architectures=archs,
                signed_by=signed_by,
                check_valid_until=_boolean(f.get("Check-Valid-Until", "yes"), loc),
                trusted=_boolean(f.get("Trusted", "no"), loc),
            )
