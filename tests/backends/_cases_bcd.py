"""Conformance cases of the ``bcd`` kernels (merged into the CASES of
``test_kernel_conformance.py``): ``CASES = {op: (strategy, example, check)}``."""

CASES = {}
