"""Benchmarks for the connector: `python -m bench.run` measures each against a reference and writes RESULTS.md."""
