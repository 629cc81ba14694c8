"""NumPy references:
Message passing on forests: exact tree solves for sparse quadratics (label propagation)."""
