"""Project pages of the simple repository API: PEP 691 JSON and PEP 503 HTML, into `DistFile`s.

Carries PEP 592 yanked, `data-requires-python`, PEP 658/714 core metadata (`data-core-metadata`, the
older `data-dist-info-metadata`, JSON `core-metadata`/`dist-info-metadata`) and PEP 700 `size`.
A page that cannot be read as what its content type says raises `InputError` naming the URL.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Callable, Sequence
from json.scanner import make_scanner
from typing import Any, NamedTuple
from urllib.parse import urldefrag, urljoin

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from solver.errors import InputError
from solver.python.files import FileChoice
from solver.python.model import DistFile, Release

try:  # the compiled pass over a PEP 691 page (repos/pypi/_page.c); without it, json.loads reads it all
    from ._page import scan as _page_scan
except ImportError:  # pragma: no cover - built where a C compiler is
    _page_scan = None

JSON_TYPE = "application/vnd.pypi.simple.v1+json"
ACCEPT = f"{JSON_TYPE}, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.01"
_HEX64 = re.compile(r"[0-9a-fA-F]{64}")
_SDIST_EXT = (".tar.gz", ".zip", ".tar.bz2", ".tgz")
_KEEP = (".whl", *_SDIST_EXT)
# json.loads's own scanner (what `json.loads(text)` runs at the first value), to read one entry where
# it lies in a page's text
_SCAN: Callable[[str, int], tuple[Any, int]] = make_scanner(json.JSONDecoder())  # type: ignore[arg-type]


_CANONICAL: dict[str, str] = {}


def _canonical(name: str) -> str:
    c = _CANONICAL.get(name)
    if c is None:
        c = _CANONICAL[name] = canonicalize_name(name)
    return c


def split_filename(filename: str) -> tuple[str, str] | None:
    """(canonical project name, version text) of a wheel or sdist filename; None for anything else."""
    if filename.endswith(".whl"):
        parts = filename[:-4].split("-")
        if len(parts) not in (5, 6):
            return None
        return _canonical(parts[0]), parts[1]
    for ext in _SDIST_EXT:
        if filename.endswith(ext):
            stem = filename[: -len(ext)]
            name, sep, version = stem.rpartition("-")
            if not sep or not name:
                return None
            return _canonical(name), version
    return None


def _join(base: str, url: str) -> str:
    return url if url.startswith(("https://", "http://")) else urljoin(base, url)


def _metadata_flag(value: Any, url: str) -> str | None:
    """PEP 658/714 value: None (absent), "" (present, no hash) or a sha256."""
    if value is None or value is False or value == "false":
        return None
    if value is True or value == "true":
        return ""
    if isinstance(value, dict):
        return str(value.get("sha256", ""))
    if isinstance(value, str):
        algo, _, digest = value.partition("=")
        return digest if algo == "sha256" else ""
    raise InputError(f"bad core-metadata value {value!r}", where=url)


def _sha256(value: str | None, url: str) -> str:
    if not value:
        return ""
    if not _HEX64.fullmatch(value):
        raise InputError(f"malformed sha256 {value!r}", where=url)
    return value.lower()


def _json_files(data: bytes, page_url: str) -> list[Any]:
    """The `files` list of a PEP 691 page (its envelope checked)."""
    try:
        doc = json.loads(data)
    except (ValueError, UnicodeDecodeError) as e:
        raise InputError(f"malformed PEP 691 project page: {e}", where=page_url) from None
    if not isinstance(doc, dict) or not isinstance(doc.get("files"), list):
        raise InputError("malformed PEP 691 project page: no 'files' list", where=page_url)
    _check_api_version(str((doc.get("meta") or {}).get("api-version", "1.0")), page_url)
    return doc["files"]


class _Grouped(NamedTuple):
    """A PEP 691 page's files as `json_page_releases` reads them (see `_grouped`)."""

    listed: bool  # an entry names a wheel or an sdist
    groups: list[tuple[str, bool, Sequence[int]]]  # (key, is_sdist, entry numbers), in the page's order
    serving: set[int]  # the entry numbers `FileChoice.may_install` accepts
    entry: Callable[[int], Any]  # entry number -> the entry (a dict), parsed when first asked for


