"""repos: reading package indexes — Debian repositories and Python indexes — fetched, verified, cached.

May import `solver` (to build its model objects), never `bundler` (DESIGN.md).
"""
