"""Integer codes of the separable penalties for coordinate-wise kernels.

The one definition: penalties report them in their kernel spec
(:meth:`sparsopt.penalties.Penalty.spec`), and the Numba and NumPy kernels branch on them.
This module imports nothing, so that penalties do not import Numba.
"""

KIND_L1, KIND_L0, KIND_LHALF, KIND_LTWOTHIRDS, KIND_LQ = 0, 1, 2, 3, 4
KIND_CEL0, KIND_MCP, KIND_SCAD, KIND_LOG, KIND_ELASTICNET, KIND_BOX = 5, 6, 7, 8, 9, 10
