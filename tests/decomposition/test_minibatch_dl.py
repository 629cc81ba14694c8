"""Online dictionary learning (``dict_learning_online``, ``MiniBatchDictionaryLearning``)."""

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
from sparsopt.decomposition._dict_common import coding_spec
from sparsopt.decomposition._dict_online import (
    MiniBatchDictionaryLearning,
    _encode_batch,
    _forgetting_factor,
    _LarsBuffers,
    dict_learning_online,
    learn_dictionary_online,
)
from sparsopt.decomposition._dict_update import dictionary_kernel

_stats_update_numpy = dictionary_kernel("numpy", "stats")

# short fits on purpose; the tests of the warning record it explicitly
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

NO_STOP = {"tol": 0.0, "max_no_improvement": None}


def recovery(D_true, D):
    """Fraction of true atoms with max |cosine| >= 0.99 to a learned atom."""
    Dn = D / np.maximum(np.linalg.norm(D, axis=1, keepdims=True), 1e-300)
    return float(np.mean(np.abs(D_true @ Dn.T).max(axis=1) >= 0.99))


@pytest.fixture(scope="module")
def planted():
    return make_sparse_coding_problem(1000, 16, 24, 3, noise=0.01, random_state=0)


def rows_init(X, k, seed=1):
    rng = np.random.default_rng(seed)
    D = X[rng.choice(X.shape[0], k, replace=False)].copy()
    return D / np.linalg.norm(D, axis=1, keepdims=True)


# ----------------------------------------------------------------------------- pieces
def test_forgetting_factor_schedule():
    b = 4
    # theta = (t + 1) b for t < b - 1: beta = t b + 1 over (t + 1) b + 1 (a plain average)
    assert _forgetting_factor(0, b) == pytest.approx(1 / 5)
    assert _forgetting_factor(2, b) == pytest.approx(9 / 13)
    # then theta = b^2 + t + 1 - b
    t = 10
    theta = b * b + t + 1 - b
    assert _forgetting_factor(t, b) == pytest.approx((theta + 1 - b) / (theta + 1))
    betas = [_forgetting_factor(t, 256) for t in range(2000)]
    assert np.all(np.diff(betas) >= 0) and betas[-1] < 1


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), k=st.integers(1, 9), f=st.integers(1, 7),
       n=st.integers(1, 20), beta=st.floats(0.0, 1.0),
       dtype=st.sampled_from([np.float32, np.float64]))
def test_stats_kernel_matches_numpy_reference(seed, k, f, n, beta, dtype):
    rng = np.random.default_rng(seed)
    C = (rng.normal(size=(n, k)) * (rng.random((n, k)) < 0.4)).astype(dtype)
    X = rng.normal(size=(n, f)).astype(dtype)
    A0 = rng.normal(size=(k, k)).astype(dtype)
    B0 = rng.normal(size=(k, f)).astype(dtype)
    A1, B1, A2, B2 = A0.copy(), B0.copy(), A0.copy(), B0.copy()
    dictionary_kernel(None, "stats")(A1, B1, C, X, beta, 1.0 / n, np.empty(k, dtype=np.int64))
    _stats_update_numpy(A2, B2, C, X, beta, 1.0 / n)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(A1, A2, rtol=tol, atol=tol)
    np.testing.assert_allclose(B1, B2, rtol=tol, atol=tol)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("positive", [False, True])
def test_direct_homotopy_path_equals_sparse_encode(planted, dtype, positive):
    X, D, _ = planted
    X, D = X[:200].astype(dtype), D.astype(dtype)
    spec = coding_spec("l1", 0.05, "auto", None, 1000, 1e-6, None, "test", positive=positive)
    buf = _LarsBuffers(spec, 256, D.shape[0], dtype)
    assert buf.ok
    C, obj, n_warn = _encode_batch(X, D, D @ D.T, spec, buf)
    ref = sparse_encode(X, D, alpha=0.05, positive=positive)
    assert C.dtype == dtype and n_warn == 0
    if dtype == np.float64:
        np.testing.assert_array_equal(C, ref)
    else:  # X D^T by another BLAS call: float32 rounding
        np.testing.assert_allclose(C, ref, rtol=1e-4, atol=1e-5)
    f = 0.5 * np.sum((X.astype(float) - ref.astype(float) @ D.astype(float)) ** 2) \
        + 0.05 * np.abs(ref.astype(float)).sum()
    assert obj == pytest.approx(f, rel=1e-4 if dtype == np.float32 else 1e-9)


