"""``SparseWHT``: the peeling path on SPRIGHT's query points, the regression fallback,
predict, and errors (scikit-learn's checks run in tests/test_common.py)."""

import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import make_pipeline

from sparsopt.datasets import make_sparse_walsh
from sparsopt.exceptions import ConvergenceWarning
from sparsopt.transforms import SparseWHT, pack_bits, spright, walsh_expansion


def _problem(n=16, K=12, seed=0, **kw):
    return make_sparse_walsh(n, K, random_state=seed, **kw)


def test_peeling_path_on_query_points():
    query, k, v = _problem()
    est = SparseWHT(n_bits=16, sparsity=12, random_state=3)
    X = est.query_points()
    assert X.dtype == np.int8 and X.shape[1] == 16
    assert np.unique(pack_bits(X)).size == X.shape[0]
    est.fit(X, query(X))
    assert est.fit_path_ == "peeling" and est.resolved_ and est.converged_
    np.testing.assert_array_equal(est.indices_, k)
    np.testing.assert_allclose(est.coef_, v)
    # the same spectrum as the function with the same design
    res = spright(query, 16, 12, random_state=3)
    np.testing.assert_array_equal(res.indices, est.indices_)
    assert est.n_iter_ == res.n_rounds
    rng = np.random.default_rng(0)
    Xt = rng.integers(0, 2, size=(50, 16))
    np.testing.assert_allclose(est.predict(Xt), query(Xt))
    assert est.score(Xt, query(Xt)) == pytest.approx(1.0)


def test_peeling_path_accepts_shuffled_and_duplicated_points():
    query, k, v = _problem(seed=1)
    est = SparseWHT(n_bits=16, sparsity=12)
    X = est.query_points()
    y = query(X)
    perm = np.random.default_rng(0).permutation(X.shape[0])
    Xs = np.vstack([X[perm], X[:5]]).astype(np.float64)
    ys = np.concatenate([y[perm], y[:5]])
    est.fit(Xs, ys)
    assert est.fit_path_ == "peeling"
    np.testing.assert_array_equal(est.indices_, k)


def test_most_but_not_all_query_points_warn_and_regress():
    query, _, _ = _problem(n=10, K=4, seed=0)
    est = SparseWHT(n_bits=10, sparsity=4)
    X = est.query_points()[:-3]
    with pytest.warns(UserWarning, match="Falling back to sparse regression"):
        est.fit(X, query(X))
    assert est.fit_path_ == "regression"


def test_degenerate_functions():
    zero = spright(lambda P: np.zeros(len(P)), 10, 3, random_state=0)
    assert zero.resolved and zero.indices.size == 0 and zero.n_rounds == 1
    const = spright(lambda P: np.full(len(P), 2.5), 10, 3, random_state=0)
    np.testing.assert_array_equal(const.indices, [0])
    np.testing.assert_allclose(const.values, [2.5])
    one_bit = spright(lambda P: 1.0 - 2.0 * P[:, 0], 1, 2, random_state=0)
    np.testing.assert_array_equal(one_bit.indices, [1])


def test_nso_delays_recover_a_noisy_function():
    query, k, v = _problem(n=18, K=20, seed=2, snr_db=15.0)
    est = SparseWHT(n_bits=18, sparsity=20, delays="nso", n_offsets=3, random_state=1)
    X = est.query_points()
    est.fit(X, query(X))
    assert est.fit_path_ == "peeling"
    np.testing.assert_array_equal(est.indices_, k)
    np.testing.assert_allclose(est.coef_, v, atol=0.1)


def test_float32_stays_float32():
    query, k, v = _problem(seed=4, dtype=np.float32)
    est = SparseWHT(n_bits=16, sparsity=12)
    X = est.query_points().astype(np.float32)
    est.fit(X, query(X))
    assert est.coef_.dtype == np.float32 and est.predict(X).dtype == np.float32


