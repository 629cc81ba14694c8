"""Batch dictionary learning (``dict_learning``, ``DictionaryLearning``) and atom updates."""

import pickle
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning

from sparsopt.datasets import make_sparse_coding_problem
from sparsopt.decomposition import sparse_encode
from sparsopt.decomposition._dict_learning import (
    DictionaryLearning,
    dict_learning,
    learn_dictionary,
)
from sparsopt.decomposition._dict_update import (
    dictionary_kernel,
    resample_dead_atoms,
    update_dict_bcd,
    update_dict_ksvd,
    update_dict_mod,
)

_bcd_sweep_numpy = dictionary_kernel("numpy", "bcd")

# the fits below are short on purpose; tests of the warning itself record it explicitly
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def l1_objective(X, D, alpha):
    """min_U 1/2 ||X - U D||^2 + alpha ||U||_1, U by the exact (certified) homotopy coder."""
    C = sparse_encode(X, D, alpha=alpha, solver="lars")
    return 0.5 * np.sum((X - C @ D) ** 2) + alpha * np.abs(C).sum()


def recovery(D_true, D):
    """Fraction of true atoms with max |cosine| >= 0.99 to a learned atom."""
    Dn = D / np.maximum(np.linalg.norm(D, axis=1, keepdims=True), 1e-300)
    return float(np.mean(np.abs(D_true @ Dn.T).max(axis=1) >= 0.99))


@pytest.fixture(scope="module")
def planted():
    return make_sparse_coding_problem(600, 16, 24, 3, noise=0.01, random_state=0)


@pytest.fixture(scope="module")
def small():
    X, _, _ = make_sparse_coding_problem(80, 10, 8, 2, noise=0.05, random_state=1)
    return X


def data_rows_init(X, k, seed=1):
    rng = np.random.default_rng(seed)
    D = X[rng.choice(X.shape[0], k, replace=False)].copy()
    return D / np.linalg.norm(D, axis=1, keepdims=True)


# ----------------------------------------------------------------------------- atom updates
def _stats_problem(seed, k, f, n, dtype):
    rng = np.random.default_rng(seed)
    C = rng.normal(size=(n, k)) * (rng.random((n, k)) < 0.3)
    X = rng.normal(size=(n, f))
    D = rng.normal(size=(k, f))
    D /= np.linalg.norm(D, axis=1, keepdims=True)
    return (X.astype(dtype), C.astype(dtype), np.ascontiguousarray(D, dtype=dtype))


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), k=st.integers(1, 9), f=st.integers(1, 7),
       n=st.integers(1, 30), positive=st.booleans(), unit=st.booleans(),
       dtype=st.sampled_from([np.float32, np.float64]))
def test_bcd_kernel_matches_numpy_reference(seed, k, f, n, positive, unit, dtype):
    X, C, D = _stats_problem(seed, k, f, n, dtype)
    A, Bt = C.T @ C, C.T @ X
    skip = np.diagonal(A) < 1e-6
    D1, D2 = D.copy(), D.copy()
    dictionary_kernel()(D1, A, Bt, skip, positive, unit, np.empty(f))
    _bcd_sweep_numpy(D2, A, Bt, skip, positive, unit)
    assert D1.dtype == dtype
    np.testing.assert_allclose(D1, D2, rtol=1e-4 if dtype == np.float32 else 1e-10,
                               atol=1e-4 if dtype == np.float32 else 1e-10)
    norms = np.linalg.norm(D1.astype(np.float64), axis=1)
    assert np.all(norms <= 1 + 1e-5)
    if positive:
        assert np.all(D1[~skip] >= 0)