def test_direct_path_rows_that_stop_go_through_sparse_encode(planted):
    """Rows whose path stops early (here: the step cap) are finished by sparse_encode."""
    X, D, _ = planted
    X = X[:100]
    spec = coding_spec("l1", 0.01, "auto", None, 2, 1e-8, None, "test")
    buf = _LarsBuffers(spec, 128, D.shape[0], np.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        C, obj, _ = _encode_batch(X, D, D @ D.T, spec, buf)
        ref = sparse_encode(X, D, alpha=0.01, max_iter=2, tol=1e-8)
    assert np.count_nonzero(buf.status[:100]) > 0
    np.testing.assert_array_equal(C, ref)
    f = 0.5 * np.sum((X - ref @ D) ** 2) + 0.01 * np.abs(ref).sum()
    assert obj == pytest.approx(f, rel=1e-9)


# ----------------------------------------------------------------------------- algorithm
@pytest.mark.parametrize("positive", [False, True])
def test_identical_to_sklearn_from_the_same_start(planted, positive):
    """Same statistics, schedule, coder (exact lasso) and BCD sweep as scikit-learn."""
    from sklearn.decomposition import MiniBatchDictionaryLearning as SkMB

    X = np.abs(planted[0][:300]) if positive else planted[0][:300]
    D0 = rows_init(X, 24)
    # scikit-learn's lars coder has no positive codes: positive atoms only
    kw = dict(alpha=0.2, batch_size=32, shuffle=False, dict_init=D0, random_state=0,
              positive_dict=positive, **NO_STOP)
    ours = MiniBatchDictionaryLearning(24, max_iter=3, **kw).fit(X)
    sk = SkMB(24, max_iter=3, **kw).fit(X)
    assert ours.n_steps_ == sk.n_steps_ == 30 and ours.n_iter_ == sk.n_iter_ == 3
    np.testing.assert_allclose(ours.components_, sk.components_, atol=1e-10)
    # partial_fit: scikit-learn takes each call as one batch, ours cuts batch_size pieces
    ours_p, sk_p = MiniBatchDictionaryLearning(24, **kw), SkMB(24, **kw)
    for start in range(0, 96, 32):
        ours_p.partial_fit(X[start:start + 32])
        sk_p.partial_fit(X[start:start + 32])
    np.testing.assert_allclose(ours_p.components_, sk_p.components_, atol=1e-10)


def test_same_early_stopping_step_as_sklearn(planted):
    from sklearn.decomposition import MiniBatchDictionaryLearning as SkMB

    X = planted[0][:300]  # batches of 32: the last one of each epoch has 12 samples
    kw = dict(alpha=0.2, batch_size=32, shuffle=False, dict_init=rows_init(X, 24),
              random_state=0, max_iter=100, tol=1e-3, max_no_improvement=10)
    ours = MiniBatchDictionaryLearning(24, **kw).fit(X)
    sk = SkMB(24, **kw).fit(X)
    assert ours.converged_ and ours.n_steps_ == sk.n_steps_ < 100 * 10
    np.testing.assert_allclose(ours.components_, sk.components_, atol=1e-9)


def test_numpy_engine_gives_the_same_model(planted):
    import sparsopt

    X = planted[0][:256]
    kw = dict(alpha=0.2, batch_size=64, max_iter=2, random_state=0, **NO_STOP)
    a = MiniBatchDictionaryLearning(24, **kw).fit(X)
    with sparsopt.config_context(engine="numpy"):
        b = MiniBatchDictionaryLearning(24, **kw).fit(X)
    np.testing.assert_allclose(a.components_, b.components_, atol=1e-9)


def test_partial_fit_over_chunks_equals_fit(planted):
    X = planted[0][:512]
    D0 = rows_init(X, 24)
    kw = dict(alpha=0.2, batch_size=64, dict_init=D0, random_state=3)
    full = MiniBatchDictionaryLearning(24, max_iter=1, shuffle=False, **kw, **NO_STOP).fit(X)
    chunks = MiniBatchDictionaryLearning(24, **kw)
    for start in (0, 128, 384):  # chunks of 2, 4 and 2 mini-batches
        stop = {0: 128, 128: 384, 384: 512}[start]
        chunks.partial_fit(X[start:stop])
    assert full.n_steps_ == chunks.n_steps_ == 8
    np.testing.assert_allclose(chunks.inner_stats_[0], full.inner_stats_[0], atol=1e-12)
    np.testing.assert_allclose(chunks.inner_stats_[1], full.inner_stats_[1], atol=1e-12)
    np.testing.assert_allclose(chunks.components_, full.components_, atol=1e-12)
    np.testing.assert_allclose(chunks.objective_history_, full.objective_history_, rtol=1e-12)
    A, B = full.inner_stats_
    assert A.shape == (24, 24) and B.shape == (16, 24)
    np.testing.assert_allclose(A, A.T, atol=1e-12)


def test_partial_fit_continues_after_pickling(planted):
    X = planted[0][:256]
    kw = dict(alpha=0.2, batch_size=32, dict_init=rows_init(X, 24), random_state=0)
    a = MiniBatchDictionaryLearning(24, **kw).partial_fit(X[:128])
    b = pickle.loads(pickle.dumps(a))
    a.partial_fit(X[128:])
    b.partial_fit(X[128:])
    np.testing.assert_array_equal(a.components_, b.components_)
    assert a.n_steps_ == b.n_steps_ == 8


def test_recovers_planted_dictionary(planted):
    X, D0, _ = planted
    D = dict_learning_online(X, 24, alpha=0.2, batch_size=64, max_iter=50, random_state=1,
                             return_code=False, **NO_STOP)
    assert recovery(D0, D) >= 0.9
    assert np.all(np.linalg.norm(D, axis=1) <= 1 + 1e-12)


def test_l0_online_from_l1_dictionary(planted):
    """The l0 loop keeps the planted atoms and fits much better than l1 at similar sparsity.

    (Each batch is coded from zero online: the exact equal-sparsity comparison is in the
    batch tests and the benchmark.)
    """
    X, D0, _ = planted
    D1 = dict_learning_online(X, 24, alpha=0.2, batch_size=64, max_iter=50, random_state=1,
                              return_code=False, **NO_STOP)
    res = learn_dictionary_online(X, 24, penalty="l0", alpha=0.02, batch_size=64, max_iter=10,
                                  dict_init=D1, random_state=1, **NO_STOP)
    D = res.x
    assert res.info["coding_solver"] == "cd"
    np.testing.assert_allclose(np.linalg.norm(D, axis=1), 1.0)  # l0 is scale invariant
    C1 = sparse_encode(X, D1, alpha=0.2)
    C = sparse_encode(X, D, penalty="l0", alpha=0.02)
    nnz1, nnz = np.count_nonzero(C1) / len(X), np.count_nonzero(C) / len(X)
    err1, err = np.sum((X - C1 @ D1) ** 2), np.sum((X - C @ D) ** 2)
    assert nnz <= 1.3 * nnz1 and err < 0.5 * err1
    assert recovery(D0, D) >= recovery(D0, D1) >= 0.9


def test_cel0_and_omp_online_loops_run(planted):
    X = planted[0][:256]
    D_c = dict_learning_online(X, 24, penalty="cel0", alpha=0.02, batch_size=64, max_iter=1,
                               coding_max_iter=50, random_state=0, return_code=False,
                               **NO_STOP)
    code, D_o = dict_learning_online(X, 24, n_nonzero_coefs=3, batch_size=64, max_iter=2,
                                     random_state=0, **NO_STOP)
    assert np.all(np.isfinite(D_c)) and np.all(np.count_nonzero(code, axis=1) <= 3)
    np.testing.assert_allclose(np.linalg.norm(D_o, axis=1), 1.0)


def test_dead_atoms_are_resampled_when_rank_is_low():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3)) @ rng.normal(size=(3, 8))  # rank 3, 8 atoms asked
    res = learn_dictionary_online(X, 8, alpha=0.1, batch_size=50, max_iter=2, random_state=0,
                                  **NO_STOP)
    assert np.all(np.linalg.norm(res.x, axis=1) > 0.5)
    D2 = dict_learning_online(X, 8, alpha=0.1, batch_size=50, max_iter=2, random_state=0,
                              return_code=False, **NO_STOP)
    np.testing.assert_array_equal(res.x, D2)  # seeded; the mirror runs the same fit
    assert res.info["n_steps"] == 8


