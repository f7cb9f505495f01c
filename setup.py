"""The compiled part of bundler: optional C extensions (everything else lives in pyproject.toml).

`repos.deb._scan` finds the stanzas of a Packages file in one pass (repos/deb/_scan.c);
`repos.deb._fields` reads the fields a solve needs out of one stanza and makes its candidate
(repos/deb/_fields.c); `solver.deb._encode` is the inner loop of the Debian encoder's expansion
(solver/deb/_encode.c), `solver._sat` the SAT engine's bulk clause watcher (solver/_sat.c) and
`repos.pypi._page` finds the file entries of a PEP 691 page without building them (repos/pypi/_page.c).
All are optional: without a C compiler the install goes on and repos/deb/cache.py,
repos/deb/packages.py, solver/deb/encoding.py, solver/sat.py and repos/pypi/simple.py do the same
work in Python, slower.
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension("repos.deb._scan", ["repos/deb/_scan.c"], optional=True),
        Extension("repos.deb._fields", ["repos/deb/_fields.c"], optional=True),
        Extension("solver.deb._encode", ["solver/deb/_encode.c"], optional=True),
        Extension("solver._sat", ["solver/_sat.c"], optional=True),
        Extension("repos.pypi._page", ["repos/pypi/_page.c"], optional=True),
    ]
)