def test_bcd_sweep_is_exact_per_atom_and_decreases_data_term():
    X, C, D = _stats_problem(3, 6, 5, 40, np.float64)
    before = np.sum((X - C @ D) ** 2)
    dead = update_dict_bcd(D, C.T @ C, X.T @ C)
    assert dead.size == 0
    after = np.sum((X - C @ D) ** 2)
    assert after < before
    # last atom updated is optimal given the others: perturbations inside the ball do worse
    rng = np.random.default_rng(0)
    k = D.shape[0] - 1
    for _ in range(20):
        E = D.copy()
        E[k] += 0.05 * rng.normal(size=D.shape[1])
        E[k] /= max(np.linalg.norm(E[k]), 1.0)
        assert np.sum((X - C @ E) ** 2) >= after - 1e-12


def test_bcd_converges_to_the_planted_dictionary_from_exact_codes():
    rng = np.random.default_rng(0)
    C, D0 = rng.normal(size=(100, 4)), rng.normal(size=(4, 6))
    D0 /= np.linalg.norm(D0, axis=1, keepdims=True)
    X = C @ D0
    D = np.ascontiguousarray(rng.normal(size=(4, 6)))
    for _ in range(300):
        update_dict_bcd(D, C.T @ C, X.T @ C)
    np.testing.assert_allclose(D, D0, atol=1e-8)


def test_dead_atoms_are_resampled_from_data_seeded():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 8))
    C = rng.normal(size=(30, 5))
    C[:, 2] = 0.0  # atom 2 is never used
    D = np.ascontiguousarray(np.eye(5, 8))
    D_a, D_b = D.copy(), D.copy()
    dead = update_dict_bcd(D_a, C.T @ C, X.T @ C, X=X, random_state=7)
    update_dict_bcd(D_b, C.T @ C, X.T @ C, X=X, random_state=7)
    assert dead.tolist() == [2]
    np.testing.assert_array_equal(D_a, D_b)  # seeded
    assert np.isclose(np.linalg.norm(D_a[2]), 1.0)
    cos = np.abs(X @ D_a[2]) / np.linalg.norm(X, axis=1)
    assert cos.max() > 0.99  # a data row plus 1% noise
    # without X the dead atom is left alone
    D_c = D.copy()
    assert update_dict_bcd(D_c, C.T @ C, X.T @ C).size == 0
    np.testing.assert_array_equal(D_c[2], D[2])


def test_resample_positive_and_flat_rows():
    X = np.zeros((4, 6))
    X[:, 0] = -1.0
    D = np.zeros((2, 6))
    resample_dead_atoms(D, X, np.array([True, False]), random_state=0, positive=True)
    assert np.all(D[0] >= 0) and np.isclose(np.linalg.norm(D[0]), 1.0)
    assert np.all(D[1] == 0)


def test_update_dict_bcd_rejects_bad_shapes():
    D = np.eye(3)
    with pytest.raises(ValueError, match="A must have shape"):
        update_dict_bcd(D, np.eye(2), np.zeros((3, 3)))
    with pytest.raises(ValueError, match="B must have shape"):
        update_dict_bcd(D, np.eye(3), np.zeros((2, 3)))
    with pytest.raises(ValueError, match="C-contiguous"):
        update_dict_bcd(np.asfortranarray(np.ones((3, 2))), np.eye(3), np.zeros((2, 3)))


def test_mod_is_least_squares_and_keeps_the_product():
    X, C, _ = _stats_problem(5, 4, 6, 50, np.float64)
    C[:, 3] = 0.0  # dead
    prod_before = C.copy()
    D, dead = update_dict_mod(X, C, random_state=0)
    assert dead.tolist() == [3]
    np.testing.assert_allclose(np.linalg.norm(D, axis=1), 1.0)
    assert np.all(C[:, 3] == 0)
    D_ls = np.linalg.lstsq(prod_before[:, :3], X, rcond=None)[0]
    np.testing.assert_allclose(C[:, :3] @ D[:3], prod_before[:, :3] @ D_ls, atol=1e-10)


