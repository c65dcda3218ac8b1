"""Experiments: run tasks x arms x providers, score the results, and compare arms honestly."""
