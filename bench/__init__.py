"""Benchmarks: our kernel and console side by side with ipykernel and qtconsole.

Run with ``make bench`` (or ``python -m bench --quick``). See ``python -m bench --help``.
"""
