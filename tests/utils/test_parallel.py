import threading

import pytest

from sparsopt.utils.parallel import effective_n_jobs, map_row_blocks, row_blocks


def test_effective_n_jobs_convention():
    import os

    n = os.cpu_count() or 1
    assert effective_n_jobs(None) == 1 and effective_n_jobs(3) == 3
    assert effective_n_jobs(-1) == n and effective_n_jobs(-2) == max(1, n - 1)
    for bad in (0, 1.5, True, "2"):
        with pytest.raises(ValueError, match="n_jobs"):
            effective_n_jobs(bad)


@pytest.mark.parametrize("n_rows, n_blocks", [(10, 3), (2, 5), (1, 1), (7, 7), (0, 2)])
def test_row_blocks_cover_rows_once_in_order(n_rows, n_blocks):
    blocks = row_blocks(n_rows, n_blocks)
    covered = [i for a, b in blocks for i in range(a, b)]
    assert covered == list(range(n_rows))
    assert len(blocks) <= max(1, n_blocks) and all(b > a for a, b in blocks)


def test_map_row_blocks_runs_blocks_in_threads_in_order():
    idents = []

    def work(a, b):
        idents.append(threading.get_ident())
        return list(range(a, b))

    out = map_row_blocks(work, 9, n_jobs=3)
    assert threading.get_ident() not in idents  # ran in worker threads
    assert [i for part in out for i in part] == list(range(9))
    assert map_row_blocks(lambda a, b: (a, b), 4, n_jobs=None) == [(0, 4)]


def test_thread_map_keeps_its_pool_and_runs_nested_calls_serially():
    from sparsopt.utils.parallel import in_worker_thread, thread_map

    first = set(thread_map(lambda _: threading.get_ident(), range(4), 2))
    again = set(thread_map(lambda _: threading.get_ident(), range(4), 2))
    assert threading.get_ident() not in first
    assert len(first | again) <= 2   # the same two workers, not new threads per call

    def outer(i):
        # a nested call runs in the worker itself: the pool never waits on itself
        inner = thread_map(lambda _: threading.get_ident(), range(3), 2)
        return in_worker_thread(), set(inner) == {threading.get_ident()}

    assert thread_map(outer, range(4), 2) == [(True, True)] * 4
    assert not in_worker_thread()
    with pytest.raises(ZeroDivisionError):
        thread_map(lambda x: 1 // x, [1, 0, 2], 2)
    assert thread_map(lambda x: x, [], 2) == [] and thread_map(str, [1], 1) == ["1"]


def test_thread_map_in_a_forked_child_gets_its_own_pool():
    import multiprocessing as mp

    from sparsopt.utils.parallel import thread_map

    if "fork" not in mp.get_all_start_methods():
        pytest.skip("no fork on this platform")
    thread_map(abs, [-1, -2], 2)   # the parent's pool exists
    with mp.get_context("fork").Pool(1) as p:
        assert p.apply(_child_thread_map, ()) == [1, 2, 3]


def _child_thread_map():
    from sparsopt.utils.parallel import thread_map

    return thread_map(abs, [-1, -2, -3], 2)
