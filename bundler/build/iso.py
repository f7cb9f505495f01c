"""The bundle as an ISO 9660 image with Rock Ridge and Joliet, by xorriso (Debian package `xorriso`),
that apt-cdrom adds as a disc: the bundle's tree holds `.disk/info` (see disk_info).

Reproducible (reproducible-builds.org, xorriso(1) "SOURCE_DATE_EPOCH"): SOURCE_DATE_EPOCH is set,
every volume date and every file date is the epoch, the volume UUID derives from it, preparer and
application ids are fixed, uid/gid are 0, and a sort-weight list orders the file data by path (else
libisofs lays files out in the disk's inode order, which differs between two builds).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from solver.errors import InputError

from .manifest import walk_files

APPLICATION_ID = "bundler offline bundle"
PREPARER_ID = "bundler"
DISK_INFO = ".disk/info"


def disk_info(name: str, suite: str, epoch: int) -> str:
    """The medium's label, `.disk/info` as debian-cd writes it (one line): apt-cdrom names the disc by
    it (`deb cdrom:[LABEL]/debian ...`) and, with `--no-mount`, takes a directory holding `.disk/` for
    a mounted disc, so an extracted or loop-mounted image is accepted as it is."""
    label = f"{name} {suite} - bundler offline bundle {time.strftime('%Y%m%d-%H:%M', time.gmtime(epoch))}"
    return re.sub(r'["\[\]\s]+', " ", label).strip() + "\n"  # apt-cdrom turns " [ ] into _


def volume_id(name: str) -> str:
    """An ISO 9660 volume id from the bundle name: d-characters (A-Z 0-9 _), at most 32."""
    vid = re.sub(r"[^A-Z0-9_]+", "_", name.upper()).strip("_")
    return (vid or "BUNDLE")[:32]


def write_iso(root: Path, dest: Path, name: str, epoch: int) -> None:
    xorriso = shutil.which("xorriso")
    if xorriso is None:
        raise InputError("xorriso is not installed; it is needed for --iso", hint="apt-get install xorriso")
    uuid = time.strftime("%Y%m%d%H%M%S00", time.gmtime(epoch))
    files = walk_files(root)
    with tempfile.TemporaryDirectory(prefix=".iso-", dir=dest.parent) as tmp:
        weights = Path(tmp) / "weights"
        # Higher weight is written first; unique weights make the layout independent of inodes.
        # (Bundle paths are plain: letters, digits and ._+~!%=- only, so double quotes suffice.)
        weights.write_text(
            "".join(f'-find "/{rel}" -exec sort_weight {len(files) - i} --\n' for i, rel in enumerate(files)),
            "utf-8",
        )
        cmd = [
            xorriso, "-no_rc", "-report_about", "SORRY", "-abort_on", "FAILURE",
            "-outdev", f"stdio:{dest}", "-blank", "as_needed",
            "-volid", volume_id(name), "-volset_id", "", "-publisher", "",
            "-application_id", APPLICATION_ID, "-preparer_id", PREPARER_ID, "-system_id", "LINUX",
            "-joliet", "on", "-rockridge", "on", "-hardlinks", "off", "-acl", "off", "-xattr", "off",
            "-disk_dev_ino", "off", "-md5", "off", "-uid", "0", "-gid", "0",
            "-iso_nowtime", f"={epoch}",
            "-volume_date", "c", f"={epoch}", "-volume_date", "m", f"={epoch}",
            "-volume_date", "x", "default", "-volume_date", "f", "default",
            "-volume_date", "uuid", uuid, "-volume_date", "all_file_dates", f"={epoch}",
            "-map", str(root), "/",
            "-chmod_r", "a+r,go-w", "/", "--",
            "-options_from_file", str(weights),
            "-commit",
        ]  # fmt: skip
        env = {**os.environ, "SOURCE_DATE_EPOCH": str(epoch), "TZ": "UTC", "LC_ALL": "C"}
        result = subprocess.run(cmd, capture_output=True, env=env, check=False)
        if result.returncode != 0:
            lines = result.stderr.decode("utf-8", "replace").strip().splitlines()
            raise InputError(f"xorriso failed: {lines[-1] if lines else result.returncode}", where=str(dest))
