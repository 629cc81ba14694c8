"""sparsopt on Dask: blockwise functions on ``dask.array`` and streaming fits.

An optional subpackage: it needs Dask (``pip install "sparsopt[dask]"``); nothing else
in sparsopt imports it, so ``import sparsopt`` never imports Dask.

Blockwise (lazy in, lazy out, equal to the in-memory results):

- :func:`sparse_encode` -- sparse codes of the row blocks of a Dask array; the
  dictionary and its Gram are one task each in the graph, shared by every block.
- :func:`transform` -- ``estimator.transform`` of a fitted estimator (``SparseCoder``,
  the dictionary learners, ``MatrixCompletion``...) over row blocks; the estimator is
  one task in the graph.
- :func:`fwht` -- the fast Walsh-Hadamard transform along one axis (blockwise along the
  other axes).
- :func:`sinkhorn`, :func:`sinkhorn_unbalanced`, :func:`sinkhorn_newton_sparse` -- the
  batched transport solvers over a stack of problems chunked along its first axis.

Streaming:

- :func:`fit_incremental` -- ``partial_fit`` block by block from a Dask array or
  dataframe, one block in memory at a time.

Workers and many fits:

- :class:`SparsoptWorkerPlugin` -- per-task BLAS / Numba / ``n_jobs`` thread caps on
  every worker and warm Numba kernels; :func:`worker_thread_info` reports them.
- Many fits (``LassoCV`` folds, ``GridSearchCV``, one ``SinkhornTransport`` per domain)
  need no helper: plain joblib / scikit-learn code inside
  ``joblib.parallel_config(backend="dask")``.
"""

try:
    import dask  # noqa: F401
    import dask.array  # noqa: F401
except ImportError as exc:  # pragma: no cover - exercised in a subprocess test
    raise ImportError(
        "sparsopt.dask needs Dask, which is not installed: "
        'pip install "sparsopt[dask]"') from exc

from ._blocks import (
    LazyOTResult,
    fwht,
    sinkhorn,
    sinkhorn_newton_sparse,
    sinkhorn_unbalanced,
    sparse_encode,
    transform,
)
from ._stream import fit_incremental

__all__ = [
    "LazyOTResult",
    "fit_incremental",
    "fwht",
    "sinkhorn",
    "sinkhorn_newton_sparse",
    "sinkhorn_unbalanced",
    "sparse_encode",
    "transform",
]

# --- DASK-B: workers ready to compute (h/dask_jobs) ---
from ._workers import SparsoptWorkerPlugin, worker_thread_info  # noqa: E402

__all__ += ["SparsoptWorkerPlugin", "worker_thread_info"]
