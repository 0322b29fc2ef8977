"""Synthetic ledgers for tests, the sample script and the benchmarks (not part of the installed package)."""
