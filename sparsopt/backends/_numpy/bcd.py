"""NumPy references:
Block coordinate descent with greedy rules (solver ``sparsopt.solvers.bcd``)."""