def _grouped(data: bytes, page_url: str, may_install: Callable[[str], bool]) -> _Grouped:
    """The page's wheels grouped by their name-version part (the filename up to its second dash; five
    or six dash-separated parts only) and its sdists one per group, with the entries the choice may
    install; raises `InputError` for the first entry whose filename or url is missing.

    With `repos.pypi._page` built, the document is checked as JSON, grouped and asked about in C, and
    an entry is parsed only when read: a target reads a few dozen of a big page's thousands (a cold
    solve of five roots read 5,832 of 35,302). Without it, or for a page it does not take exactly
    as `json.loads` would, the same is done in Python over `json.loads` of the whole page."""
    scanned = _page_scan(data, may_install) if _page_scan is not None else None
    if scanned is None:
        return _grouped_python(data, page_url, may_install)
    api, listed, first_bad, groups, spans, ascii = scanned
    _check_api_version(api if api is not None else "1.0", page_url)
    if first_bad >= 0:
        raise InputError(
            f"malformed PEP 691 project page: files[{first_bad}] lacks filename/url", where=page_url
        )
    serving: set[int] = set()
    out: list[tuple[str, bool, Sequence[int]]] = []
    for key, sdist, positions, served in groups:
        out.append((key, sdist, memoryview(positions).cast("i")))
        if served:
            serving.update(memoryview(served).cast("i"))
    cut = memoryview(spans).cast("q")
    parsed: dict[int, Any] = {}
    if ascii:  # a character index is a byte index: json's scanner reads each entry where it lies
        text = data.decode("ascii")
        scan = _SCAN

        def entry(i: int) -> Any:
            got = parsed.get(i)
            if got is None:
                got = parsed[i] = scan(text, cut[2 * i])[0]
            return got

    else:

        def entry(i: int) -> Any:
            got = parsed.get(i)
            if got is None:
                got = parsed[i] = json.loads(data[cut[2 * i] : cut[2 * i + 1]])
            return got

    return _Grouped(listed, out, serving, entry)


def _grouped_python(data: bytes, page_url: str, may_install: Callable[[str], bool]) -> _Grouped:
    """`_grouped` over `json.loads` of the whole page: per file, only string slicing and dict lookups
    keyed by text (whether the choice may install a wheel is asked once per tags part)."""
    files = _json_files(data, page_url)
    listed = False
    groups: dict[tuple[str, bool], list[int]] = defaultdict(list)
    serves: dict[str, bool] = {}
    serving: set[int] = set()
    for i, f in enumerate(files):
        filename = f.get("filename") if isinstance(f, dict) else None
        if isinstance(filename, str) and not filename.endswith(_KEEP):
            continue  # eggs, installers: never candidates
        if filename is None or not isinstance(filename, str) or not isinstance(f.get("url"), str):
            raise InputError(f"malformed PEP 691 project page: files[{i}] lacks filename/url", where=page_url)
        listed = True
        if filename.endswith(".whl"):
            if not 4 <= filename.count("-") <= 5:
                continue  # as split_filename: five or six dash-separated parts
            cut = filename.find("-", filename.find("-") + 1)
            groups[(filename[:cut], False)].append(i)
            tags = filename[cut:]
            ok = serves.get(tags)
            if ok is None:
                ok = serves[tags] = may_install(filename)
        else:
            groups[(filename, True)].append(i)
            ok = may_install(filename)
        if ok:
            serving.add(i)
    return _Grouped(listed, [(k, sdist, v) for (k, sdist), v in groups.items()], serving, files.__getitem__)


def _check_api_version(api: str, page_url: str) -> None:
    if not api.startswith("1."):
        raise InputError(f"unsupported simple API version {api}", where=page_url)


