import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline

from sparsopt.datasets import make_sparse_coding_problem
from sparsopt.decomposition import SparseCoder, sparse_encode
from sparsopt.penalties import L1, MCP
from sparsopt.solvers import encode


@pytest.fixture(scope="module")
def data():
    X, D, C = make_sparse_coding_problem(60, 16, 32, 3, noise=0.05, random_state=0)
    return X, D, C


def test_transform_matches_sparse_encode_and_sklearn_objective(data):
    from sklearn.decomposition import SparseCoder as SkCoder

    X, D, _ = data
    ours = SparseCoder(D, alpha=0.1, tol=1e-12).fit_transform(X)
    ref = SkCoder(D, transform_algorithm="lasso_cd", transform_alpha=0.1,
                  transform_max_iter=100000).fit_transform(X)

    def f(C):
        return 0.5 * np.sum((X - C @ D) ** 2) + 0.1 * np.abs(C).sum()

    assert f(ours) <= f(ref) * (1 + 1e-7)
    np.testing.assert_allclose(ours, sparse_encode(X, D, alpha=0.1, tol=1e-12), atol=1e-12)


def test_fit_transform_records_report_and_transform_is_stateless(data):
    X, D, _ = data
    coder = SparseCoder(D, penalty="mcp", alpha=0.1)
    coder.fit_transform(X)
    assert coder.n_components_ == 32 and coder.n_iter_ >= 1 and coder.converged_
    state = dict(coder.__dict__)
    coder.transform(X[:5])
    assert coder.__dict__.keys() == state.keys() and coder.objective_ == state["objective_"]
    codes, res = coder.encode(X[:5])
    np.testing.assert_allclose(np.mean(res.info["objective_per_sample"]),
                               np.mean(0.5 * np.sum((X[:5] - codes @ D) ** 2, axis=1)
                                       + MCP(0.1).value(codes, per_row=True)))


def test_inverse_transform_and_components(data):
    X, D, _ = data
    coder = SparseCoder(D, alpha=0.01).fit(X)
    codes = coder.transform(X)
    np.testing.assert_allclose(coder.inverse_transform(codes), codes @ D)
    assert coder.components_ is not None and coder.components_.shape == D.shape
    rel = np.linalg.norm(X - coder.inverse_transform(codes)) / np.linalg.norm(X)
    assert rel < 0.2
    with pytest.raises(ValueError, match="n_components_"):
        coder.inverse_transform(codes[:, :3])


@pytest.mark.parametrize("solver", ["lars", "cd", "fista", "ista", "lca", "iht", "omp"])
def test_every_solver_through_the_estimator(data, solver):
    X, D, C = data
    kw = {"n_nonzero_coefs": 3} if solver in ("iht", "omp") else {"alpha": 0.05}
    Dl = D / 1.5 if solver == "lca" else D
    coder = SparseCoder(Dl, solver=solver, transform_max_iter=5000, tol=1e-8, **kw)
    codes = coder.fit_transform(X)
    assert codes.shape == (60, 32) and np.all(np.isfinite(codes))
    if solver in ("iht", "omp"):
        assert np.all(np.count_nonzero(codes, axis=1) <= 3)


def test_float32_preserved_and_n_jobs_identical(data):
    X, D, _ = data
    X32, D32 = X.astype(np.float32), D.astype(np.float32)
    for solver in ("lars", "cd", "fista"):
        a = SparseCoder(D32, alpha=0.1, solver=solver).fit_transform(X32)
        b = SparseCoder(D32, alpha=0.1, solver=solver, n_jobs=2).fit_transform(X32)
        assert a.dtype == b.dtype == np.float32
        if solver in ("lars", "cd"):  # rows are independent: identical
            np.testing.assert_array_equal(a, b)
        else:  # each row block stops on its own criterion: equal to the tolerance
            np.testing.assert_allclose(a, b, atol=1e-4)


def test_positive_codes(data):
    X, D, _ = data
    codes = SparseCoder(D, alpha=0.05, positive=True).fit_transform(X)
    assert np.all(codes >= 0) and np.any(codes > 0)


def test_pipeline_gridsearch_clone_pickle(data):
    X, D, C = data
    y = (C[:, 0] != 0).astype(int)
    pipe = make_pipeline(SparseCoder(D, penalty="l1", alpha=0.1), LogisticRegression())
    search = GridSearchCV(pipe, {"sparsecoder__alpha": [0.01, 0.1],
                                 "sparsecoder__penalty": ["l1", MCP(0.05)]}, cv=3)
    search.fit(X, y)
    assert search.best_score_ > 0.6
    restored = pickle.loads(pickle.dumps(search.best_estimator_))
    np.testing.assert_array_equal(restored.predict(X), search.best_estimator_.predict(X))
    c = clone(SparseCoder(D, penalty=L1(0.2)))
    assert c.penalty == L1(0.2) and c.penalty is not None


