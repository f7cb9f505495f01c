"""The one wheel-METADATA reader (repos/pypi/archive.py): a wheel has exactly one `*.dist-info/METADATA`
(PEP 427), whether read whole, from a path, by HTTP ranges, or for the bundle's PEP 658 files."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from bundler.build.pyindex import wheel_metadata as bundle_wheel_metadata
from repos.pypi.archive import remote_wheel_metadata, wheel_metadata
from solver.errors import InputError

META = b"Metadata-Version: 2.1\nName: x\nVersion: 1.0\n"


def _wheel(*metadata_dirs: str) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("x/__init__.py", "")
        z.writestr("x/sub.dist-info/METADATA", "not top level")  # one level too deep: not the wheel's
        for d in metadata_dirs:
            z.writestr(f"{d}/METADATA", META.replace(b"x", d.encode()[:1]))
            z.writestr(f"{d}/RECORD", "")
    return buf.getvalue()


def _readers(data: bytes, tmp: Path) -> list[tuple[str, object]]:
    path = tmp / "x-1.0-py3-none-any.whl"
    path.write_bytes(data)

    def read(start: int | None, end: int) -> tuple[bytes, int, int]:
        if start is None:
            s = max(0, len(data) - end)
            return data[s:], s, len(data)
        return data[start : end + 1], start, len(data)

    return [
        ("bytes", lambda: wheel_metadata(data, "w")),
        ("path", lambda: wheel_metadata(path, "w")),
        ("ranges", lambda: remote_wheel_metadata(read, "w")[0]),
        ("bundle", lambda: bundle_wheel_metadata(path)),
    ]


def test_one_dist_info_is_read_the_same_by_every_path(tmp_path: Path) -> None:
    for name, reader in _readers(_wheel("x-1.0.dist-info"), tmp_path):
        assert reader() == META, name  # type: ignore[operator]


@pytest.mark.parametrize(
    ("dirs", "message"),
    [
        (("x-1.0.dist-info", "y-2.0.dist-info"), "wheel has 2 .dist-info/METADATA files"),
        ((), "wheel has no .dist-info/METADATA"),
    ],
)
def test_two_or_no_metadata_files_are_an_error_everywhere(
    tmp_path: Path, dirs: tuple[str, ...], message: str
) -> None:
    for name, reader in _readers(_wheel(*dirs), tmp_path):
        with pytest.raises(InputError, match=message):
            reader()  # type: ignore[operator]
        assert name


def test_not_a_wheel(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not a readable wheel"):
        wheel_metadata(b"not a zip", "w")
    assert bundle_wheel_metadata(tmp_path / "x-1.0.tar.gz") is None
