"""Threads over row blocks: kernels release the GIL, so threads scale on cores."""

from __future__ import annotations

import contextlib
import os
from concurrent.futures import ThreadPoolExecutor

#: below this many multiply-adds a BLAS call is latency bound: one thread is faster (and much
#: faster on a loaded machine)
SMALL_BLAS_WORK = 4_000_000
_CONTROLLER = []


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


def effective_n_jobs(n_jobs):
    """Number of worker threads for ``n_jobs`` (scikit-learn's convention).

    ``None`` and ``1`` mean one thread; ``-1`` all cores; ``-2`` all but one.

    Examples
    --------
    >>> from sparsopt.utils.parallel import effective_n_jobs
    >>> effective_n_jobs(None)
    1
    """
    if n_jobs is None:
        return 1
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, int) or n_jobs == 0:
        raise ValueError(f"n_jobs must be a non-zero integer or None, got {n_jobs!r}.")
    n_cpu = os.cpu_count() or 1
    return max(1, n_cpu + 1 + n_jobs) if n_jobs < 0 else n_jobs


def row_blocks(n_rows, n_blocks):
    """Split ``range(n_rows)`` into at most ``n_blocks`` contiguous ``(start, stop)`` pairs."""
    n_blocks = max(1, min(n_blocks, n_rows))
    bounds = [round(i * n_rows / n_blocks) for i in range(n_blocks + 1)]
    return [(bounds[i], bounds[i + 1]) for i in range(n_blocks) if bounds[i] < bounds[i + 1]]


def map_row_blocks(fn, n_rows, n_jobs=None):
    """Call ``fn(start, stop)`` on row blocks, in threads when ``n_jobs`` > 1.

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
    n = effective_n_jobs(n_jobs)
    blocks = row_blocks(n_rows, n)
    if len(blocks) <= 1:
        return [fn(a, b) for a, b in blocks]
    with ThreadPoolExecutor(max_workers=len(blocks)) as pool:
        return list(pool.map(lambda ab: fn(*ab), blocks))
