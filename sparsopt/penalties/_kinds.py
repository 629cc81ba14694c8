"""Integer codes of the separable penalties for coordinate-wise kernels.

Must match the ``KIND_*`` constants of :mod:`sparsopt.backends._numba.prox` (a test
checks it); kept here so that penalties do not import Numba.
"""

KIND_L1, KIND_L0, KIND_LHALF, KIND_LTWOTHIRDS, KIND_LQ = 0, 1, 2, 3, 4
KIND_CEL0, KIND_MCP, KIND_SCAD, KIND_LOG, KIND_ELASTICNET, KIND_BOX = 5, 6, 7, 8, 9, 10
