"""Regenerate the demo's tiny Debian repository (examples/demo/debian/) with real .debs.

The generated files are committed, so the demo needs neither network nor this script; run it only
to change the example:  .venv/bin/python examples/demo/generate.py
"""

from __future__ import annotations

import shutil
import sys
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))

from tests.support.debrepo import DebRepo  # noqa: E402
from tests.support.pyindex import Dist, make_find_links  # noqa: E402


def main() -> None:
    target = HERE / "debian"
    shutil.rmtree(target, ignore_errors=True)
    repo = DebRepo(target, origin="Demo", label="Demo")
    main_, upd = "bookworm", "bookworm-updates"
    add = repo.add
    add(main_, "main", name="demo-api", version="2:27.0.0-1", arch="all",
        depends="python3-demo (= 2:27.0.0-1), adduser, default-mta | mail-transport-agent", source="demo")
    add(main_, "main", name="python3-demo", version="2:27.0.0-1", arch="all",
        depends="python3 (>= 3.11), libdemo-util (>= 1.2), libssl3", source="demo")
    add(main_, "main", name="libdemo-util", version="1.2-1", depends="libc6 (>= 2.36)")
    add(main_, "main", name="libdemo-util", version="1.4-1", depends="libc6 (>= 2.36), libzstd1")
    add(main_, "main", name="libzstd1", version="1.5.4+dfsg2-5", depends="libc6 (>= 2.34)")
    add(main_, "main", name="libc6", version="2.36-9+deb12u4", multi_arch="same", priority="required")
    add(main_, "main", name="python3", version="3.11.2-1+b1", multi_arch="allowed", depends="libc6")
    add(main_, "main", name="adduser", version="3.134", arch="all", multi_arch="foreign")
    add(main_, "main", name="exim4-daemon-light", version="4.96-15+deb12u6",
        provides="mail-transport-agent", conflicts="mail-transport-agent")
    add(main_, "main", name="postfix", version="3.7.11-0+deb12u1",
        provides="mail-transport-agent, default-mta", conflicts="mail-transport-agent", depends="libssl3")
    add(main_, "main", name="openssl", version="3.0.9-1", depends="libssl3 (>= 3.0.9)", source="openssl")
    add(main_, "main", name="libssl3", version="3.0.9-1", depends="libc6 (>= 2.34)", source="openssl",
        multi_arch="same")
    add(upd, "main", name="openssl", version="3.0.11-1~deb12u2", depends="libssl3 (>= 3.0.11)",
        source="openssl")
    add(upd, "main", name="libssl3", version="3.0.11-1~deb12u2", depends="libc6 (>= 2.34)",
        source="openssl", multi_arch="same")
    add(upd, "main", name="libssl3", version="3.0.13-1~deb12u1", depends="libc6 (>= 2.34)",
        source="openssl", multi_arch="same")
    repo.write(compressions=("", ".xz"), date=datetime(2026, 1, 1, tzinfo=UTC))

    wheels = HERE / "wheels"
    shutil.rmtree(wheels, ignore_errors=True)
    make_find_links(wheels, [
        Dist("demo-client", "1.0.0", requires=["demo-config>=2", "demo-http[socks]>=1.1"]),
        Dist("demo-config", "2.0.0", requires=["pyyaml-lite>=5"]),
        Dist("demo-config", "2.1.0", requires=["pyyaml-lite>=5", "demo-extra; python_version < '3.8'"]),
        Dist("demo-http", "1.1.0", requires=["demo-socks; extra == 'socks'"], provides_extra=["socks"]),
        Dist("demo-http", "1.2.0", requires=["demo-socks; extra == 'socks'", "demo-certs"],
             provides_extra=["socks"]),
        Dist("demo-certs", "2026.1.0"),
        Dist("demo-socks", "1.7.1"),
        Dist("pyyaml-lite", "5.3.0"),
        Dist("pyyaml-lite", "6.0.1"),
    ])


if __name__ == "__main__":
    main()
