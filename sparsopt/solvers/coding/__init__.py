"""coding family (see :mod:`sparsopt.solvers`)."""
