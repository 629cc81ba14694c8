"""NumPy references:
Working-set coordinate descent for the sparse linear models (Lasso, ElasticNet)."""
