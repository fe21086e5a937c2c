"""Benchmarks of the hub (not installed: run from the repository, e.g. `python -m bench.api`); their
data comes from the demo dataset, resolvers.demo."""