def test_ksvd_support_counts_negative_codes_and_never_increases_residual():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 6))
    D = np.ascontiguousarray(rng.normal(size=(4, 6)))
    D /= np.linalg.norm(D, axis=1, keepdims=True)
    C = sparse_encode(X, D, solver="omp", n_nonzero_coefs=2)
    C[:, 1] = -np.abs(C[:, 1])  # atom 1 used with negative codes only
    C[C[:, 1] == 0, 1] = -0.5
    support = C != 0
    before = np.linalg.norm(X - C @ D)
    old_atom = D[1].copy()
    dead = update_dict_ksvd(X, D, C, random_state=0)
    assert dead.size == 0  # negative codes count as use: atom 1 is updated, not resampled
    assert not np.allclose(D[1], old_atom)
    np.testing.assert_array_equal(C != 0, support)  # sparsity pattern kept
    assert np.linalg.norm(X - C @ D) <= before + 1e-12
    np.testing.assert_allclose(np.linalg.norm(D, axis=1), 1.0)


def test_ksvd_resamples_unused_atoms():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(20, 5))
    D = np.ascontiguousarray(np.eye(3, 5))
    C = np.zeros((20, 3))
    C[:, 0] = 1.0
    assert update_dict_ksvd(X, D, C, random_state=0).tolist() == [1, 2]


# ----------------------------------------------------------------------------- dict_learning
def test_objective_decreases_monotonically_bcd_exact_l1(planted):
    X, _, _ = planted
    res = learn_dictionary(X, 24, alpha=0.2, max_iter=40, tol=0.0, random_state=0,
                           dict_init=data_rows_init(X, 24))
    hist = res.info["objective_history"]
    assert len(hist) == 40 and res.info["n_resampled"] == 0
    assert np.all(np.diff(hist) <= 1e-10 * hist[:-1])
    assert hist[-1] < 0.8 * hist[0]


