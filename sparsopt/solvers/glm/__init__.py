"""glm family (see :mod:`sparsopt.solvers`)."""
