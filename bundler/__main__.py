"""`python -m bundler` is the `bundler` command."""

from bundler.cli import run

run()
