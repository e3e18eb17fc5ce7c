"""Benchmarks for Lore: a deterministic synthetic organization (generate.py), baselines measured on it
(baselines.py), Lore's costs through its public interfaces (measure_index.py, measure_lsp.py) and the
report (report.py). Run `python -m benchmarks --quick` (CI) or `python -m benchmarks --sizes S,M,L`.
"""
