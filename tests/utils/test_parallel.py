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
