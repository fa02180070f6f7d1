"""Benchmarks: each script prints its figures as ratios against a baseline of the same run."""
