"""Run the real apt-get in an isolated root (its own status file, lists, cache and sources)."""

from __future__ import annotations

import subprocess
from pathlib import Path


class IsolatedApt:
    def __init__(self, root: Path, arch: str = "amd64") -> None:
        self.root = root
        for d in ("state/lists/partial", "cache/archives/partial", "etc/sources.list.d",
                  "etc/preferences.d", "etc/apt.conf.d", "etc/trusted.gpg.d", "log"):
            (root / d).mkdir(parents=True, exist_ok=True)
        (root / "status").touch()
        self.sources = root / "etc" / "sources.list"
        self.sources.write_text("")
        self.options = [
            f"-oDir::State::status={root / 'status'}",
            f"-oDir::State::Lists={root / 'state/lists'}",
            f"-oDir::Cache={root / 'cache'}",
            f"-oDir::Etc::SourceList={self.sources}",
            f"-oDir::Etc::SourceParts={root / 'etc/sources.list.d'}",
            f"-oDir::Etc::Preferences={root / 'etc/preferences'}",
            f"-oDir::Etc::PreferencesParts={root / 'etc/preferences.d'}",
            f"-oDir::Etc::parts={root / 'etc/apt.conf.d'}",
            f"-oDir::Etc::TrustedParts={root / 'etc/trusted.gpg.d'}",
            f"-oDir::Log={root / 'log'}",
            f"-oAPT::Architecture={arch}",
            "-oAPT::Install-Recommends=false",
            "-oDebug::NoLocking=1",
            "-opkgCacheGen::Essential=none",
            "-oAPT::Sandbox::User=root",
        ]

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["apt-get", "-q", *self.options, *args], capture_output=True, text=True)

    def simulate_install(self, *packages: str) -> tuple[subprocess.CompletedProcess[str], list[tuple[str, str]]]:
        """`apt-get -s install`; returns the process and the (name, version) pairs it would install."""
        proc = self.run("-s", "install", *packages)
        installs = []
        for line in proc.stdout.splitlines():
            if line.startswith("Inst "):
                parts = line.split()
                installs.append((parts[1], parts[2].strip("(")))
        return proc, installs
