"""Threads over row blocks: kernels release the GIL, so threads scale on cores."""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

#: below this many multiply-adds a BLAS call is latency bound: one thread is faster (and much
#: faster on a loaded machine)
SMALL_BLAS_WORK = 4_000_000
_CONTROLLER = []
#: process-wide cap on the threads one sparsopt call may use (``set_thread_limit``)
_THREAD_LIMIT = {"n": None}
_JOBLIB = []  # joblib's thread-local config holder and its default, looked up once
#: persistent worker pools, one per (process, size): see ``thread_map``
_POOLS = {}
_POOL_LOCK = threading.Lock()
_WORKER = threading.local()


#: whether this process is a fork of one that had started Numba's OpenMP threads
_FORKED_AFTER_OMP = [False]


def _after_fork_in_child():
    """A forked child has none of its parent's pool threads, and the lock may have been
    held by a thread that does not exist there: start afresh. A parallel region of
    Numba's GNU OpenMP layer, started in the parent, would terminate the child ("fork()
    called from a process already using GNU OpenMP, this is unsafe"): remember it."""
    global _POOL_LOCK
    _POOL_LOCK = threading.Lock()
    _POOLS.clear()
    numba = sys.modules.get("numba")
    if numba is not None:
        try:
            layer = numba.threading_layer()
        except Exception:  # ValueError: no parallel region before the fork
            return
        if layer == "omp":
            _FORKED_AFTER_OMP[0] = True


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def blas_limits(work, threshold=SMALL_BLAS_WORK):
    """One BLAS thread for small, latency-bound products (``work < threshold``).

    The ``ThreadpoolController`` is created once: ``threadpool_limits`` rescans the loaded
    libraries at every call (0.3-4 ms), a cached controller costs ~15 us.

    Examples
    --------
    >>> from sparsopt.utils.parallel import blas_limits
    >>> with blas_limits(10):
    ...     pass
    """
    if work >= threshold:
        return contextlib.nullcontext()
    if not _CONTROLLER:
        from threadpoolctl import ThreadpoolController

        _CONTROLLER.append(ThreadpoolController())
    return _CONTROLLER[0].limit(limits=1, user_api="blas")


def set_thread_limit(n_threads):
    """Cap, process-wide, the threads that any one sparsopt call uses.

    The cap applies to the threads of ``n_jobs`` (row blocks, transport batches, CV folds on
    the threading backend) and to the Numba ``prange`` kernels. It is what
    :class:`sparsopt.dask.SparsoptWorkerPlugin` sets on each Dask worker (threads per task),
    so that a worker running ``nthreads`` tasks at once does not oversubscribe its cores.

    Parameters
    ----------
    n_threads : int or None
        Positive cap, or ``None`` to remove it.

    Examples
    --------
    >>> from sparsopt.utils.parallel import set_thread_limit, effective_n_jobs
    >>> set_thread_limit(2)
    >>> effective_n_jobs(8)
    2
    >>> set_thread_limit(None)
    """
    if n_threads is not None:
        if isinstance(n_threads, bool) or not isinstance(n_threads, int) or n_threads < 1:
            raise ValueError(f"n_threads must be a positive integer or None, got {n_threads!r}.")
    _THREAD_LIMIT["n"] = n_threads


def _in_dask_task():
    """True in a task thread of a Dask worker (never imports Dask: only looks it up)."""
    mod = sys.modules.get("distributed")
    if mod is None:
        return False
    try:
        mod.get_worker()
    except Exception:  # ValueError "No worker found" outside a worker
        return False
    return True


def get_thread_limit():
    """The cap on threads per sparsopt call: ``set_thread_limit``'s, else 1 in a Dask task.

    A Dask worker with ``nthreads`` threads runs ``nthreads`` tasks at once, so a task's
    share of the worker is one thread unless the worker plugin says otherwise.

    Returns
    -------
    limit : int or None
        ``None`` when nothing caps the threads.

    Examples
    --------
    >>> from sparsopt.utils.parallel import get_thread_limit
    >>> get_thread_limit() is None
    True
    """
    if _THREAD_LIMIT["n"] is not None:
        return _THREAD_LIMIT["n"]
    return 1 if _in_dask_task() else None


