"""bundler: the application — spec, lock, CLI and the writers of the offline bundle."""

__version__ = "0.1.0"
