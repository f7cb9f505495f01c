"""Benchmarks: bundler side by side with apt, libsolv, dose-distcheck, pip and uv on real indexes.

Run `python -m benchmarks --help`. Not part of the CI test run (it uses the network and minutes of CPU);
`tests/test_benchmarks_smoke.py` runs it on tiny offline fixtures so that it cannot rot.
See benchmarks/README.md for what each case measures and how answers are cross-checked.
"""
