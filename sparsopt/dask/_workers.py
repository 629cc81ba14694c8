"""A Dask worker plugin: per-task thread caps for BLAS, Numba and sparsopt, and warm kernels.

A Dask worker with ``nthreads`` threads runs ``nthreads`` tasks at once. Each task that
calls BLAS or a parallel Numba kernel with all the machine's cores oversubscribes the
worker; the plugin sets, once per worker process, BLAS (threadpoolctl), OpenMP and
sparsopt's thread cap (:func:`sparsopt.utils.parallel.set_thread_limit`, which also sets
Numba's per-thread count before ``prange`` kernels) to ``threads`` per task, and compiles
(or loads from Numba's disk cache) the common kernels with :func:`sparsopt.warmup` so that
the first task does not pay for it.
"""

from __future__ import annotations

import time

try:
    from distributed import WorkerPlugin
except ImportError as exc:  # pragma: no cover - the dask extra installs distributed
    raise ImportError("sparsopt.dask needs distributed (Dask's scheduler): "
                      'pip install "sparsopt[dask]"') from exc

from ..utils.parallel import get_thread_limit, set_thread_limit

_STATE = {}


class SparsoptWorkerPlugin(WorkerPlugin):
    """Make each Dask worker ready to run sparsopt: thread caps and warm Numba kernels.

    Register it once on a client: ``client.register_plugin(SparsoptWorkerPlugin())``; workers
    that join later run it too.

    Parameters
    ----------
    warmup : bool or sequence of {"float32", "float64"}, default=True
        Run :func:`sparsopt.warmup` on each worker at registration (``True``: both dtypes;
        a sequence: those dtypes; ``False``: no warm-up, the first task compiles or loads
        the kernels it needs from Numba's disk cache).
    threads : int or None, default=None
        Threads per task for BLAS, OpenMP, Numba and sparsopt's ``n_jobs``. ``None``: one
        thread per task when the worker runs several tasks at once (``nthreads > 1``, Dask's
        own model: the worker's threads are its task slots), and also one on a 1-thread
        worker. A worker then uses at most ``nthreads * threads`` cores.

    Attributes
    ----------
    name : str
        ``"sparsopt"``: registering the plugin again replaces it.

    See Also
    --------
    sparsopt.utils.parallel.set_thread_limit : the process-wide thread cap it sets.
    sparsopt.warmup : the kernels it compiles.

    References
    ----------
    .. [1] Dask developers, "Worker plugins",
       https://distributed.dask.org/en/stable/plugins.html

    Examples
    --------
    >>> from sparsopt.dask import SparsoptWorkerPlugin
    >>> plugin = SparsoptWorkerPlugin(warmup=False, threads=1)
    >>> plugin.threads
    1

    On a cluster (not run here)::

        from distributed import Client, LocalCluster
        client = Client(LocalCluster(n_workers=2, threads_per_worker=1))
        client.register_plugin(SparsoptWorkerPlugin())
    """

    name = "sparsopt"

    def __init__(self, warmup=True, threads=None):
        if threads is not None and (isinstance(threads, bool) or not isinstance(threads, int)
                                    or threads < 1):
            raise ValueError(f"threads must be a positive integer or None, got {threads!r}.")
        if not isinstance(warmup, bool):
            warmup = tuple(warmup)
            bad = [d for d in warmup if d not in ("float32", "float64")]
            if bad or not warmup:
                raise ValueError("warmup must be a bool or a non-empty sequence of "
                                 f"'float32'/'float64', got {warmup!r}.")
        self.warmup = warmup
        self.threads = threads

    def setup(self, worker):
        """Set the thread caps and warm the kernels on ``worker`` (runs on the worker)."""
        from threadpoolctl import threadpool_limits

        threads = 1 if self.threads is None else self.threads
        set_thread_limit(threads)
        # process-wide BLAS / OpenMP pools: kept alive for the worker's life
        _STATE["limits"] = threadpool_limits(limits=threads)
        warm_s = 0.0
        if self.warmup:
            import sparsopt

            dtypes = ("float32", "float64") if self.warmup is True else self.warmup
            t0 = time.perf_counter()
            sparsopt.warmup(dtypes=dtypes)
            warm_s = time.perf_counter() - t0
        _STATE["info"] = {"threads": threads, "nthreads": int(worker.state.nthreads),
                          "warmup_s": warm_s}

    def transition(self, key, start, finish, **kwargs):
        """No-op: the plugin acts at ``setup`` and ``teardown`` only."""

    def teardown(self, worker):
        """Remove the caps (the worker is closing or the plugin is replaced)."""
        set_thread_limit(None)
        limits = _STATE.pop("limits", None)
        if limits is not None:
            limits.restore_original_limits()
        _STATE.pop("info", None)


def worker_thread_info():
    """What a task on this process sees: thread caps of sparsopt, Numba and BLAS.

    Run it on the workers with ``client.run(worker_thread_info)`` (process-wide caps) or as
    a task with ``client.submit(worker_thread_info)`` (also what a task's thread sees).

    Returns
    -------
    info : dict
        ``"sparsopt_limit"`` (:func:`~sparsopt.utils.parallel.get_thread_limit`),
        ``"n_jobs_-1"`` (what ``n_jobs=-1`` gives), ``"numba"`` (Numba's thread count for
        this thread after sparsopt syncs it), ``"blas"`` (the smallest BLAS pool size, or
        ``None`` without BLAS), and ``"plugin"`` (what the plugin set, or ``None``).

    Examples
    --------
    >>> from sparsopt.dask import worker_thread_info
    >>> sorted(worker_thread_info())
    ['blas', 'n_jobs_-1', 'numba', 'plugin', 'sparsopt_limit']
    """
    import numba
    from threadpoolctl import threadpool_info

    from ..utils.parallel import effective_n_jobs, sync_numba_threads

    sync_numba_threads()
    blas = [p["num_threads"] for p in threadpool_info() if p.get("user_api") == "blas"]
    return {"sparsopt_limit": get_thread_limit(), "n_jobs_-1": effective_n_jobs(-1),
            "numba": numba.get_num_threads(), "blas": min(blas) if blas else None,
            "plugin": _STATE.get("info")}