def _active_joblib():
    """joblib's active ``(backend, n_jobs)`` (``parallel_config``)."""
    from joblib.parallel import get_active_backend

    return get_active_backend()


def cluster_backend_active():
    """True inside ``joblib.parallel_config(backend="dask")`` (or another Dask backend).

    Examples
    --------
    >>> from sparsopt.utils.parallel import cluster_backend_active
    >>> cluster_backend_active()
    False
    """
    return type(_active_joblib()[0]).__name__.startswith("Dask")


def joblib_n_jobs(n_jobs):
    """``n_jobs`` to give ``joblib.Parallel`` for sparsopt's own many-fits loops.

    ``None`` stays ``None`` (joblib's ``parallel_config`` decides, as in scikit-learn); on a
    Dask backend ``n_jobs`` goes through unchanged (it counts cluster workers); else it is
    :func:`effective_n_jobs` (local threads, under the thread cap).

    Examples
    --------
    >>> from sparsopt.utils.parallel import joblib_n_jobs
    >>> joblib_n_jobs(None) is None
    True
    """
    if n_jobs is None or cluster_backend_active():
        return n_jobs
    return effective_n_jobs(n_jobs)


def _joblib_n_jobs():
    """``n_jobs`` of an enclosing ``joblib.parallel_config`` on a local backend, else None."""
    if not _JOBLIB:
        try:
            from joblib.parallel import _backend, default_parallel_config
        except ImportError:  # pragma: no cover - joblib internals moved: the public path
            _backend, default_parallel_config = None, None
        _JOBLIB.extend((_backend, default_parallel_config))
    local, default = _JOBLIB
    # fast path (~0.1 us, not ~4 us): no parallel_config active in this thread
    cfg = getattr(local, "config", None) if local is not None else False
    if cfg is None or (default is not None and cfg is default):
        return None
    backend, n_jobs = _active_joblib()
    # a cluster backend's n_jobs counts remote workers, not this process's threads
    if type(backend).__name__.startswith("Dask") or not isinstance(n_jobs, int):
        return None
    return None if isinstance(n_jobs, bool) or n_jobs == 0 else n_jobs


def effective_n_jobs(n_jobs):
    """Number of worker threads for ``n_jobs`` (scikit-learn's convention).

    ``None`` means the ``n_jobs`` of an enclosing ``joblib.parallel_config`` on a local
    backend (threads, loky), else one thread; ``1`` one thread; ``-1`` all cores; ``-2``
    all but one. The result never exceeds :func:`get_thread_limit` (one thread in a Dask
    task unless the worker plugin sets more).

    Examples
    --------
    >>> from sparsopt.utils.parallel import effective_n_jobs
    >>> effective_n_jobs(None)
    1
    >>> import joblib
    >>> with joblib.parallel_config(n_jobs=2):
    ...     effective_n_jobs(None)
    2
    """
    if n_jobs is not None and (isinstance(n_jobs, bool) or not isinstance(n_jobs, int)
                               or n_jobs == 0):
        raise ValueError(f"n_jobs must be a non-zero integer or None, got {n_jobs!r}.")
    if n_jobs is None:
        n_jobs = _joblib_n_jobs()
    if n_jobs is None:
        n = 1
    elif n_jobs < 0:
        n = max(1, (os.cpu_count() or 1) + 1 + n_jobs)
    else:
        n = n_jobs
    limit = get_thread_limit()
    return n if limit is None else min(n, limit)


def sync_numba_threads():
    """Set this thread's Numba thread count to the cap of :func:`get_thread_limit`.

    Numba's thread count is per calling thread; call this right before a ``prange``
    kernel. Without a cap it leaves Numba's setting alone.

    Examples
    --------
    >>> from sparsopt.utils.parallel import sync_numba_threads
    >>> sync_numba_threads()
    """
    limit = get_thread_limit()
    if limit is None:
        return
    import numba

    numba.set_num_threads(max(1, min(limit, numba.config.NUMBA_NUM_THREADS)))


