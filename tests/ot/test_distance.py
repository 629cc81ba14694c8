"""cost_matrix and wasserstein_distance."""

import numpy as np
import pytest
from scipy.spatial.distance import cdist

from sparsopt.ot import cost_matrix, sinkhorn, sinkhorn_newton_sparse, wasserstein_distance


@pytest.mark.parametrize("metric", ["sqeuclidean", "euclidean", "cityblock", "cosine"])
def test_cost_matrix_matches_cdist(metric):
    rng = np.random.default_rng(0)
    X, Y = rng.normal(size=(7, 3)), rng.normal(size=(5, 3))
    np.testing.assert_allclose(cost_matrix(X, Y, metric), cdist(X, Y, metric), atol=1e-12)


def test_cost_matrix_normalisation_and_errors():
    rng = np.random.default_rng(0)
    X, Y = rng.normal(size=(7, 3)), rng.normal(size=(5, 3))
    assert cost_matrix(X, Y, normalize="max").max() == pytest.approx(1.0)
    assert np.median(cost_matrix(X, Y, normalize="median")) == pytest.approx(1.0)
    assert np.all(cost_matrix(X, X) >= 0)
    with pytest.raises(ValueError, match="features"):
        cost_matrix(X, Y[:, :2])
    with pytest.raises(ValueError, match="normalize"):
        cost_matrix(X, Y, normalize="mean")
    with pytest.raises(ValueError, match="metric"):
        cost_matrix(X, Y, metric="nope")


def test_w2_of_a_translation_is_its_length():
    # W2 between a cloud and its translate by t is |t| (the optimal map is the translation)
    x = np.linspace(0.0, 1.0, 60)[:, None]
    M = cost_matrix(x, x + 0.3)
    assert wasserstein_distance(None, None, M, reg=1e-4, p=2) == pytest.approx(0.3, rel=1e-3)


def test_1d_w1_matches_scipy():
    from scipy.stats import wasserstein_distance as w1

    rng = np.random.default_rng(0)
    u, v = rng.normal(size=40), rng.normal(1.0, 0.5, size=50)
    M = cost_matrix(u[:, None], v[:, None], "euclidean")
    d = wasserstein_distance(None, None, M, reg=1e-3)
    assert d == pytest.approx(w1(u, v), abs=5e-3)


def test_solvers_agree_and_match_the_result_cost():
    rng = np.random.default_rng(0)
    M = rng.random((30, 20))
    d1 = wasserstein_distance(None, None, M, reg=0.02)
    assert isinstance(d1, float)
    res = sinkhorn_newton_sparse(None, None, M, 0.02)
    d2 = wasserstein_distance(None, None, M, reg=0.02, solver="sinkhorn", tol=1e-12,
                              max_iter=10000)
    assert d1 == pytest.approx(d2, rel=1e-9)
    assert d1 == pytest.approx(res.cost)
    ref = sinkhorn(None, None, M, 0.02, tol=1e-12, max_iter=10000)
    assert d1 == pytest.approx(ref.cost, rel=1e-9)


def test_batched_distances():
    rng = np.random.default_rng(0)
    M = rng.random((3, 10, 12))
    d = wasserstein_distance(None, None, M, reg=0.05)
    assert d.shape == (3,)
    for k in range(3):
        assert d[k] == pytest.approx(wasserstein_distance(None, None, M[k], reg=0.05))


def test_bad_arguments():
    M = np.ones((3, 3))
    with pytest.raises(ValueError, match="solver must be one of"):
        wasserstein_distance(None, None, M, reg=0.1, solver="emd")
    with pytest.raises(TypeError, match="return_result"):
        wasserstein_distance(None, None, M, reg=0.1, return_result=True)
    with pytest.raises(ValueError, match="p"):
        wasserstein_distance(None, None, M, reg=0.1, p=0)
