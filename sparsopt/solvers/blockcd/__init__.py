"""blockcd family (see :mod:`sparsopt.solvers`)."""
