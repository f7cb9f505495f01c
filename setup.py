"""The compiled part of bundler: optional C extensions (everything else lives in pyproject.toml).

`repos.deb._scan` finds the stanzas of a Packages file in one pass (repos/deb/_scan.c);
`repos.deb._fields` reads the fields a solve needs out of one stanza (repos/deb/_fields.c). Both are
optional: without a C compiler the install goes on and repos/deb/cache.py and repos/deb/packages.py do
the same work in Python, slower.
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension("repos.deb._scan", ["repos/deb/_scan.c"], optional=True),
        Extension("repos.deb._fields", ["repos/deb/_fields.c"], optional=True),
    ]
)