def test_early_stopping_and_single_warning(planted):
    X = planted[0]
    dl = MiniBatchDictionaryLearning(24, alpha=0.2, batch_size=64, max_iter=200,
                                     random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        dl.fit(X)
    assert dl.converged_ and dl.n_steps_ < 200 * 16
    assert dl.n_iter_ == int(np.ceil(dl.n_steps_ / 16))
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        dict_learning_online(X, 24, alpha=0.2, batch_size=64, max_iter=1, tol=1e-9,
                             random_state=0)
    conv = [w for w in rec if issubclass(w.category, ConvergenceWarning)]
    assert len(conv) == 1 and "tol = 1.0e-09" in str(conv[0].message)
    assert "max_iter" in str(conv[0].message)
    with warnings.catch_warnings():  # both criteria disabled: running max_iter is the request
        warnings.simplefilter("error", ConvergenceWarning)
        dict_learning_online(X, 24, alpha=0.2, batch_size=64, max_iter=1, random_state=0,
                             **NO_STOP)


def test_max_no_improvement_stops(planted):
    X = planted[0]
    res = learn_dictionary_online(X, 24, alpha=0.2, batch_size=64, max_iter=100, tol=0.0,
                                  max_no_improvement=3, random_state=0)
    assert res.info["stopped_by"] == "max_no_improvement" and res.converged
    assert res.info["ewa_cost"] is not None


def test_callback_sees_cost_history_and_can_stop(planted):
    X = planted[0]
    seen = []

    def cb(state):
        seen.append((state.iteration, state.info["batch_cost"],
                     len(state.info["objective_history"])))
        assert state.objective == state.info["batch_cost"] and state.x.shape == (24, 16)
        return state.iteration == 5

    dl = MiniBatchDictionaryLearning(24, alpha=0.2, batch_size=64, max_iter=10, callback=cb,
                                     random_state=0).fit(X)
    assert [s[0] for s in seen] == [1, 2, 3, 4, 5] and [s[2] for s in seen] == [1, 2, 3, 4, 5]
    assert dl.n_steps_ == 5 and not dl.converged_
    np.testing.assert_allclose(dl.objective_history_, [s[1] for s in seen])


def test_score_is_negative_mean_objective(planted):
    X = planted[0]
    dl = MiniBatchDictionaryLearning(24, alpha=0.2, batch_size=64, max_iter=5,
                                     random_state=0).fit(X[:800])
    D = dl.components_
    C = sparse_encode(X[800:], D, alpha=0.2)
    expected = -np.mean(0.5 * np.sum((X[800:] - C @ D) ** 2, axis=1)
                        + 0.2 * np.abs(C).sum(axis=1))
    assert dl.score(X[800:]) == pytest.approx(expected, rel=1e-10)
    worse = MiniBatchDictionaryLearning(24, alpha=0.2, batch_size=64, max_iter=1,
                                        random_state=0).partial_fit(X[:64])
    assert dl.score(X[800:]) > worse.score(X[800:])


def test_float32_end_to_end_and_n_jobs(planted):
    X = planted[0][:400]
    X32 = X.astype(np.float32)
    kw = dict(alpha=0.2, batch_size=64, max_iter=3, random_state=0)
    dl = MiniBatchDictionaryLearning(24, **kw).fit(X32)
    A, B = dl.inner_stats_
    assert dl.components_.dtype == A.dtype == B.dtype == np.float32
    assert dl.transform(X32).dtype == np.float32
    dl.partial_fit(X32[:64])
    assert dl.components_.dtype == np.float32
    dl64 = MiniBatchDictionaryLearning(24, **kw).fit(X)
    np.testing.assert_allclose(dl.score(X), dl64.score(X), rtol=1e-2)
    dl2 = MiniBatchDictionaryLearning(24, n_jobs=2, **kw).fit(X)
    np.testing.assert_allclose(dl2.components_, dl64.components_, atol=1e-12)


def test_positive_code_and_dict(planted):
    X = np.abs(planted[0][:300])
    dl = MiniBatchDictionaryLearning(12, alpha=0.1, batch_size=32, max_iter=3,
                                     positive_code=True, positive_dict=True, random_state=0,
                                     transform_algorithm="lasso_lars")
    codes = dl.fit_transform(X)
    assert np.all(dl.components_ >= 0) and np.all(codes >= 0) and np.count_nonzero(codes)


def test_clone_refit_is_deterministic(planted):
    X = planted[0][:300]
    dl = MiniBatchDictionaryLearning(12, alpha=0.1, batch_size=32, max_iter=2, random_state=0)
    a = dl.fit(X).components_.copy()
    b = clone(dl).fit(X).components_
    np.testing.assert_array_equal(a, b)


# ----------------------------------------------------------------------------- errors
@pytest.mark.parametrize("kwargs,match", [
    ({"n_components": 0}, "n_components"),
    ({"batch_size": 0}, "batch_size"),
    ({"max_no_improvement": 0}, "max_no_improvement"),
    ({"n_nonzero_coefs": 2, "positive_code": True}, "positive_code=True is not supported"),
    ({"coding_solver": "lars", "penalty": "mcp"}, "coding_solver='lars'"),
    ({"dict_init": np.ones((2, 2))}, "dict_init"),
    ({"tol": -1.0}, "tol"),
    ({"method": "omp"}, "method"),
    ({"method": "cd", "penalty": "l1"}, "penalty.*method"),
    ({"method_max_iter": 5, "coding_max_iter": 5}, "coding_max_iter.*method_max_iter"),
])
def test_function_errors_name_the_parameter(kwargs, match):
    X = np.random.default_rng(0).normal(size=(20, 4))
    with pytest.raises(ValueError, match=match):
        dict_learning_online(X, **{"n_components": 3, **kwargs})


def test_estimator_errors():
    X = np.random.default_rng(0).normal(size=(20, 4))
    with pytest.raises(ValueError, match="n_components"):
        MiniBatchDictionaryLearning(n_components=0).fit(X)
    with pytest.raises(ValueError, match="positive_code"):
        MiniBatchDictionaryLearning(3, coding_solver="omp", positive_code=True).fit(X)
    with pytest.raises(ValueError, match="coding_solver.*fit_algorithm"):
        MiniBatchDictionaryLearning(3, coding_solver="cd", fit_algorithm="cd").fit(X)
    with pytest.raises(ValueError, match="transform_penalty.*transform_algorithm"):
        MiniBatchDictionaryLearning(3, transform_penalty="l0",
                                    transform_algorithm="omp").fit(X)
    Xn = X.copy()
    Xn[3, 1] = np.inf
    with pytest.raises(ValueError, match="infinity|NaN"):
        MiniBatchDictionaryLearning(3).fit(Xn)
    dl = MiniBatchDictionaryLearning(3, batch_size=5, random_state=0).partial_fit(X)
    with pytest.raises(ValueError, match="features"):
        dl.partial_fit(X[:, :3])
    with pytest.raises(ValueError, match="infinity|NaN"):
        dl.partial_fit(Xn)


@settings(max_examples=20, deadline=None)
@given(batch_size=st.one_of(st.integers(-50, 0), st.floats(0.5, 9.5), st.just(True)))
def test_bad_batch_size_always_rejected(batch_size):
    X = np.random.default_rng(0).normal(size=(10, 3))
    with pytest.raises(ValueError, match="batch_size"):
        dict_learning_online(X, 2, batch_size=batch_size)


# ----------------------------------------------------------------------------- one road
def test_online_mirror_returns_scikit_learn_shapes(planted):
    X = planted[0][:256]
    code, D = dict_learning_online(X, 8, alpha=0.1, batch_size=64, max_iter=1,
                                   random_state=0, **NO_STOP)
    assert code.shape == (256, 8) and D.shape == (8, X.shape[1])
    np.testing.assert_array_equal(code, sparse_encode(X, D, alpha=0.1))


def test_online_callback_true_stops_after_one_check(planted):
    X = planted[0][:256]
    calls = []
    res = learn_dictionary_online(X, 8, alpha=0.1, batch_size=64, max_iter=5,
                                  random_state=0,
                                  callback=lambda s: calls.append(s.iteration) or True)
    assert calls == [1] and res.n_iter == 1 and not res.converged
    assert res.stopped_by == "callback" and res.info["n_steps"] == 1


def test_online_positive_codes_through_the_penalty(planted):
    from sparsopt.penalties import L1, Positive

    X = planted[0][:256]
    res = learn_dictionary_online(X, 8, penalty=L1(0.1) + Positive(), batch_size=64,
                                  max_iter=2, random_state=0, **NO_STOP)
    D = dict_learning_online(X, 8, alpha=0.1, positive_code=True, batch_size=64, max_iter=2,
                             random_state=0, return_code=False, **NO_STOP)
    np.testing.assert_array_equal(res.x, D)


def test_transform_penalty_alone_gets_a_solver_for_it():
    # scikit-learn's spelling at fit (the exact l1 homotopy), sparsopt's at transform: an
    # l0 transform penalty must not inherit the fit's l1-only "lars" solver
    rng = np.random.default_rng(0)
    X = rng.standard_normal((60, 8))
    dl = MiniBatchDictionaryLearning(n_components=5, alpha=0.5, batch_size=20, max_iter=2,
                                     random_state=0).fit(X)
    codes = dl.set_params(transform_penalty="l0", transform_alpha=0.5).transform(X)
    assert codes.shape == (60, 5) and np.isfinite(codes).all()
