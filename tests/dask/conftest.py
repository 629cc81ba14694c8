"""A two-process ``distributed.LocalCluster`` per test module (no external service)."""

import os

import pytest


@pytest.fixture(scope="module")
def client():
    """A client on a LocalCluster of two single-threaded worker processes."""
    distributed = pytest.importorskip("distributed")
    # one BLAS / Numba thread per worker: the machine's cores are the workers'
    env = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
           "NUMBA_NUM_THREADS": "1"}
    if os.environ.get("PYTHONPATH"):
        env["PYTHONPATH"] = os.environ["PYTHONPATH"]
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=":0", worker_dashboard_address=None,
                                  env=env) as cluster, \
            distributed.Client(cluster) as c:
        yield c