def test_matches_sklearn_trajectory_from_the_same_start(small):
    from sklearn.decomposition import DictionaryLearning as SkDL

    X = small
    D0 = data_rows_init(X, 8, seed=3)
    ours = DictionaryLearning(8, alpha=0.1, max_iter=15, tol=0.0, dict_init=D0,
                              random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ours.fit(X)
    sk = SkDL(8, alpha=0.1, max_iter=15, tol=0.0, fit_algorithm="lars", dict_init=D0,
              code_init=np.zeros((80, 8)), random_state=0).fit(X)
    # same algorithm (exact lasso codes, one BCD sweep): the same dictionaries
    np.testing.assert_allclose(ours.components_, sk.components_, atol=1e-6)
    np.testing.assert_allclose(ours.error_, sk.error_, rtol=1e-8)


def test_objective_level_agrees_with_sklearn_default_start(small):
    from sklearn.decomposition import DictionaryLearning as SkDL

    X = small
    ours = DictionaryLearning(8, alpha=0.1, max_iter=200, tol=1e-8, random_state=0).fit(X)
    sk = SkDL(8, alpha=0.1, max_iter=200, tol=1e-8, fit_algorithm="lars",
              random_state=0).fit(X)
    f_ours, f_sk = l1_objective(X, ours.components_, 0.1), l1_objective(X, sk.components_, 0.1)
    assert f_ours <= f_sk * (1 + 1e-3)


def test_recovers_planted_dictionary_l1(planted):
    X, D0, _ = planted
    _, D, _ = dict_learning(X, 24, alpha=0.2, max_iter=60, tol=1e-6, random_state=0)
    assert recovery(D0, D) >= 0.9
    np.testing.assert_array_less(np.linalg.norm(D, axis=1), 1 + 1e-12)


@pytest.mark.parametrize("update", ["bcd", "ksvd"])
def test_recovers_planted_dictionary_omp(planted, update):
    X, D0, _ = planted
    code, D, _ = dict_learning(X, 24, n_nonzero_coefs=3, update=update,
                               max_iter=60, tol=1e-6, random_state=0)
    assert np.all(np.count_nonzero(code, axis=1) <= 3)
    np.testing.assert_allclose(np.linalg.norm(D, axis=1), 1.0)  # scale-invariant coder
    assert recovery(D0, D) >= 0.85


@pytest.mark.parametrize("penalty,alpha", [("l0", 0.02), ("cel0", 0.02)])
def test_beyond_l1_loop_beats_l1_at_equal_sparsity(planted, penalty, alpha):
    """Rentzeperis et al.: nonconvex codes give lower error at equal sparsity than l1.

    Started from the l1 dictionary (from the SVD the nonconvex loops stall in poor local
    minima), l0 / CEL0 recover every planted atom, with codes as sparse as the l1 codes
    and several times lower reconstruction error.
    """
    X, D0, _ = planted
    C1, D1, _ = dict_learning(X, 24, alpha=0.2, max_iter=60, tol=1e-6, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        res = learn_dictionary(X, 24, penalty=penalty, alpha=alpha, max_iter=30, tol=1e-6,
                               dict_init=D1, coding_max_iter=300, random_state=0)
    C, D = res.info["codes"], res.x
    assert res.info["coding_solver"] == ("cd" if penalty == "l0" else "fista")
    nnz1, nnz = (np.count_nonzero(c) / len(X) for c in (C1, C))
    err1, err = (np.sum((X - c @ d) ** 2) for c, d in ((C1, D1), (C, D)))
    assert nnz <= 1.05 * nnz1
    assert err < 0.5 * err1
    assert recovery(D0, D) >= recovery(D0, D1)


@pytest.mark.parametrize("update", ["mod", "ksvd"])
def test_mod_and_ksvd_loops_learn(planted, update):
    X, _, _ = planted
    res = learn_dictionary(X[:200], 24, alpha=0.2, update=update, max_iter=20,
                           tol=1e-6, random_state=0)
    D = res.x
    hist = res.info["objective_history"]
    np.testing.assert_allclose(np.linalg.norm(D, axis=1), 1.0)
    assert hist[-1] < hist[0] and np.all(np.isfinite(hist))


def test_positive_code_and_dict(planted):
    X = np.abs(planted[0][:200])
    dl = DictionaryLearning(10, alpha=0.1, positive_code=True, positive_dict=True, max_iter=20,
                            tol=1e-6, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        codes = dl.fit_transform(X)
    assert np.all(dl.components_ >= 0) and np.all(codes >= 0)
    assert np.count_nonzero(codes) > 0


@pytest.mark.parametrize("update", ["bcd", "mod", "ksvd"])
def test_float32_end_to_end(planted, update):
    X = planted[0][:150].astype(np.float32)
    dl = DictionaryLearning(12, alpha=0.1, update=update, max_iter=10, tol=1e-4,
                            random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        codes = dl.fit_transform(X)
    assert dl.components_.dtype == np.float32 and codes.dtype == np.float32
    assert dl.inverse_transform(codes).dtype == np.float32
    X64 = X.astype(np.float64)
    dl64 = clone(dl)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        dl64.fit(X64)
    assert dl64.components_.dtype == np.float64
    if update == "bcd":
        np.testing.assert_allclose(dl.components_, dl64.components_, atol=2e-3)


def test_transform_defaults_to_the_fit_coder_and_overrides(planted):
    X = planted[0][:100]
    dl = DictionaryLearning(12, alpha=0.1, max_iter=5, tol=1e-3, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        dl.fit(X)
    D = dl.components_
    # nothing spelled the sparsopt way: scikit-learn's default transform, OMP with
    # int(n_features / 10) non-zeros
    np.testing.assert_allclose(dl.transform(X), sparse_encode(X, D, algorithm="omp"))
    dl.set_params(penalty="l1")  # the fit's coder spelled the sparsopt way: reused
    np.testing.assert_allclose(dl.transform(X), sparse_encode(X, D, alpha=0.1))
    dl.set_params(transform_n_nonzero_coefs=2)
    C = dl.transform(X)
    assert np.all(np.count_nonzero(C, axis=1) <= 2)
    dl.set_params(transform_n_nonzero_coefs=None, transform_penalty="l0", transform_alpha=0.05)
    np.testing.assert_allclose(dl.transform(X), sparse_encode(X, D, penalty="l0", alpha=0.05))
    np.testing.assert_allclose(dl.inverse_transform(C), C @ D)
    with pytest.raises(ValueError, match="n_components"):
        dl.inverse_transform(C[:, :3])
    assert dl.score(X) == pytest.approx(-np.mean(
        0.5 * np.sum((X - sparse_encode(X, D, alpha=0.1) @ D) ** 2, axis=1)
        + 0.1 * np.abs(sparse_encode(X, D, alpha=0.1)).sum(axis=1)))


def test_fit_attributes_callback_and_pickle(small):
    seen = []

    def cb(state):
        seen.append(state.objective)
        assert state.info["codes"].shape == (len(small), 6) and state.x.shape[0] == 6
        return state.iteration == 3

    dl = DictionaryLearning(6, alpha=0.1, max_iter=50, callback=cb, random_state=0).fit(small)
    assert dl.n_iter_ == 3 and len(seen) == 3 and not dl.converged_
    np.testing.assert_allclose(dl.objective_history_, seen)
    assert dl.error_ is dl.objective_history_
    assert dl.get_feature_names_out().tolist() == [f"dictionarylearning{i}" for i in range(6)]
    dl2 = pickle.loads(pickle.dumps(dl.set_params(callback=None)))
    np.testing.assert_array_equal(dl2.transform(small), dl.transform(small))


def test_exactly_one_convergence_warning(small):
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        dict_learning(small, 6, alpha=0.1, max_iter=2, tol=1e-12, random_state=0)
    conv = [w for w in rec if issubclass(w.category, ConvergenceWarning)]
    assert len(conv) == 1
    msg = str(conv[0].message)
    assert "tol = 1.0e-12" in msg and "max_iter" in msg
    # coder non-convergence is folded into the same single warning
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        dict_learning(small, 6, penalty="mcp", alpha=0.01, max_iter=3, tol=1e-12,
                      coding_max_iter=1, coding_tol=1e-14, random_state=0)
    conv = [w for w in rec if issubclass(w.category, ConvergenceWarning)]
    assert len(conv) == 1 and "coding_max_iter" in str(conv[0].message)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        dict_learning(small, 6, alpha=0.1, max_iter=500, tol=1e-3, random_state=0)


def test_overcomplete_and_rank_deficient_fill_atoms():
    X = np.random.default_rng(0).normal(size=(5, 4))
    code, D, _ = dict_learning(X, 9, alpha=0.01, max_iter=5, tol=1e-3, random_state=0)
    assert D.shape == (9, 4) and np.all(np.linalg.norm(D, axis=1) > 0)
    assert np.all(np.isfinite(code))


# ----------------------------------------------------------------------------- errors
@pytest.mark.parametrize("kwargs,match", [
    ({"n_components": 0}, "n_components"),
    ({"n_components": -3}, "n_components"),
    ({"update": "sgd"}, "update"),
    ({"method": "sgd"}, "method"),
    ({"method": "cd", "coding_solver": "cd"}, "coding_solver.*method"),
    ({"method_max_iter": 5, "coding_max_iter": 5}, "coding_max_iter.*method_max_iter"),
    ({"n_nonzero_coefs": 2, "positive_code": True}, "positive_code=True is not supported"),
    ({"coding_solver": "omp", "positive_code": True}, "positive_code=True is not supported"),
    ({"coding_solver": "lars", "penalty": "l0"}, "coding_solver='lars'"),
    ({"coding_solver": "newton"}, "coding_solver"),
    ({"penalty": "l7"}, "penalty"),
    ({"positive_dict": True, "update": "mod"}, "positive_dict"),
    ({"dict_init": np.ones((3, 2))}, "dict_init"),
    ({"code_init": np.ones((3, 2))}, "code_init"),
    ({"max_iter": -1}, "max_iter"),
    ({"tol": -1.0}, "tol"),
    ({"alpha": float("nan")}, "alpha"),
])
def test_function_errors_name_the_parameter(small, kwargs, match):
    kwargs = {"n_components": 4, **kwargs}
    with pytest.raises(ValueError, match=match):
        dict_learning(small, **kwargs)


def test_nan_and_shape_errors(small):
    X = small.copy()
    X[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        dict_learning(X, 4)
    with pytest.raises(ValueError, match="NaN"):
        DictionaryLearning(4).fit(X)
    with pytest.raises(ValueError, match="2"):
        dict_learning(small[0], 4)
    with pytest.raises(TypeError, match="callback"):
        dict_learning(small, 4, callback=3)


@pytest.mark.parametrize("params,match", [
    ({"n_components": 0}, "n_components"),
    ({"fit_algorithm": "sgd"}, "fit_algorithm"),
    ({"fit_algorithm": "bcd"}, "fit_algorithm"),  # the atom update is update= now
    ({"update": "sgd"}, "update"),
    ({"fit_algorithm": "cd", "penalty": "l1"}, "penalty.*fit_algorithm"),
    ({"transform_algorithm": "omp", "transform_solver": "omp"},
     "transform_solver.*transform_algorithm"),
    ({"transform_algorithm": "lars", "positive_code": True}, "positive"),
    ({"n_nonzero_coefs": 2, "positive_code": True}, "positive_code"),
    ({"transform_solver": "omp", "positive_code": True}, "positive_code"),
    ({"transform_solver": "lars", "transform_penalty": "l0"}, "transform_solver"),
    ({"positive_dict": True, "update": "ksvd"}, "positive_dict"),
])
def test_estimator_errors_name_the_parameter(small, params, match):
    with pytest.raises(ValueError, match=match):
        DictionaryLearning(**{"n_components": 4, **params}).fit(small)


@settings(max_examples=20, deadline=None)
@given(n_components=st.one_of(st.integers(-100, 0), st.floats(0.5, 3.5),
                              st.sampled_from(["3", True])))
def test_bad_n_components_always_rejected(n_components):
    X = np.random.default_rng(0).normal(size=(6, 3))
    with pytest.raises(ValueError, match="n_components"):
        dict_learning(X, n_components)


@settings(max_examples=15, deadline=None)
@given(k=st.integers(1, 6), f=st.integers(1, 6))
def test_dict_init_shape_checked(k, f):
    X = np.random.default_rng(0).normal(size=(6, 4))
    init = np.ones((k, f))
    if (k, f) == (3, 4):
        dict_learning(X, 3, dict_init=init, max_iter=1, tol=1.0)
    else:
        with pytest.raises(ValueError, match="dict_init"):
            dict_learning(X, 3, dict_init=init, max_iter=1)


@pytest.mark.parametrize("solver", ["omp", "iht"])
def test_sparse_encode_omp_positive_is_refused(solver):
    X, D, _ = make_sparse_coding_problem(20, 16, 32, 3, random_state=0)
    with pytest.raises(ValueError, match="not supported by solver"):
        sparse_encode(X, D, solver=solver, n_nonzero_coefs=3, positive=True)


# ----------------------------------------------------------------------------- one road
def test_mirror_returns_scikit_learn_shapes(small):
    out = dict_learning(small, 4, alpha=0.1, max_iter=5, tol=1e-3, random_state=0)
    assert len(out) == 3 and isinstance(out[2], list)
    code, D, errors, n_iter = dict_learning(small, 4, alpha=0.1, max_iter=5, tol=1e-3,
                                            random_state=0, return_n_iter=True)
    assert code.shape == (len(small), 4) and D.shape == (4, small.shape[1])
    assert len(errors) == n_iter >= 1
    res = learn_dictionary(small, 4, alpha=0.1, max_iter=5, tol=1e-3, random_state=0)
    np.testing.assert_array_equal(res.x, D)
    np.testing.assert_array_equal(res.info["codes"], code)
    np.testing.assert_allclose(res.info["objective_history"], errors)


def test_callback_true_stops_after_one_check(small):
    calls = []
    res = learn_dictionary(small, 4, alpha=0.1, max_iter=50, random_state=0,
                           callback=lambda s: calls.append(s.iteration) or True)
    assert calls == [1] and res.n_iter == 1 and not res.converged
    assert res.stopped_by == "callback"


def test_positive_codes_through_the_penalty(small):
    from sparsopt.penalties import L1, Positive

    res = learn_dictionary(small, 4, penalty=L1(0.1) + Positive(), max_iter=5, tol=1e-3,
                           random_state=0)
    code, D, _ = dict_learning(small, 4, alpha=0.1, positive_code=True, max_iter=5,
                               tol=1e-3, random_state=0)
    assert np.all(res.info["codes"] >= 0) and np.all(code >= 0)
    np.testing.assert_allclose(res.x, D)
    with pytest.raises(ValueError, match="OMP"):
        learn_dictionary(small, 4, penalty=L1(0.1) + Positive(), n_nonzero_coefs=2)


def test_verbose_prints_one_line_per_iteration(small, capsys):
    # verbose=2: the loop's lines (header + 3 iterations) besides the progress display
    learn_dictionary(small, 4, alpha=0.1, max_iter=3, tol=0.0, random_state=0, verbose=2)
    import re

    out = capsys.readouterr().out
    assert len(re.findall(r"learn_dictionary:\s+iter\s+stop_crit", out)) == 1
    assert len(re.findall(r"learn_dictionary:\s+\d+\s+\S+\s+\S+\n", out)) == 3


@pytest.mark.parametrize("use_tqdm", [True, False])
def test_verbose_shows_progress(small, capsys, monkeypatch, use_tqdm):
    # verbose=1: sparsopt._core.progress (tqdm when installed, plain lines otherwise)
    import sparsopt._core.progress as progress_mod

    if not use_tqdm:
        real = progress_mod.Progress.__init__

        def no_tqdm(self, *args, **kwargs):
            real(self, *args, **{**kwargs, "use_tqdm": False})

        monkeypatch.setattr(progress_mod.Progress, "__init__", no_tqdm)
    DictionaryLearning(4, alpha=0.1, max_iter=3, tol=0.0, random_state=0,
                       verbose=1).fit(small)
    captured = capsys.readouterr()
    out = captured.out + captured.err
    assert "learn_dictionary" in out and "objective" in out
    if not use_tqdm:
        assert "learn_dictionary: 3/3" in out


def test_nonfinite_objective_rolls_back_to_last_finite_dictionary(small, monkeypatch):
    import sparsopt.decomposition._dict_learning as mod
    from sparsopt.exceptions import NonFiniteIterateWarning

    ref = learn_dictionary(small, 4, alpha=0.1, max_iter=2, tol=0.0, random_state=0)
    real, calls = mod.objective_per_sample, []

    def overflowing(*args):
        calls.append(1)
        out = real(*args)
        return out * np.inf if len(calls) == 3 else out

    monkeypatch.setattr(mod, "objective_per_sample", overflowing)
    with pytest.warns(NonFiniteIterateWarning, match="last finite iterate"):
        res = learn_dictionary(small, 4, alpha=0.1, max_iter=10, tol=0.0, random_state=0)
    assert res.stopped_by == "nonfinite" and res.n_iter == 2 and not res.converged
    np.testing.assert_array_equal(res.x, ref.x)
    np.testing.assert_array_equal(res.info["codes"], ref.info["codes"])