def _json_entry(i: int, f: Any, page_url: str) -> tuple[str, str | None] | None:
    """(sha256, core metadata flag) of a PEP 691 file entry, checked; None for a file that is never
    a candidate (an egg, an installer). Raises `InputError` for an entry that does not read."""
    if isinstance(f, dict) and isinstance(f.get("filename"), str) and not f["filename"].endswith(_KEEP):
        return None
    if not isinstance(f, dict) or not isinstance(f.get("filename"), str) or not isinstance(f.get("url"), str):
        raise InputError(f"malformed PEP 691 project page: files[{i}] lacks filename/url", where=page_url)
    hashes = f.get("hashes") or {}
    meta = f.get("core-metadata", f.get("data-dist-info-metadata", f.get("dist-info-metadata")))
    return (
        _sha256(hashes.get("sha256") if isinstance(hashes, dict) else None, page_url),
        _metadata_flag(meta, page_url),
    )


def _json_dist_file(
    f: dict[str, Any], checked: tuple[str, str | None], page_url: str, index: str
) -> DistFile:
    yanked = f.get("yanked", False)
    size = f.get("size")
    return DistFile(
        filename=f["filename"],
        url=_join(page_url, f["url"]),
        sha256=checked[0],
        size=size if isinstance(size, int) else None,
        requires_python=f.get("requires-python") or None,
        yanked=None if yanked is False or yanked is None else ("" if yanked is True else str(yanked)),
        core_metadata=checked[1],
        index=index,
    )


def parse_json_page(data: bytes, page_url: str, index: str) -> list[DistFile]:
    out = []
    for i, f in enumerate(_json_files(data, page_url)):
        checked = _json_entry(i, f, page_url)
        if checked is not None:
            out.append(_json_dist_file(f, checked, page_url, index))
    return out


class _Facts(NamedTuple):
    """What `FileChoice` reads of a file, before its DistFile is built (json_page_releases)."""

    filename: str
    requires_python: str | None
    yanked: str | None


def json_page_releases(
    data: bytes, page_url: str, index: str, name: str, choice: FileChoice
) -> tuple[bool, list[Release]]:
    """(the page lists a file, its releases for `choice`'s target, newest first), from a PEP 691 page.

    The same releases as `group_releases(name, parse_json_page(...))` with each release's files
    reduced by `choice.useful_files` and sorted newest first, but a `DistFile` is built (and its
    values checked) only for a file the choice keeps: one some platform installs, or whose facts an
    explanation needs: on a cold solve, building and reducing one for each of the tens of thousands
    of files the big pages list (pydantic-core's 15,000, sqlalchemy's 6,800) cost more than the rest
    of the solve. Every entry's shape is still checked (tests/test_python_caches.py checks that the
    two ways agree).
    """
    listed, groups, serving, entry = _grouped(data, page_url, choice.may_install)
    # the groups merged by version (two texts may spell one version), parsed once per group
    by_version: dict[Version, list[int]] = {}
    for key, sdist, positions in groups:
        if sdist:
            parsed = split_filename(key)
        else:
            raw, _, text = key.partition("-")
            parsed = (_canonical(raw), text)
        if parsed is None or parsed[0] != name:
            continue
        v = parse_version(parsed[1])
        if v is None:
            continue
        if v in by_version:  # another spelling of a version already met: the page's order is kept
            by_version[v] = sorted(by_version[v] + list(positions))
        else:
            by_version[v] = list(positions)

    def make(i: int) -> DistFile:
        f = entry(i)
        checked = _json_entry(i, f, page_url)
        assert checked is not None  # its filename has a kept extension
        return _json_dist_file(f, checked, page_url, index)

    releases = []
    for v, positions in by_version.items():
        # the choice reads three facts of a file: it runs on those, and a DistFile is built (and
        # its values checked) only for the files kept
        facts = {}
        for i in positions:
            if i not in serving:
                continue
            f = entry(i)
            yanked = f.get("yanked", False)
            facts[i] = _Facts(
                f["filename"],
                f.get("requires-python") or None,
                None if yanked is False or yanked is None else "",
            )
        keep, explain = choice.chosen(list(facts.values()))
        kept = {i for i, d in facts.items() if id(d) in keep}
        if explain:  # as `useful_files`: the first file of each (requires-python, not yanked) pair too
            seen: set[tuple[str | None, bool]] = set()
            for i in positions:
                f = entry(i)
                yanked = f.get("yanked", False)
                kind = (f.get("requires-python") or None, yanked is False or yanked is None)
                if kind not in seen:
                    seen.add(kind)
                    kept.add(i)
        releases.append(Release(name, v, tuple(make(i) for i in sorted(kept))))
    releases.sort(key=lambda r: r.version, reverse=True)
    return listed, releases


