"""Dictionary learning on array-API arrays (array_api_strict's device1; CuPy with -m gpu).

The atom updates (update_dict_bcd, update_dict_mod, resample_dead_atoms), the learning
functions and MiniBatchDictionaryLearning / DictionaryLearning with the FISTA coder give
the NumPy run's dictionary and codes (same coder, same seed) to rounding, with every
array output in the input's namespace and float32 kept; the host-only options raise a
TypeError that names the alternative.

The estimator tests need scikit-learn's ``array_api_dispatch``, which needs
``SCIPY_ARRAY_API=1`` set before SciPy is imported: they skip without it.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from sparsopt.datasets import make_sparse_coding_problem
from sparsopt.decomposition import (
    DictionaryLearning,
    MiniBatchDictionaryLearning,
    learn_dictionary,
    learn_dictionary_online,
)
from sparsopt.decomposition._dict_update import (
    resample_dead_atoms,
    update_dict_bcd,
    update_dict_ksvd,
    update_dict_mod,
)
from sparsopt.exceptions import ConvergenceWarning
from tests._array_api import (
    NAMESPACES,
    array_api_dispatch,
    assert_in_namespace,
    namespace,
    to_np,
    to_xp,
)

DTYPES = [np.float64, np.float32]


def _rtol(dtype):
    return 1e-9 if dtype == np.float64 else 2e-4


def _stats_problem(dtype, seed=0):
    rng = np.random.default_rng(seed)
    C = rng.normal(size=(40, 5))
    C[:, 2] = 0.0  # a dead atom: resampled from X
    X = (C @ rng.normal(size=(5, 6)) + 0.1 * rng.normal(size=(40, 6))).astype(dtype)
    D = rng.normal(size=(5, 6)).astype(dtype)
    return X, C.astype(dtype), D


@pytest.mark.parametrize("xp_name", NAMESPACES)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("positive", [False, True])
def test_update_dict_bcd(xp_name, dtype, positive):
    xp, dev = namespace(xp_name)
    X, C, D = _stats_problem(dtype)
    A, B = C.T @ C, X.T @ C
    ref = D.copy()
    dead_ref = update_dict_bcd(ref, A, B, X=X, positive=positive, random_state=3)
    Dx = to_xp(D.copy(), xp, dev)
    dead = update_dict_bcd(Dx, to_xp(A, xp, dev), to_xp(B, xp, dev), X=to_xp(X, xp, dev),
                           positive=positive, random_state=3)
    assert_in_namespace(Dx, xp)
    assert_in_namespace(dead, xp)
    assert to_np(Dx).dtype == dtype
    np.testing.assert_array_equal(to_np(dead), dead_ref)  # [2]: resampled, same draws
    np.testing.assert_allclose(to_np(Dx), ref, rtol=_rtol(dtype), atol=_rtol(dtype))
    # without X the dead atom is left as it is and nothing is reported
    Dx = to_xp(D.copy(), xp, dev)
    dead = update_dict_bcd(Dx, to_xp(A, xp, dev), to_xp(B, xp, dev), unit_norm=True)
    assert dead.shape[0] == 0
    np.testing.assert_array_equal(to_np(Dx)[2], D[2])
    np.testing.assert_allclose(np.linalg.norm(np.delete(to_np(Dx), 2, 0), axis=1), 1.0,
                               rtol=1e-5)


@pytest.mark.parametrize("xp_name", NAMESPACES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_update_dict_mod(xp_name, dtype):
    xp, dev = namespace(xp_name)
    X, C, _ = _stats_problem(dtype, seed=1)
    Cn = C.copy()
    D_ref, dead_ref = update_dict_mod(X, Cn, random_state=1)
    Cx = to_xp(C.copy(), xp, dev)
    D, dead = update_dict_mod(to_xp(X, xp, dev), Cx, random_state=1)
    for a in (D, dead, Cx):
        assert_in_namespace(a, xp)
    assert to_np(D).dtype == dtype
    np.testing.assert_array_equal(to_np(dead), dead_ref)
    np.testing.assert_allclose(to_np(D), D_ref, rtol=_rtol(dtype), atol=_rtol(dtype))
    np.testing.assert_allclose(to_np(Cx), Cn, rtol=_rtol(dtype), atol=_rtol(dtype))
    # a singular system (two identical code columns): the solutions may differ (pinv's
    # minimum-norm one, or what a Cholesky that passed on round-off gives), not the fit
    C2 = C.copy()
    C2[:, 1] = C2[:, 0]
    Cn = C2.copy()
    D_ref, _ = update_dict_mod(X, Cn, random_state=1)
    Cx = to_xp(C2.copy(), xp, dev)
    D, _ = update_dict_mod(to_xp(X, xp, dev), Cx, random_state=1)
    D, Cx = to_np(D).astype(np.float64), to_np(Cx).astype(np.float64)
    assert np.all(np.isfinite(D))
    np.testing.assert_allclose(np.linalg.norm(D, axis=1), 1.0, rtol=1e-5)
    fit_ref = Cn.astype(np.float64) @ D_ref.astype(np.float64)
    np.testing.assert_allclose(Cx @ D, fit_ref, rtol=1e-3, atol=1e-3 * np.abs(fit_ref).max())


@pytest.mark.parametrize("xp_name", NAMESPACES)
def test_resample_dead_atoms_same_draws(xp_name):
    """Host draws in the NumPy order, also through the positive fallback (a clipped atom
    that is zero: rows of X all negative)."""
    xp, dev = namespace(xp_name)
    rng = np.random.default_rng(2)
    for X, positive in ((rng.normal(size=(7, 4)), False), (-np.abs(rng.normal(size=(7, 4))),
                                                          True)):
        D = np.eye(5, 4)
        dead_ref = resample_dead_atoms(D, X, [0, 3], random_state=5, positive=positive)
        Dx = to_xp(np.eye(5, 4), xp, dev)
        dead = resample_dead_atoms(Dx, to_xp(X, xp, dev), [0, 3], random_state=5,
                                   positive=positive)
        assert_in_namespace(Dx, xp)
        np.testing.assert_array_equal(to_np(dead), dead_ref)
        np.testing.assert_allclose(to_np(Dx), D, rtol=1e-12, atol=1e-15)
        # a device mask gives the same atoms
        Dx = to_xp(np.eye(5, 4), xp, dev)
        mask = to_xp(np.array([True, False, False, True, False]), xp, dev)
        resample_dead_atoms(Dx, to_xp(X, xp, dev), mask, random_state=5, positive=positive)
        np.testing.assert_allclose(to_np(Dx), D, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("xp_name", NAMESPACES)
def test_ksvd_is_host_only(xp_name):
    xp, dev = namespace(xp_name)
    X, C, D = _stats_problem(np.float64)
    with pytest.raises(TypeError, match="update_dict_ksvd runs on NumPy arrays only.*"
                                        "update_dict_bcd"):
        update_dict_ksvd(to_xp(X, xp, dev), to_xp(D, xp, dev), to_xp(C, xp, dev))


# ----------------------------------------------------------------------------- learners
def _data(dtype, n=96, f=10, k=8):
    X, _, _ = make_sparse_coding_problem(n, f, k, 2, noise=0.01, random_state=0)
    return X.astype(dtype)


_ONLINE = dict(alpha=0.1, batch_size=16, max_iter=2, tol=0.0, max_no_improvement=None,
               coding_solver="fista", coding_max_iter=200, random_state=0)


@pytest.mark.parametrize("xp_name", NAMESPACES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_learn_dictionary_online(xp_name, dtype):
    """12 atoms for 10 features: the SVD initialisation pads zero atoms, resampled."""
    xp, dev = namespace(xp_name)
    X = _data(dtype)
    ref = learn_dictionary_online(X, 12, **_ONLINE)
    res = learn_dictionary_online(to_xp(X, xp, dev), 12, **_ONLINE)
    assert_in_namespace(res.x, xp)
    A, B = res.info["inner_stats"]
    assert_in_namespace(A, xp)
    assert_in_namespace(B, xp)
    assert to_np(res.x).dtype == dtype and to_np(B).shape == (10, 12)
    assert res.n_iter == ref.n_iter == 12
    assert res.info["n_resampled"] == ref.info["n_resampled"] > 0
    tol = 1e-7 if dtype == np.float64 else 2e-3
    np.testing.assert_allclose(to_np(res.x), ref.x, rtol=tol, atol=tol)
    np.testing.assert_allclose(to_np(B), ref.info["inner_stats"][1], rtol=tol, atol=tol)
    np.testing.assert_allclose(res.info["objective_history"],
                               ref.info["objective_history"], rtol=tol)


@pytest.mark.parametrize("xp_name", NAMESPACES)
@pytest.mark.parametrize("update, solver", [("bcd", "fista"), ("mod", "fista"),
                                            ("bcd", "lca")])
def test_learn_dictionary(xp_name, update, solver):
    xp, dev = namespace(xp_name)
    X = _data(np.float64, n=40)
    kw = dict(alpha=0.1, update=update, max_iter=4, tol=0.0, coding_solver=solver,
              coding_max_iter=300, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ref = learn_dictionary(X, 12, **kw)
        res = learn_dictionary(to_xp(X, xp, dev), 12, **kw)
    assert_in_namespace(res.x, xp)
    assert_in_namespace(res.info["codes"], xp)
    assert res.n_iter == ref.n_iter
    np.testing.assert_allclose(to_np(res.x), ref.x, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(to_np(res.info["codes"]), ref.info["codes"], rtol=1e-5,
                               atol=1e-6)


@pytest.mark.parametrize("xp_name", NAMESPACES)
def test_learning_functions_refuse_host_only_options(xp_name):
    xp, dev = namespace(xp_name)
    Xx = to_xp(_data(np.float64, n=20), xp, dev)
    with pytest.raises(TypeError, match="coding_solver='auto'.*NumPy arrays only.*"
                                        "coding_solver='fista'"):
        learn_dictionary_online(Xx, 4)
    with pytest.raises(TypeError, match="coding_solver='cd'.*coding_solver='fista'"):
        learn_dictionary(Xx, 4, coding_solver="cd")
    with pytest.raises(TypeError, match="update='ksvd' runs on NumPy arrays only"):
        learn_dictionary(Xx, 4, coding_solver="fista", update="ksvd")


# ----------------------------------------------------------------------------- estimators
@pytest.fixture
def dispatch():
    with array_api_dispatch():
        yield


_MB = dict(n_components=12, alpha=0.1, batch_size=16, max_iter=2, tol=0.0,
           max_no_improvement=None, fit_algorithm="fista", transform_algorithm="fista",
           transform_max_iter=200, random_state=0)


@pytest.mark.parametrize("xp_name", NAMESPACES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_minibatch_estimator(xp_name, dtype, dispatch):
    xp, dev = namespace(xp_name)
    X = _data(dtype)
    Xx = to_xp(X, xp, dev)
    ref = MiniBatchDictionaryLearning(**_MB).fit(X)
    est = MiniBatchDictionaryLearning(**_MB).fit(Xx)
    for a in (est.components_, *est.inner_stats_, est.objective_history_):
        assert_in_namespace(a, xp)
    assert to_np(est.components_).dtype == dtype
    assert est.n_steps_ == ref.n_steps_ and est.n_iter_ == ref.n_iter_
    tol = 1e-7 if dtype == np.float64 else 2e-3
    np.testing.assert_allclose(to_np(est.components_), ref.components_, rtol=tol, atol=tol)
    np.testing.assert_allclose(to_np(est.objective_history_), ref.objective_history_,
                               rtol=tol)
    codes = est.transform(Xx[:5, :])
    assert_in_namespace(codes, xp)
    assert to_np(codes).dtype == dtype
    np.testing.assert_allclose(to_np(codes), ref.transform(X[:5]), rtol=tol, atol=tol)
    back = est.inverse_transform(codes)
    assert_in_namespace(back, xp)
    np.testing.assert_allclose(to_np(back), ref.inverse_transform(to_np(codes)), rtol=tol,
                               atol=tol)
    assert est.score(Xx) == pytest.approx(ref.score(X), rel=tol)


@pytest.mark.filterwarnings("ignore::sparsopt.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("xp_name", NAMESPACES)
def test_minibatch_partial_fit_and_split_sign(xp_name, dispatch):
    xp, dev = namespace(xp_name)
    X = _data(np.float64)
    kw = {**_MB, "split_sign": True}
    ref = MiniBatchDictionaryLearning(**kw).partial_fit(X[:48]).partial_fit(X[48:])
    est = MiniBatchDictionaryLearning(**kw)
    est.partial_fit(to_xp(X[:48], xp, dev)).partial_fit(to_xp(X[48:], xp, dev))
    assert est.n_steps_ == ref.n_steps_ == 6
    for a in (est.components_, *est.inner_stats_, est.objective_history_):
        assert_in_namespace(a, xp)
    np.testing.assert_allclose(to_np(est.components_), ref.components_, rtol=1e-7,
                               atol=1e-7)
    np.testing.assert_allclose(to_np(est.objective_history_), ref.objective_history_,
                               rtol=1e-7)
    codes = est.transform(to_xp(X[:4], xp, dev))
    assert to_np(codes).shape == (4, 24)
    np.testing.assert_allclose(to_np(codes), ref.transform(X[:4]), rtol=1e-7, atol=1e-7)
    np.testing.assert_allclose(to_np(est.inverse_transform(codes)),
                               ref.inverse_transform(ref.transform(X[:4])), rtol=1e-6,
                               atol=1e-7)


@pytest.mark.parametrize("xp_name", NAMESPACES)
def test_minibatch_early_stopping(xp_name, dispatch):
    """The stopping tests read host scalars only; they stop at the same step."""
    xp, dev = namespace(xp_name)
    X = _data(np.float64)
    kw = {**_MB, "max_iter": 50, "tol": 1e-3, "max_no_improvement": 3}
    ref = MiniBatchDictionaryLearning(**kw).fit(X)
    est = MiniBatchDictionaryLearning(**kw).fit(to_xp(X, xp, dev))
    assert ref.converged_ and est.converged_
    assert est.n_steps_ == ref.n_steps_ < 50 * 6


@pytest.mark.parametrize("xp_name", NAMESPACES)
@pytest.mark.parametrize("update", ["bcd", "mod"])
def test_dictionary_learning_estimator(xp_name, update, dispatch):
    xp, dev = namespace(xp_name)
    X = _data(np.float32, n=40)
    kw = dict(n_components=6, alpha=0.1, max_iter=4, tol=0.0, update=update,
              fit_algorithm="fista", transform_algorithm="fista", random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ref = DictionaryLearning(**kw).fit(X)
        est = DictionaryLearning(**kw).fit(to_xp(X, xp, dev))
    for a in (est.components_, est.code_, est.objective_history_):
        assert_in_namespace(a, xp)
    assert to_np(est.components_).dtype == np.float32
    np.testing.assert_allclose(to_np(est.components_), ref.components_, rtol=2e-3,
                               atol=2e-3)
    codes = est.transform(to_xp(X[:3], xp, dev))
    assert_in_namespace(codes, xp)
    np.testing.assert_allclose(to_np(codes), ref.transform(X[:3]), rtol=2e-3, atol=2e-3)


@pytest.mark.parametrize("xp_name", NAMESPACES)
def test_estimators_refuse_host_only_coders(xp_name, dispatch):
    xp, dev = namespace(xp_name)
    Xx = to_xp(_data(np.float64, n=20), xp, dev)
    with pytest.raises(TypeError, match="fit_algorithm='lars'.*NumPy arrays only.*"
                                        "fit_algorithm='fista'"):
        MiniBatchDictionaryLearning(4).fit(Xx)
    with pytest.raises(TypeError, match="coding_solver='cd'.*coding_solver='fista'"):
        MiniBatchDictionaryLearning(4, coding_solver="cd").partial_fit(Xx)
    with pytest.raises(TypeError, match="fit_algorithm='cd'.*fit_algorithm='fista'"):
        DictionaryLearning(4, fit_algorithm="cd").fit(Xx)
    est = MiniBatchDictionaryLearning(4, fit_algorithm="fista", max_iter=1, tol=0.0,
                                      max_no_improvement=None, batch_size=10).fit(Xx)
    with pytest.raises(TypeError, match="transform_algorithm='omp' runs on NumPy arrays "
                                        "only.*transform_algorithm='fista'"):
        est.transform(Xx)
    est.set_params(transform_algorithm="lasso_cd")
    with pytest.raises(TypeError, match="transform_algorithm='lasso_cd'"):
        est.transform(Xx)
    est.set_params(transform_algorithm="threshold")  # generic: soft thresholding of X D^T
    codes = est.transform(Xx)
    assert_in_namespace(codes, xp)
    D = to_np(est.components_)
    X = to_np(Xx)
    expected = np.sign(X @ D.T) * np.maximum(np.abs(X @ D.T) - 1.0, 0.0)
    np.testing.assert_allclose(to_np(codes), expected, rtol=1e-10, atol=1e-12)
    est.set_params(transform_algorithm=None, transform_solver="lars")
    with pytest.raises(TypeError, match="transform_solver='lars'.*transform_algorithm="
                                        "'fista'"):
        est.transform(Xx)


@pytest.mark.filterwarnings("ignore::sparsopt.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("xp_name", NAMESPACES)
def test_minibatch_estimator_with_the_lca_coder(xp_name, dispatch):
    xp, dev = namespace(xp_name)
    X = _data(np.float64)
    kw = {**_MB, "coding_solver": "lca", "fit_algorithm": None}
    ref = MiniBatchDictionaryLearning(**kw).fit(X)
    est = MiniBatchDictionaryLearning(**kw).fit(to_xp(X, xp, dev))
    assert_in_namespace(est.components_, xp)
    np.testing.assert_allclose(to_np(est.components_), ref.components_, rtol=1e-7,
                               atol=1e-7)
    # FISTA codes (200 iterations) of dictionaries equal to 1e-7: equal to 1e-6
    np.testing.assert_allclose(to_np(est.transform(to_xp(X[:4], xp, dev))),
                               ref.transform(X[:4]), rtol=1e-6, atol=1e-6)
