"""Blockwise sparsopt functions on dask.array: equal to the in-memory results."""

import os
import pickle
import subprocess
import sys

import numpy as np
import pytest

da = pytest.importorskip("dask.array")
dask = pytest.importorskip("dask")
pytest.importorskip("distributed")

from sparsopt import ot  # noqa: E402
from sparsopt.completion import MatrixCompletion  # noqa: E402
from sparsopt.dask import (  # noqa: E402
    fwht,
    sinkhorn,
    sinkhorn_newton_sparse,
    sinkhorn_unbalanced,
    sparse_encode,
    transform,
)
from sparsopt.datasets import make_sparse_coding_problem  # noqa: E402
from sparsopt.decomposition import (  # noqa: E402
    MiniBatchDictionaryLearning,
    SparseCoder,
)
from sparsopt.decomposition import sparse_encode as encode_in_memory  # noqa: E402
from sparsopt.transforms import fwht as fwht_in_memory  # noqa: E402


def assert_same_codes(got, want):
    """Blockwise and in-memory codes: the same supports and values to rounding. BLAS does not
    promise the same rounding for a row whatever the number of rows in the product (OpenBLAS's
    Haswell kernels on an AMD Zen 5 differ by a few ulp between 17 and 53 rows), so blocks of
    rows are not compared bit for bit."""
    assert got.dtype == want.dtype
    np.testing.assert_array_equal(got != 0, want != 0)
    tol = 20 * np.finfo(want.dtype).eps * max(1.0, float(np.abs(want).max()))
    np.testing.assert_allclose(got, want, rtol=0, atol=tol)


@pytest.fixture(scope="module")
def problem():
    X, D, _ = make_sparse_coding_problem(53, 16, 24, 3, noise=0.01, random_state=0)
    return X, D


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kwargs", [dict(penalty="l1", alpha=0.05),
                                    dict(penalty="l0", alpha=0.01, solver="cd"),
                                    dict(algorithm="omp", n_nonzero_coefs=3),
                                    dict(algorithm="lasso_lars", alpha=0.05)])
def test_sparse_encode_equals_in_memory(client, problem, dtype, kwargs):
    X, D = problem
    X, D = X.astype(dtype), D.astype(dtype)
    Xd = da.from_array(X, chunks=(17, 5))  # neither divides the data
    codes = sparse_encode(Xd, D, **kwargs)
    assert isinstance(codes, da.Array)
    assert codes.chunks == ((17, 17, 17, 2), (24,))
    assert codes.dtype == dtype
    out = codes.compute()
    assert out.dtype == dtype
    assert_same_codes(out, encode_in_memory(X, D, **kwargs))


