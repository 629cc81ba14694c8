"""sparsopt: classical sparse-optimization algorithms.

Solvers are plain functions (:mod:`sparsopt.solvers`), penalties and losses are
small picklable objects (:mod:`sparsopt.penalties`, :mod:`sparsopt.losses`), hot
loops are Numba (CPU) or CuPy (GPU) kernels behind :mod:`sparsopt.backends`.
Importing sparsopt never imports Numba, CuPy or Dask: kernels load on first use.
"""

from . import losses, penalties
from ._config import config_context, get_config, set_config
from ._show_versions import show_versions
from ._version import __version__
from ._warmup import warmup

__all__ = [
    "__version__",
    "config_context",
    "get_config",
    "losses",
    "penalties",
    "set_config",
    "show_versions",
    "warmup",
]
