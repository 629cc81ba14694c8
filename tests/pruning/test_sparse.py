"""Sparse inference: packing an MLP into CSR layers and the fused forward pass."""

import numpy as np
import pytest

from sparsopt.backends import dispatch
from sparsopt.pruning import (
    MagnitudeCriterion,
    SparseNetwork,
    sparse_network_forward,
    to_sparse_network,
)

SHAPES = [(64, 256), (256, 128), (128, 10)]


def _mlp(dtype=np.float64, density=0.1, seed=0):
    rng = np.random.default_rng(seed)
    coefs = [rng.standard_normal(s).astype(dtype) for s in SHAPES]
    ints = [rng.standard_normal(s[1]).astype(dtype) for s in SHAPES]
    masks = MagnitudeCriterion("erk").select(coefs, density)
    return coefs, ints, masks


def _dense_forward(X, coefs, ints, masks, act):
    f = {"relu": lambda z: np.maximum(z, 0), "identity": lambda z: z, "tanh": np.tanh,
         "logistic": lambda z: 1 / (1 + np.exp(-z))}[act]
    h = X.astype(np.float64)
    for i, (w, b, m) in enumerate(zip(coefs, ints, masks)):
        h = h @ (w * m) + b
        if i < len(coefs) - 1:
            h = f(h)
    return h


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("act", ["relu", "identity", "tanh", "logistic"])
@pytest.mark.parametrize("engine", ["numpy", "numba"])
def test_forward_matches_the_masked_dense_network(dtype, act, engine):
    coefs, ints, masks = _mlp(dtype)
    net = to_sparse_network(coefs, ints, masks)
    assert net.data.dtype == dtype and net.bias.dtype == dtype
    assert net.nnz == sum(int(m.sum()) for m in masks)
    X = np.random.default_rng(1).standard_normal((150, 64)).astype(dtype)
    out = sparse_network_forward(X, net, act, engine=engine)
    assert out.dtype == dtype and out.shape == (150, 10)
    ref = _dense_forward(X, coefs, ints, masks, act)
    tol = 1e-4 if dtype == np.float32 else 1e-11
    np.testing.assert_allclose(out, ref, rtol=tol, atol=tol * np.abs(ref).max())


def test_layers_feed_the_layer_kernel():
    coefs, ints, masks = _mlp()
    net = to_sparse_network(coefs, ints, masks)
    X = np.random.default_rng(2).standard_normal((70, 64))
    h = X
    for i in range(3):
        h = dispatch("sparse_layer_forward", h, *net.layer(i), i < 2, engine="numba")
    np.testing.assert_allclose(h, sparse_network_forward(X, net, engine="numba"), rtol=1e-12,
                               atol=1e-12)
    with pytest.raises(IndexError):
        net.layer(3)


def test_zeros_are_not_stored_and_inputs_untouched():
    w = np.array([[0.0, 1.0], [2.0, 0.0]])
    before = w.copy()
    net = to_sparse_network([w], [np.zeros(2)])
    assert isinstance(net, SparseNetwork) and net.nnz == 2
    assert net.indptr.tolist() == [0, 1, 2] and net.indices.tolist() == [1, 0]
    np.testing.assert_array_equal(w, before)
    net = to_sparse_network([w], [np.zeros(2)], masks=[np.array([[True, False], [True, True]])])
    assert net.nnz == 1


def test_bad_input_is_named():
    coefs, ints, masks = _mlp()
    net = to_sparse_network(coefs, ints)
    with pytest.raises(ValueError, match="intercepts"):
        to_sparse_network(coefs, ints[:2])
    with pytest.raises(ValueError, match="intercepts"):
        to_sparse_network(coefs, [ints[0], ints[2], ints[1]])
    with pytest.raises(ValueError, match="rows"):
        to_sparse_network([coefs[0], coefs[2]], [ints[0], ints[2]])
    with pytest.raises(ValueError, match="dtype"):
        to_sparse_network(coefs, ints, dtype=np.int64)
    with pytest.raises(ValueError, match="X"):
        sparse_network_forward(np.ones((3, 5)), net)
    with pytest.raises(ValueError, match="X"):
        sparse_network_forward(np.full((3, 64), np.nan), net)
    with pytest.raises(ValueError, match="activation"):
        sparse_network_forward(np.ones((3, 64)), net, activation="softplus")
    with pytest.raises(TypeError, match="network"):
        sparse_network_forward(np.ones((3, 64)), tuple(net)[:3])


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # Python >= 3.12: fork + threads
def test_forward_runs_in_a_forked_child():
    """A process forked after the parallel kernels ran gets the serial ones: a parallel
    region of Numba's GNU OpenMP layer there would terminate it."""
    import multiprocessing

    rng = np.random.default_rng(0)
    net = to_sparse_network([rng.standard_normal((4, 8)), rng.standard_normal((8, 2))],
                            [np.zeros(8), np.zeros(2)])
    X = rng.standard_normal((5, 4))
    ref = sparse_network_forward(X, net)
    try:
        ctx = multiprocessing.get_context("fork")
    except ValueError:
        pytest.skip("no fork on this platform")
    with ctx.Pool(1) as pool:
        got = pool.apply_async(sparse_network_forward, (X, net)).get(timeout=60)
    np.testing.assert_allclose(got, ref, rtol=1e-12)