def test_sparse_encode_dictionary_in_graph_once(problem):
    X, D = problem
    codes = sparse_encode(da.from_array(X, chunks=10), D, penalty="l1", alpha=0.05)
    graph = dict(codes.__dask_graph__())
    pickled = {k: pickle.dumps(task) for k, task in graph.items()}
    gram = D @ D.T
    # the dictionary and its Gram are serialised in exactly one task each ...
    assert sum(D.tobytes() in p for p in pickled.values()) == 1
    assert sum(gram.tobytes() in p for p in pickled.values()) == 1
    # ... and the six block tasks refer to them by key
    enc_tasks = [k for k in graph if isinstance(k, tuple) and k[0] == codes.name]
    assert len(enc_tasks) == codes.numblocks[0] == 6
    assert all(len(pickled[k]) < D.nbytes // 2 for k in enc_tasks)


def test_sparse_encode_init_and_errors(client, problem):
    X, D = problem
    init = np.zeros((X.shape[0], D.shape[0]))
    kw = dict(penalty="l1", alpha=0.05, solver="cd")
    out = sparse_encode(da.from_array(X, chunks=20), D, init=da.from_array(init, chunks=7),
                        **kw).compute()
    np.testing.assert_array_equal(out, encode_in_memory(X, D, init=init, **kw))
    with pytest.raises(ValueError, match="dictionary has"):
        sparse_encode(da.from_array(X), D[:, :5])
    with pytest.raises(ValueError, match="cov"):
        sparse_encode(da.from_array(X), D, cov=np.zeros((24, 53)))


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_transform_estimators(client, problem):
    X, D = problem
    Xd = da.from_array(X, chunks=(19, 16))
    coder = SparseCoder(D, penalty="l0", alpha=0.01).fit(X)
    assert_same_codes(transform(coder, Xd).compute(), coder.transform(X))
    dl = MiniBatchDictionaryLearning(n_components=8, batch_size=10, max_iter=2,
                                     random_state=0).fit(X)
    Y = transform(dl, Xd.astype(np.float32))
    assert Y.dtype == dl.transform(X[:2].astype(np.float32)).dtype
    assert_same_codes(Y.compute(), dl.transform(X.astype(np.float32)))
    with pytest.raises(TypeError, match="no method"):
        transform(coder, Xd, method="predict_proba")


def test_transform_matrix_completion(client):
    rng = np.random.default_rng(1)
    L = rng.standard_normal((60, 3)) @ rng.standard_normal((3, 12))
    M = L.copy()
    M[rng.random(M.shape) < 0.3] = np.nan
    mc = MatrixCompletion(rank=3, random_state=0).fit(M[:40])
    filled = transform(mc, da.from_array(M[40:], chunks=7))
    out = filled.compute()
    np.testing.assert_array_equal(out, mc.transform(M[40:]))
    assert not np.isnan(out).any()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("axis", [0, 1, -1])
def test_fwht_equals_in_memory(client, dtype, axis):
    x = np.random.default_rng(0).standard_normal((16, 8, 32)).astype(dtype)
    xd = da.from_array(x, chunks=(5, 3, 7))  # the transform axis is split: rechunked
    out = fwht(xd, axis=axis, normalize="ortho")
    assert out.dtype == dtype
    res = out.compute()
    assert res.dtype == dtype
    np.testing.assert_array_equal(res, fwht_in_memory(x, axis=axis, normalize="ortho"))


def test_fwht_errors():
    x = da.zeros((4, 6), chunks=2)
    with pytest.raises(ValueError, match="power of two"):
        fwht(x, axis=1)
    with pytest.raises(ValueError, match="axis=0"):
        fwht(da.zeros((4, 8), chunks=2), axis=0, rechunk=False)
    with pytest.raises(ValueError, match="axis"):
        fwht(x, axis=2)


@pytest.mark.parametrize("solver,args", [(sinkhorn, ()), (sinkhorn_unbalanced, (1.0,)),
                                         (sinkhorn_newton_sparse, ())])
def test_batched_transport_equals_in_memory(client, solver, args):
    rng = np.random.default_rng(0)
    M = rng.random((7, 5, 6)).astype(np.float32)
    b = rng.random((7, 6))
    b /= b.sum(axis=1, keepdims=True)
    res = solver(None, da.from_array(b, chunks=2), da.from_array(M, chunks=(3, 5, 6)),
                 0.2, *args)
    assert res.plan.dtype == np.float32
    computed = dask.compute(*res)
    ref = getattr(ot, solver.__name__)(None, b, M, 0.2, *args)
    for name, value in zip(res._fields, computed):
        np.testing.assert_array_equal(value, np.asarray(getattr(ref, name)), err_msg=name)


def test_batched_transport_errors():
    with pytest.raises(ValueError, match="3-D"):
        sinkhorn(None, None, da.zeros((3, 4)), 0.1)
    with pytest.raises(ValueError, match="init"):
        sinkhorn(None, None, da.zeros((2, 3, 4)), 0.1, init=(np.zeros(3), np.zeros(4)))


def _kill_once(x, marker):
    """Kill this worker process the first time it runs (the task is then retried)."""
    if not os.path.exists(marker):
        with open(marker, "w") as fh:
            fh.write("killed")
        os._exit(1)
    return x


def test_worker_killed_mid_computation(client, problem, tmp_path):
    X, D = problem
    marker = str(tmp_path / "killed")
    Xd = da.from_array(X, chunks=(9, 16)).map_blocks(_kill_once, marker,
                                                       meta=np.empty((0, 0), X.dtype))
    kw = dict(penalty="l1", alpha=0.05)
    out = sparse_encode(Xd, D, **kw).compute()
    assert os.path.exists(marker)  # a worker did die
    assert_same_codes(out, encode_in_memory(X, D, **kw))
    client.wait_for_workers(2, timeout=60)


def test_import_error_without_dask():
    code = ("import importlib, pkgutil, sys; sys.modules['dask'] = None\n"
            "import sparsopt\n"
            "for m in pkgutil.walk_packages(sparsopt.__path__, 'sparsopt.'):\n"
            "    if not m.name.startswith('sparsopt.dask') and '_cupy' not in m.name:\n"
            "        importlib.import_module(m.name)\n"
            "try:\n    import sparsopt.dask\nexcept ImportError as e:\n    print(e)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, env=dict(os.environ))
    assert 'pip install "sparsopt[dask]"' in out.stdout