def _links(text: str) -> tuple[list[dict[str, str | None]], str | None]:
    """The attributes of each `<a>` of an HTML page, and its `<base href>`. html.parser is imported
    here: a JSON index, and every warm solve, never needs it (~4 ms to import)."""
    from html.parser import HTMLParser

    class Links(HTMLParser):
        def __init__(self) -> None:
            super().__init__(convert_charrefs=True)
            self.links: list[dict[str, str | None]] = []
            self.base: str | None = None

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            if tag == "a":
                self.links.append(dict(attrs))
            elif tag == "base" and self.base is None:
                self.base = dict(attrs).get("href")

    parser = Links()
    parser.feed(text)
    parser.close()
    return parser.links, parser.base


def parse_html_page(data: bytes, page_url: str, index: str) -> list[DistFile]:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError("malformed PEP 503 project page: not UTF-8", where=page_url) from None
    if "<" not in text:
        raise InputError("malformed PEP 503 project page: not HTML", where=page_url)
    from html import unescape

    links, base_href = _links(text)
    base = urljoin(page_url, base_href) if base_href else page_url
    out = []
    for attrs in links:
        href = attrs.get("href")
        if not href:
            raise InputError("malformed PEP 503 project page: a link without href", where=page_url)
        url, frag = urldefrag(urljoin(base, href))
        filename = url.rstrip("/").rsplit("/", 1)[-1]
        from urllib.parse import unquote

        filename = unquote(filename)
        sha = ""
        if frag:
            algo, _, digest = frag.partition("=")
            if algo == "sha256":
                sha = _sha256(digest, page_url)
        yanked = attrs.get("data-yanked")
        meta = attrs.get("data-core-metadata", attrs.get("data-dist-info-metadata"))
        rp = attrs.get("data-requires-python")
        out.append(
            DistFile(
                filename=filename,
                url=url,
                sha256=sha,
                size=None,
                requires_python=unescape(rp) if rp else None,
                yanked=None if "data-yanked" not in attrs else (yanked or ""),
                core_metadata=_metadata_flag(meta, page_url)
                if "data-core-metadata" in attrs or "data-dist-info-metadata" in attrs
                else None,
                index=index,
            )
        )
    return out


_VERSIONS: dict[str, Version | None] = {}


def parse_version(text: str) -> Version | None:
    """A PEP 440 version (one object per text, process-wide), or None when `text` is not one."""
    v = _VERSIONS.get(text, False)
    if v is False:
        try:
            v = Version(text)
        except InvalidVersion:
            v = None
        _VERSIONS[text] = v
    return v  # type: ignore[return-value]


def group_releases(name: str, files: list[DistFile]) -> list[Release]:
    """Group a project's files by version; files of other projects or unparsable names are dropped."""
    by_version: dict[Version, list[DistFile]] = defaultdict(list)
    for f in files:
        parsed = split_filename(f.filename)
        if parsed is None or parsed[0] != name:
            continue
        v = parse_version(parsed[1])
        if v is not None:
            by_version[v].append(f)
    return [Release(name, v, tuple(fs)) for v, fs in by_version.items()]
