"""The compiled part of bundler: one optional C extension (everything lives in pyproject.toml).

`repos.deb._scan` finds the stanzas of a Packages file in one pass (repos/deb/_scan.c). It is optional:
without a C compiler the install goes on and repos/deb/cache.py does the same work in Python, slower.
"""

from setuptools import Extension, setup

setup(ext_modules=[Extension("repos.deb._scan", ["repos/deb/_scan.c"], optional=True)])