def test_set_output_pandas(data):
    pd = pytest.importorskip("pandas")
    X, D, _ = data
    coder = SparseCoder(D, alpha=0.1).set_output(transform="pandas")
    df = coder.fit_transform(pd.DataFrame(X, columns=[f"f{i}" for i in range(16)]))
    assert isinstance(df, pd.DataFrame) and list(df.columns[:2]) == ["sparsecoder0",
                                                                      "sparsecoder1"]
    assert isinstance(coder.transform(X), pd.DataFrame)


@pytest.mark.parametrize("kwargs, X_mod, match", [
    ({"alpha": -1.0}, None, "alpha"),
    ({"penalty": "l7"}, None, "penalty"),
    ({"solver": "newton"}, None, "solver"),
    ({}, "nan", "NaN"),
    ({}, "width", "features but the dictionary"),
    ({"dictionary": "1d"}, None, "dictionary must be 2-D"),
])
def test_bad_input_is_named(data, kwargs, X_mod, match):
    X, D, _ = data
    params = {"dictionary": D}
    params.update(kwargs)
    if isinstance(params["dictionary"], str):
        params["dictionary"] = D[0]
    if X_mod == "nan":
        X = X.copy()
        X[0, 0] = np.nan
    elif X_mod == "width":
        X = X[:, :-1]
    with pytest.raises((ValueError, TypeError), match=match):
        SparseCoder(**params).fit(X)


def test_cel0_by_name_gets_atom_norms(data):
    X, D, _ = data
    Ds = D * np.linspace(0.5, 1.5, D.shape[0])[:, None]  # unequal atom norms
    res = encode(X, Ds, penalty="cel0", alpha=0.01, max_iter=5000)
    codes = res.x
    assert np.all(np.isfinite(codes)) and res.info["objective_per_sample"].shape == (60,)


def test_fit_only_validates_and_transform_needs_no_fit(data):
    # scikit-learn's SparseCoder is stateless: fit records n_features_in_, transform
    # works on an unfitted coder
    X, D, _ = data
    coder = SparseCoder(D, alpha=0.1)
    assert coder.__sklearn_tags__().requires_fit is False
    unfitted = coder.transform(X)
    coder.fit(X)
    assert coder.n_features_in_ == 16 and not hasattr(coder, "n_iter_")
    np.testing.assert_array_equal(coder.transform(X), unfitted)
    with pytest.raises(ValueError, match="features"):
        SparseCoder(D).transform(X[:, :5])


def test_default_is_sklearn_omp_and_spellings_do_not_mix(data):
    from sklearn.decomposition import SparseCoder as SkCoder

    X, D, _ = data
    np.testing.assert_allclose(SparseCoder(D).transform(X), SkCoder(D).transform(X),
                               atol=1e-10)
    with pytest.raises(ValueError, match="penalty.*transform_algorithm"):
        SparseCoder(D, penalty="l1", transform_algorithm="omp").transform(X)
    with pytest.raises(ValueError, match="positive.*positive_code"):
        SparseCoder(D, positive=True, positive_code=True).fit(X)
    with pytest.raises(ValueError, match="positive"):
        SparseCoder(D, transform_algorithm="omp", positive_code=True).transform(X)


@pytest.mark.parametrize("spelling", [{"alpha": 0.1},
                                      {"transform_algorithm": "lasso_lars",
                                       "transform_alpha": 0.1}])
def test_split_sign(data, spelling):
    X, D, _ = data
    plain = SparseCoder(D, **spelling).transform(X)
    coder = SparseCoder(D, split_sign=True, **spelling)
    split = coder.fit_transform(X)
    assert split.shape == (60, 64) and split.min() >= 0
    np.testing.assert_allclose(split[:, :32] - split[:, 32:], plain)
    np.testing.assert_allclose(coder.inverse_transform(split), plain @ D)
    assert coder.get_feature_names_out().shape == (64,)


def test_sparse_encode_spellings(data):
    X, D, _ = data
    # positional (X, dictionary) and scikit-learn's default algorithm: the l1 codes
    np.testing.assert_allclose(sparse_encode(X, D), sparse_encode(X, D, penalty="l1"),
                               atol=1e-10)
    with pytest.raises(ValueError, match="solver.*algorithm"):
        sparse_encode(X, D, algorithm="omp", solver="omp")
    with pytest.raises(ValueError, match="algorithm must be one of"):
        sparse_encode(X, D, algorithm="sgd")
    codes = sparse_encode(X, D, algorithm="threshold", alpha=0.5, positive=True)
    assert codes.min() >= 0


@pytest.mark.parametrize("algorithm", ["lasso_lars", "lasso_cd", "lars", "omp", "threshold",
                                       "fista"])
def test_sparse_encode_integer_signals_keep_the_float_dictionary(data, algorithm):
    # integer signals are coded as float64 (scikit-learn's results); the dictionary is
    # not cast to the signals' integer dtype
    _, D, _ = data
    Xi = np.random.default_rng(0).integers(-3, 4, size=(5, D.shape[1]))
    kw = dict(algorithm=algorithm, alpha=0.1, n_nonzero_coefs=3)
    codes = sparse_encode(Xi, D, **kw)
    assert codes.dtype == np.float64
    np.testing.assert_allclose(codes, sparse_encode(Xi.astype(np.float64), D, **kw),
                               atol=1e-12)
