"""Entropic optimal transport: log-domain Sinkhorn and Sinkhorn-Newton-Sparse.

Functions take marginals ``a``, ``b``, a ground cost ``M`` (or a batch of costs of
shape ``(B, n, m)``) and the regularisation ``reg``, and return an :class:`OTResult`: a
:class:`~sparsopt.solvers.SolverResult` whose ``x`` is the plan and whose ``stop_crit``
is its marginal error. They follow the library's loop protocol: ``init`` (potentials
``(f, g)`` or an earlier result), ``solver`` (the algorithm where there is a choice),
``callback(SolverState)`` with ``state.x = (f, g)`` (True stops after that check),
``verbose=None`` (the configuration), ``n_jobs`` (threads over a batch) and ``engine``.

Arrays of another array-API library (CuPy on a GPU, ...) are solved in their own
namespace and on their device by every solver here, with the same steps as for NumPy
arrays; :class:`SinkhornTransport` accepts them under scikit-learn's
``array_api_dispatch``.
"""

from .distance import cost_matrix, wasserstein_distance
from .result import OTResult
from .sinkhorn_solvers import sinkhorn, sinkhorn_knopp_scaling, sinkhorn_unbalanced
from .sns import sinkhorn_newton_sparse
from .transport import SinkhornTransport

__all__ = [
    "OTResult",
    "SinkhornTransport",
    "cost_matrix",
    "sinkhorn",
    "sinkhorn_knopp_scaling",
    "sinkhorn_newton_sparse",
    "sinkhorn_unbalanced",
    "wasserstein_distance",
]