def test_float32_points_keep_small_terms_next_to_a_large_mean():
    # float32 X computes in float32 (y is cast to X's dtype, as scikit-learn does): the
    # terms 1/2000 of the mean must still be found (a network's response to masks)
    k = np.array([0, 5, 300, 1025])
    v = np.array([1000.0, 1.0, -1.0, 0.5])
    est = SparseWHT(n_bits=12, sparsity=4)
    X = est.query_points()
    est.fit(X.astype(np.float32), walsh_expansion(X, k, v))
    assert est.resolved_
    np.testing.assert_array_equal(est.indices_, k)
    np.testing.assert_allclose(est.coef_, v, rtol=1e-5, atol=1e-4)


def test_regression_path_recovers_low_degree_terms():
    rng = np.random.default_rng(0)
    n = 12
    idx = np.array([0, 1 << 3, (1 << 2) | (1 << 7), (1 << 0) | (1 << 11)])
    vals = np.array([1.5, -2.0, 1.0, 0.7])
    X = rng.integers(0, 2, size=(300, n))
    y = walsh_expansion(X, idx, vals)
    est = SparseWHT(sparsity=4, max_degree=2).fit(X, y)
    assert est.fit_path_ == "regression" and not est.resolved_
    np.testing.assert_array_equal(est.indices_, np.sort(idx))
    np.testing.assert_allclose(est.coef_, vals[np.argsort(idx)], atol=1e-10)
    assert est.intercept_ == pytest.approx(1.5)
    assert est.n_bits_ == n and est.n_features_in_ == n


def test_in_scikit_learn_tooling():
    rng = np.random.default_rng(1)
    X = rng.integers(0, 2, size=(200, 8)).astype(float)
    y = 2 * (1 - 2 * X[:, 1]) - (1 - 2 * X[:, 2]) * (1 - 2 * X[:, 5])
    scores = cross_val_score(make_pipeline(SparseWHT(sparsity=3)), X, y, cv=3)
    assert np.all(scores > 0.99)
    assert clone(SparseWHT(sparsity=3)).get_params()["sparsity"] == 3


def test_non_binary_inputs_are_read_as_bits_above_one_half():
    rng = np.random.default_rng(0)
    X = rng.integers(0, 2, size=(100, 6))
    y = 1.0 - 2.0 * X[:, 0]
    est = SparseWHT(sparsity=2).fit(X, y)
    pm1 = 2.0 * X - 1.0  # {-1, +1} data: +1 reads as 1
    np.testing.assert_allclose(est.predict(pm1), est.predict(X))
    np.testing.assert_allclose(est.predict(X * 0.9 + 0.05), est.predict(X))


def test_errors():
    with pytest.raises(ValueError, match="set n_bits"):
        SparseWHT().query_points()
    with pytest.raises(ValueError, match="n_bits"):
        SparseWHT(n_bits=63).query_points()
    with pytest.raises(ValueError, match="sparsity"):
        SparseWHT(n_bits=10, sparsity=0).query_points()
    with pytest.raises(ValueError, match="n_bits=5"):
        SparseWHT(n_bits=5).fit(np.zeros((4, 6)), np.zeros(4))
    with pytest.raises(ValueError, match="at most 62"):
        SparseWHT().fit(np.zeros((4, 63)), np.zeros(4))
    with pytest.raises(ValueError,
                       match="SparseWHT: hash='disjoint' needs n_groups \\* n_hash_bits"):
        SparseWHT(n_bits=10, hash="disjoint", n_hash_bits=4).query_points()
    with pytest.raises(ValueError, match="random_state"):
        SparseWHT(n_bits=10, random_state=None).query_points()
    with pytest.raises(ValueError, match="random_state"):
        SparseWHT(n_bits=10, random_state=2**32).query_points()
    with pytest.raises(ValueError, match="SparseWHT: n_hash_bits"):
        SparseWHT(n_bits=10, n_hash_bits=11).query_points()
    # the regression path sizes its Walsh features before it builds them
    X = np.random.default_rng(0).integers(0, 2, size=(1000, 62))
    with pytest.raises(ValueError, match="7068621 Walsh features .* lower max_degree"):
        SparseWHT(max_degree=5, sparsity=3).fit(X, np.zeros(1000))
    # ... and OMP's Gram matrix of them (39 774 features: 12.6 GB, the features 32 MB)
    with pytest.raises(ValueError, match="39774 Walsh features .* Gram matrix of them"):
        SparseWHT(max_degree=3, sparsity=3).fit(X[:100], np.zeros(100))


