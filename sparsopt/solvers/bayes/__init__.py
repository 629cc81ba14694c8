"""bayes family (see :mod:`sparsopt.solvers`)."""
