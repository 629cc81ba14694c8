"""sparsopt on Dask: blockwise functions, streaming fits, workers ready to compute.

Optional: needs ``pip install "sparsopt[dask]"``. Nothing else in sparsopt imports Dask.
"""

try:
    import dask  # noqa: F401
    import distributed  # noqa: F401
except ImportError as exc:  # pragma: no cover - exercised in a subprocess test
    raise ImportError(
        'sparsopt.dask needs Dask and distributed: pip install "sparsopt[dask]"') from exc

# --- DASK-B: workers and many fits (h/dask_jobs) ---
from ._workers import SparsoptWorkerPlugin, worker_thread_info  # noqa: E402

__all__ = ["SparsoptWorkerPlugin", "worker_thread_info"]
