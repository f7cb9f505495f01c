"""Python resolution: a resolvelib provider over PEP 440/508 with target markers and wheel tags.

No I/O here: project pages and metadata come through `PackageIndex` (implemented by `repos.pypi`).
"""

from .model import CoreMetadata, DistFile, PackageIndex, Release, parse_core_metadata
from .resolve import Pin, PythonResolution, Veto, Wanted, resolve
from .target import Target

__all__ = [
    "CoreMetadata",
    "DistFile",
    "PackageIndex",
    "Pin",
    "PythonResolution",
    "Release",
    "Target",
    "Veto",
    "Wanted",
    "parse_core_metadata",
    "resolve",
]
