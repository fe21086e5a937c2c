"""Benchmarks and the deterministic demo / benchmark dataset generator."""