def test_points_of_another_design_warn_before_regression():
    query, k, v = _problem(n=16, K=8)
    X = SparseWHT(n_bits=16, sparsity=8, random_state=0).query_points()
    y = query(X)
    for other in ({"random_state": 1}, {"sparsity": 9}, {"n_groups": 4}):
        est = SparseWHT(n_bits=16, **{"sparsity": 8, "random_state": 0, **other})
        with pytest.warns(UserWarning, match="looks like the query points of a SPRIGHT "
                                             "design .* but not of this one") as rec:
            est.fit(X, y)
        assert est.fit_path_ == "regression"
        assert all(w.filename == __file__ for w in rec)  # points at the caller's fit
    # random points (not a design) regress without a word
    Xr = np.random.default_rng(0).integers(0, 2, size=(len(X), 16))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert SparseWHT(sparsity=8).fit(Xr, query(Xr)).fit_path_ == "regression"


def test_regression_data_never_builds_a_design_it_cannot_be(monkeypatch):
    import sparsopt.transforms._estimator as mod

    def refuse(*args, **kwargs):
        raise AssertionError("the SPRIGHT design was built")

    rng = np.random.default_rng(0)
    X = rng.integers(0, 2, size=(200, 40))
    y = 1.0 - 2.0 * X[:, 3]
    monkeypatch.setattr(mod, "_make_plan", refuse)
    # 2**16 bins a group: 200 distinct points cannot be this design (was 8 M points built)
    est = SparseWHT(sparsity=32768).fit(X, y)
    assert est.fit_path_ == "regression"
    np.testing.assert_array_equal(est.indices_, [8])
    monkeypatch.undo()
    # disjoint hashing that does not fit 2 bits: X is not its design, so it regresses
    est = SparseWHT(hash="disjoint", sparsity=2).fit(X[:, :2], 1.0 - 2.0 * X[:, 0])
    assert est.fit_path_ == "regression"
    np.testing.assert_allclose(est.predict(X[:4, :2]), 1.0 - 2.0 * X[:4, 0])


def test_peeling_warning_points_at_the_caller():
    query, k, v = _problem(n=12, K=200, seed=2)  # far denser than 8 bins can peel
    est = SparseWHT(n_bits=12, sparsity=4, random_state=0, noise=0.0)
    X = est.query_points()
    with pytest.warns(ConvergenceWarning) as rec:
        est.fit(X, query(X))
    assert est.fit_path_ == "peeling" and not est.resolved_
    assert [w.filename for w in rec if w.category is ConvergenceWarning] == [__file__]


def test_a_refused_refit_leaves_the_fitted_model():
    rng = np.random.default_rng(0)
    X = rng.integers(0, 2, size=(60, 6))
    y = 1.0 - 2.0 * X[:, 1]
    est = SparseWHT(n_bits=5, sparsity=2).fit(X[:, :5], y)
    before = est.predict(X[:, :5])
    with pytest.raises(ValueError, match="X has 6 features but n_bits=5"):
        est.fit(X, y)
    np.testing.assert_array_equal(est.predict(X[:, :5]), before)
    assert est.n_features_in_ == 5
    with pytest.raises(ValueError, match="at most 62"):
        SparseWHT(sparsity=2).fit(X[:, :5], y).fit(np.zeros((4, 63)), np.zeros(4))
