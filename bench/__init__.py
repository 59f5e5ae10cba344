"""Benchmarks: `python -m bench [AREA ...]` (or `make bench`). Figures go to bench/RESULTS.md."""
