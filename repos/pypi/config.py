"""The host's pip configuration, read the way pip reads it (pip's `configuration.py`).

Files, later ones overriding earlier ones: each `$XDG_CONFIG_DIRS/pip/pip.conf` (default /etc/xdg),
/etc/pip.conf, ~/.pip/pip.conf, `$XDG_CONFIG_HOME/pip/pip.conf` (~/.config/pip), then
`$PIP_CONFIG_FILE` (os.devnull disables every file). In each, `[global]` then `[install]`; then the
environment (`PIP_INDEX_URL`, `PIP_EXTRA_INDEX_URL`, `PIP_FIND_LINKS`, `PIP_NO_INDEX`, `PIP_CERT`).
When nothing sets index-url, pip's built-in default applies, asked of pip itself: this project never
spells a registry host name.
"""

from __future__ import annotations

import configparser
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from solver.errors import InputError


@dataclass(frozen=True, slots=True)
class PipConfig:
    index_url: str | None  # None: pip's default
    extra_index_urls: tuple[str, ...]
    find_links: tuple[str, ...]
    no_index: bool = False
    cert: str | None = None
    files: tuple[str, ...] = field(default=())  # the files that were read

    def indexes(self) -> tuple[str, ...]:
        """The indexes in priority order: index-url (or pip's default) first, then the extras."""
        if self.no_index:
            return ()
        primary = self.index_url or pip_default_index()
        out = [primary]
        for url in self.extra_index_urls:
            if url not in out:
                out.append(url)
        return tuple(out)


def pip_default_index() -> str:
    try:
        from pip._internal.models.index import PyPI  # type: ignore[import-not-found, unused-ignore]
    except Exception:
        raise InputError(
            "no index-url is configured and pip is not importable to supply its default",
            hint="set index-url in pip.conf, PIP_INDEX_URL, or [python] indexes in the spec",
        ) from None
    return str(PyPI.simple_url)


def config_files(env: Mapping[str, str] | None = None, home: Path | None = None) -> list[Path]:
    env = os.environ if env is None else env
    home = Path(env.get("HOME", str(Path.home()))) if home is None else home
    if env.get("PIP_CONFIG_FILE") == os.devnull:
        return []
    files = []
    xdg_dirs = env.get("XDG_CONFIG_DIRS") or "/etc/xdg"
    for d in xdg_dirs.split(os.pathsep):
        if d:
            files.append(Path(d) / "pip" / "pip.conf")
    files.append(Path("/etc/pip.conf"))
    files.append(home / ".pip" / "pip.conf")
    files.append(Path(env.get("XDG_CONFIG_HOME") or home / ".config") / "pip" / "pip.conf")
    if env.get("PIP_CONFIG_FILE"):
        files.append(Path(env["PIP_CONFIG_FILE"]))
    return files


def _split(value: str) -> list[str]:
    return value.split()


def _truthy(value: str) -> bool:
    return value.strip().lower() in ("1", "true", "yes", "on")


def read_pip_config(env: Mapping[str, str] | None = None, home: Path | None = None) -> PipConfig:
    env = os.environ if env is None else env
    values: dict[str, str] = {}
    read = []
    for path in config_files(env, home):
        if not path.is_file():
            continue
        parser = configparser.RawConfigParser()
        try:
            parser.read(path, encoding="utf-8")
        except (configparser.Error, UnicodeDecodeError) as e:
            raise InputError(f"cannot parse pip configuration: {e}", where=str(path)) from None
        read.append(str(path))
        for section in ("global", "install"):
            if parser.has_section(section):
                for key, value in parser.items(section):
                    values[key.replace("_", "-")] = value
    for key in ("index-url", "extra-index-url", "find-links", "no-index", "cert"):
        env_key = "PIP_" + key.upper().replace("-", "_")
        if env.get(env_key):
            values[key] = env[env_key]
    return PipConfig(
        index_url=values.get("index-url", "").strip() or None,
        extra_index_urls=tuple(_split(values.get("extra-index-url", ""))),
        find_links=tuple(_split(values.get("find-links", ""))),
        no_index=_truthy(values.get("no-index", "")),
        cert=values.get("cert", "").strip() or None,
        files=tuple(read),
    )