def prange_ok(thread_safe=False):
    """Whether Numba ``prange`` kernels may run in this process.

    Not in a process forked after Numba's OpenMP threads started (GNU OpenMP would
    terminate it); with ``thread_safe``, also not on Numba's ``workqueue`` layer, which
    aborts when two Python threads start parallel regions at once. Starts Numba's
    threading layer if it is not running (``numba.get_num_threads``). Callers fall back
    to a serial kernel or to :func:`thread_map`.

    Examples
    --------
    >>> from sparsopt.utils.parallel import prange_ok
    >>> isinstance(prange_ok(), bool)
    True
    """
    if _FORKED_AFTER_OMP[0]:
        return False
    try:
        import numba

        numba.get_num_threads()
        layer = numba.threading_layer()
    except Exception:  # no threading layer can be loaded
        return False
    return layer in ("tbb", "omp") if thread_safe else True


def row_blocks(n_rows, n_blocks):
    """Split ``range(n_rows)`` into at most ``n_blocks`` contiguous ``(start, stop)`` pairs."""
    n_blocks = max(1, min(n_blocks, n_rows))
    bounds = [round(i * n_rows / n_blocks) for i in range(n_blocks + 1)]
    return [(bounds[i], bounds[i + 1]) for i in range(n_blocks) if bounds[i] < bounds[i + 1]]


def _mark_worker():
    _WORKER.active = True


def in_worker_thread():
    """True in a worker thread of sparsopt's pools (where :func:`thread_map` runs serially).

    Examples
    --------
    >>> from sparsopt.utils.parallel import in_worker_thread, thread_map
    >>> in_worker_thread(), thread_map(lambda _: in_worker_thread(), [0, 1], 2)
    (False, [True, True])
    """
    return getattr(_WORKER, "active", False)


def _pool(n_threads):
    key = (os.getpid(), n_threads)  # (the pid too: belt and braces for forks)
    pool = _POOLS.get(key)
    if pool is None:
        with _POOL_LOCK:
            pool = _POOLS.get(key)
            if pool is None:
                pool = ThreadPoolExecutor(n_threads, thread_name_prefix="sparsopt",
                                          initializer=_mark_worker)
                _POOLS[key] = pool
    return pool


def thread_map(fn, items, n_threads):
    """``[fn(item) for item in items]``, on ``n_threads`` threads of a persistent pool.

    The pool of each size is created once per process and kept: starting threads at every
    call costs more than many of the calls (a new thread also pays OpenBLAS's per-thread
    buffer set-up: the truncated E-step of 2000 points on two threads took 2.2 ms with a
    pool per call against 1.4 ms with a kept one, and 2.3 ms on one thread). A call made
    from inside a pool worker (nested parallelism) runs serially in that worker, so a
    pool never waits on itself; calls from several user threads share the pool's workers.

    Parameters
    ----------
    fn : callable
        Should spend its time in ``nogil`` kernels or BLAS.
    items : sequence
    n_threads : int
        Workers (``<= 1``: serial, in the calling thread).

    Returns
    -------
    results : list
        In the order of ``items``; the first exception raised by ``fn`` is re-raised.

    Examples
    --------
    >>> from sparsopt.utils.parallel import thread_map
    >>> thread_map(lambda x: x * x, [1, 2, 3], 2)
    [1, 4, 9]
    """
    items = list(items)
    n = min(int(n_threads), len(items))
    if n <= 1 or in_worker_thread():
        return [fn(item) for item in items]
    return list(_pool(n).map(fn, items))


def map_row_blocks(fn, n_rows, n_jobs=None):
    """Call ``fn(start, stop)`` on row blocks, in threads when ``n_jobs`` > 1.

    The threads are those of :func:`thread_map`'s persistent pools.

    Parameters
    ----------
    fn : callable ``fn(start, stop) -> object``
        Works on rows ``start:stop``; should spend its time in ``nogil`` kernels
        or BLAS so that threads run in parallel.
    n_rows : int
        Number of rows.
    n_jobs : int or None
        Threads (scikit-learn convention).

    Returns
    -------
    results : list
        ``fn``'s results, in row order.

    Examples
    --------
    >>> from sparsopt.utils.parallel import map_row_blocks
    >>> map_row_blocks(lambda a, b: (a, b), 10, n_jobs=2)
    [(0, 5), (5, 10)]
    """
    blocks = row_blocks(n_rows, effective_n_jobs(n_jobs))
    return thread_map(lambda ab: fn(*ab), blocks, len(blocks))
