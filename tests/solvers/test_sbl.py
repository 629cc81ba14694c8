"""Classical sparse Bayesian learning: ``sparsopt.solvers.sbl`` and its E-step ``sbl_posterior``."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import sparsopt
from sparsopt.exceptions import ConvergenceWarning, NonFiniteIterateWarning
from sparsopt.solvers import SBLPosterior, SolverResult, SolverState, sbl
from sparsopt.solvers.bayes import sbl as sbl_module
from sparsopt.solvers.bayes.sbl import sbl_posterior


def _problem(M=40, N=80, k=4, snr=30.0, L=None, is_complex=False, seed=0):
    """Gaussian dictionary, ``k`` non-zeros of magnitude in [1, 2], noise at ``snr`` dB."""
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((M, N))
    if is_complex:
        A = (A + 1j * rng.standard_normal((M, N))) / np.sqrt(2)
    support = np.sort(rng.choice(N, k, replace=False))
    shape = (k,) if L is None else (k, L)
    vals = rng.uniform(1.0, 2.0, shape) * rng.choice([-1.0, 1.0], shape)
    if is_complex:
        vals = vals * np.exp(2j * np.pi * rng.random(shape))
    x = np.zeros((N,) if L is None else (N, L), dtype=vals.dtype)
    x[support] = vals
    y0 = A @ x
    sigma2 = float(np.mean(np.abs(y0) ** 2)) / 10 ** (snr / 10)
    noise = rng.standard_normal(y0.shape)
    if is_complex:
        noise = (noise + 1j * rng.standard_normal(y0.shape)) / np.sqrt(2)
    return A, y0 + np.sqrt(sigma2) * noise, x, support, sigma2


def _explicit(A, Y, gamma, sigma2):
    """The textbook E-step: ``Sigma = inv(A^H A / s2 + diag(1/gamma))``, ``mu = Sigma A^H Y / s2``,
    ``log det(s2 I + A Gamma A^H)``."""
    Sigma = np.linalg.inv(A.conj().T @ A / sigma2 + np.diag(1.0 / gamma))
    mu = Sigma @ A.conj().T @ Y / sigma2
    C = sigma2 * np.eye(A.shape[0]) + (A * gamma) @ A.conj().T
    return mu, Sigma, np.linalg.slogdet(C)[1]


# ----------------------------------------------------------------------------- E-step


@pytest.mark.parametrize("shape", [(6, 10), (12, 5), (7, 7)], ids=["woodbury", "direct", "square"])
@pytest.mark.parametrize("is_complex", [False, True])
@pytest.mark.parametrize("L", [1, 3])
def test_posterior_both_branches_match_explicit_formula(shape, is_complex, L):
    rng = np.random.default_rng(sum(shape) + L)
    M, N = shape
    A = rng.standard_normal(shape)
    Y = rng.standard_normal((M, L))
    if is_complex:
        A = A + 1j * rng.standard_normal(shape)
        Y = Y + 1j * rng.standard_normal((M, L))
    gamma = rng.uniform(0.1, 2.0, N)
    sigma2 = 0.3
    mu_ref, Sigma_ref, logdet_ref = _explicit(A, Y, gamma, sigma2)
    post = sbl_posterior(A, Y, gamma, sigma2, full=True)
    assert isinstance(post, SBLPosterior)
    mu, sdiag, logdet, rss, Sigma = post
    assert mu.shape == (N, L) and sdiag.shape == (N,)
    assert np.isrealobj(sdiag)
    np.testing.assert_allclose(mu, mu_ref, rtol=0, atol=1e-10)
    np.testing.assert_allclose(sdiag, np.real(np.diag(Sigma_ref)), rtol=0, atol=1e-10)
    np.testing.assert_allclose(Sigma, Sigma_ref, rtol=0, atol=1e-10)
    assert logdet == pytest.approx(logdet_ref, abs=1e-10)
    R = Y - A @ mu_ref
    assert rss == pytest.approx(float(np.real(np.vdot(R, R))), rel=1e-9)
    mu2, sdiag2, logdet2, rss2, cov2 = sbl_posterior(A, Y, gamma, sigma2)
    assert cov2 is None and rss2 == pytest.approx(rss, rel=1e-10)
    np.testing.assert_allclose(mu2, mu, rtol=0, atol=1e-12)
    np.testing.assert_allclose(sdiag2, sdiag, rtol=0, atol=1e-12)
    assert logdet2 == pytest.approx(logdet, abs=1e-12)


def test_posterior_woodbury_and_direct_agree_on_the_same_problem():
    # the same (A, gamma) once wide (Woodbury) and once padded with zero rows (direct):
    # zero rows add no information, so mu and Sigma agree and log det differs by the padding
    rng = np.random.default_rng(5)
    A = rng.standard_normal((5, 8))
    Y = rng.standard_normal((5, 2))
    gamma = rng.uniform(0.2, 1.5, 8)
    s2 = 0.7
    mu_w, sd_w, ld_w, rss_w, _ = sbl_posterior(A, Y, gamma, s2)
    A_pad = np.vstack([A, np.zeros((3, 8))])
    Y_pad = np.vstack([Y, np.zeros((3, 2))])
    mu_d, sd_d, ld_d, rss_d, _ = sbl_posterior(A_pad, Y_pad, gamma, s2)
    np.testing.assert_allclose(mu_w, mu_d, rtol=0, atol=1e-10)
    np.testing.assert_allclose(sd_w, sd_d, rtol=0, atol=1e-10)
    assert ld_d == pytest.approx(ld_w + 3 * np.log(s2), abs=1e-10)
    assert rss_d == pytest.approx(rss_w, rel=1e-9)  # the padded rows fit exactly


def test_posterior_precomputed_gram_is_used_consistently():
    rng = np.random.default_rng(2)
    A = rng.standard_normal((12, 5))
    Y = rng.standard_normal((12, 1))
    gamma = rng.uniform(0.5, 1.0, 5)
    ref = sbl_posterior(A, Y, gamma, 0.2)
    got = sbl_posterior(A, Y, gamma, 0.2, gram=A.T @ A)
    for a, b in zip(ref[:4], got[:4]):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
    assert ref.cov is None and got.cov is None


# ----------------------------------------------------------------------------- the solver


@pytest.mark.parametrize("L", [None, 3])
@pytest.mark.parametrize("is_complex", [False, True])
def test_em_cost_is_monotone_with_known_noise_and_no_pruning(L, is_complex):
    A, y, _, _, s2 = _problem(M=30, N=50, k=4, snr=15, L=L, is_complex=is_complex, seed=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        res = sbl(A, y, solver="em", noise_variance=s2, learn_noise=False, prune_rtol=0.0,
                  prune_atol=0.0, max_iter=150, tol=1e-12)
    cost = np.array([h["objective"] for h in res.history])
    assert cost.size == res.n_iter > 20
    assert np.all(np.isfinite(cost))
    steps = np.diff(cost)
    assert np.all(steps <= 1e-9 * np.abs(cost[1:])), steps.max()
    assert cost[-1] < cost[0]
    assert res.info["n_active"] == A.shape[1]  # nothing pruned


@pytest.mark.parametrize("L", [None, 2])
def test_history_cost_is_the_sbl_cost_of_the_estep_gamma(L):
    # first record: L(gamma=1) = log det C + mean_l y_l^T C^{-1} y_l, C = s2 I + A A^T
    A, y, _, _, s2 = _problem(M=20, N=30, k=3, L=L, seed=4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        res = sbl(A, y, noise_variance=s2, learn_noise=False, max_iter=2, tol=0.0)
    C = s2 * np.eye(20) + A @ A.T
    Y = y.reshape(20, -1)
    quad = np.mean(np.sum(Y * np.linalg.solve(C, Y), axis=0))
    assert res.history[0]["objective"] == pytest.approx(np.linalg.slogdet(C)[1] + quad,
                                                        rel=1e-10)


@pytest.mark.parametrize("solver", ["em", "mackay"])
def test_first_noise_update_uses_the_estep_gamma(solver):
    # sigma^2 starts at var(y); after one iteration (gamma = 1 in the E-step):
    # EM: (||y - A mu||^2 + s2 sum_j (1 - Sigma_jj / gamma_j)) / M
    # MacKay: ||y - A mu||^2 / (M - sum_j (1 - Sigma_jj / gamma_j))
    A, y, _, _, _ = _problem(M=25, N=40, k=3, snr=10, seed=9)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        res = sbl(A, y, solver=solver, max_iter=1, tol=0.0, prune_rtol=0.0)
    s0 = np.var(y) + np.finfo(np.float64).eps
    gamma = np.ones(40)
    Sigma = np.linalg.inv(A.T @ A / s0 + np.eye(40))
    mu = Sigma @ A.T @ y / s0
    rss = np.sum((y - A @ mu) ** 2)
    sum_g = np.sum(1 - np.diag(Sigma) / gamma)
    expected = (rss + s0 * sum_g) / 25 if solver == "em" else rss / (25 - sum_g)
    assert res.history[0]["noise_variance"] == pytest.approx(expected, rel=1e-10)
    # and the M-step of gamma: EM mu^2 + Sigma_jj, MacKay mu^2 / (1 - Sigma_jj / gamma_j)
    g_exp = (mu**2 + np.diag(Sigma) if solver == "em"
             else mu**2 / (1 - np.diag(Sigma) / gamma))
    np.testing.assert_allclose(res.info["gamma"], g_exp, rtol=1e-10)


@pytest.mark.parametrize("solver", ["em", "mackay"])
@pytest.mark.parametrize("learn_noise", [False, True])
def test_support_recovery_easy_problem(solver, learn_noise):
    A, y, x, support, s2 = _problem(M=40, N=80, k=4, snr=30, seed=3)
    res = sbl(A, y, solver=solver, noise_variance=s2 if not learn_noise else None,
              learn_noise=learn_noise)
    assert isinstance(res, SolverResult) and res.converged
    assert res.x.shape == (80,) and res.x.dtype == np.float64
    np.testing.assert_array_equal(np.flatnonzero(res.x), support)
    np.testing.assert_array_equal(np.flatnonzero(res.info["active"]), support)
    assert res.info["n_active"] == 4
    assert np.sum((res.x - x) ** 2) / np.sum(x**2) < 1e-2
    gamma, sdiag = res.info["gamma"], res.info["sigma_diag"]
    assert gamma.shape == sdiag.shape == (80,)
    assert np.all(gamma[res.info["active"]] > 0) and np.all(gamma[~res.info["active"]] == 0)
    assert np.all(sdiag[~res.info["active"]] == 0) and np.all(sdiag >= 0)
    if learn_noise:
        assert 0.3 * s2 < res.info["noise_variance"] < 3 * s2
    else:
        assert res.info["noise_variance"] == s2


@pytest.mark.parametrize("solver", ["em", "mackay"])
def test_learned_noise_is_close_to_truth(solver):
    A, y, _, _, s2 = _problem(M=200, N=100, k=5, snr=10, seed=8)
    res = sbl(A, y, solver=solver)
    assert res.info["noise_variance"] == pytest.approx(s2, rel=0.3)


def test_multiple_snapshots_share_the_support():
    A, Y, X, support, s2 = _problem(M=30, N=60, k=4, snr=25, L=3, seed=6)
    res = sbl(A, Y, noise_variance=s2, learn_noise=False)
    assert res.x.shape == (60, 3)
    assert res.info["gamma"].shape == (60,)
    row_norm = np.linalg.norm(res.x, axis=1)
    np.testing.assert_array_equal(np.flatnonzero(row_norm > 0.2), support)
    assert np.all(res.x[~res.info["active"]] == 0)
    assert np.sum((res.x - X) ** 2) / np.sum(X**2) < 1e-2
    # the 1-D call on a single column returns a 1-D x
    assert sbl(A, Y[:, 0], noise_variance=s2, learn_noise=False).x.shape == (60,)


def test_complex_dictionary_and_measurements():
    A, y, x, support, s2 = _problem(M=30, N=60, k=4, snr=30, is_complex=True, seed=2)
    res = sbl(A, y, noise_variance=s2, learn_noise=False)
    assert np.iscomplexobj(res.x) and res.x.dtype == np.complex128
    np.testing.assert_array_equal(np.flatnonzero(res.x), support)
    assert np.sum(np.abs(res.x - x) ** 2) / np.sum(np.abs(x) ** 2) < 1e-2
    assert np.isrealobj(res.info["gamma"]) and np.isrealobj(res.info["sigma_diag"])
    # real A with complex y also gives a complex estimate
    res2 = sbl(A.real, y, noise_variance=s2, learn_noise=False, max_iter=5, tol=1.0)
    assert np.iscomplexobj(res2.x)


def test_float32_in_float32_out():
    A, y, _, support, s2 = _problem(seed=3)
    res = sbl(A.astype(np.float32), y.astype(np.float32), noise_variance=s2, learn_noise=False)
    assert res.x.dtype == np.float32
    np.testing.assert_array_equal(np.flatnonzero(res.x), support)


def test_relative_and_absolute_pruning_rules():
    A, y, _, support, s2 = _problem(M=40, N=80, k=4, snr=30, seed=3)
    res = sbl(A, y, solver="mackay", noise_variance=s2, learn_noise=False, prune_rtol=0.0,
              prune_atol=1e-4)
    gamma = res.info["gamma"]
    assert np.all(gamma[res.info["active"]] > 1e-4)
    assert np.all(res.x[~res.info["active"]] == 0)
    assert set(support) <= set(np.flatnonzero(res.x))
    res = sbl(A, y, noise_variance=s2, learn_noise=False, prune_rtol=0.5)
    gamma = res.info["gamma"]
    assert np.all(gamma[res.info["active"]] >= 0.5 * gamma.max())


def test_init_and_callback():
    A, y, _, support, s2 = _problem(seed=3)
    res = sbl(A, y, noise_variance=s2, learn_noise=False, init=np.full(80, 2.0))
    np.testing.assert_array_equal(np.flatnonzero(res.x), support)
    seen = []

    def cb(state):
        assert isinstance(state, SolverState)
        seen.append((state.iteration, state.info["gamma"].shape, state.x.shape))
        return state.iteration == 3

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        res = sbl(A, y, noise_variance=s2, learn_noise=False, callback=cb, tol=0.0)
    assert res.n_iter == 3 and seen == [(i, (80,), (80,)) for i in (1, 2, 3)]
    assert not res.converged and res.stopped_by == "callback"


def test_init_is_the_first_estep_gamma():
    # with init = c, the first record is the SBL cost of gamma = c (not of the default 1)
    A, y, _, _, s2 = _problem(M=20, N=30, k=3, seed=4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        res = sbl(A, y, noise_variance=s2, learn_noise=False, max_iter=1, tol=0.0,
                  init=np.full(30, 0.5))
    C = s2 * np.eye(20) + 0.5 * A @ A.T
    cost = np.linalg.slogdet(C)[1] + y @ np.linalg.solve(C, y)
    assert res.history[0]["objective"] == pytest.approx(cost, rel=1e-10)


def test_callback_true_on_first_call_stops_after_one_check():
    A, y, _, _, s2 = _problem(seed=3)
    calls = []

    def cb(state):
        calls.append(state)
        return True

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = sbl(A, y, callback=cb, tol=0.0)
    assert len(calls) == 1 and calls[0].iteration == 1
    assert isinstance(res, SolverResult) and not res.converged and res.n_iter == 1
    assert res.stopped_by == "callback" and res.info["stopped_by"] == "callback"
    assert set(calls[0].info) >= {"gamma", "noise_variance", "n_active"}
    assert calls[0].objective == res.history[0]["objective"]
    # the history records carry no N-vector per iteration
    assert "gamma" not in res.history[0]


@pytest.mark.parametrize("config_verbose, expected_lines", [(0, 0), (1, 4)])
def test_verbose_none_reads_the_config(capsys, config_verbose, expected_lines):
    A, y, _, _, s2 = _problem(seed=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        with sparsopt.config_context(verbose=config_verbose):
            sbl(A, y, noise_variance=s2, learn_noise=False, max_iter=3, tol=0.0)
    out = capsys.readouterr().out
    assert len([line for line in out.splitlines() if line.startswith("sbl:")]) == expected_lines
    # an explicit verbose wins over the configuration
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        with sparsopt.config_context(verbose=1):
            sbl(A, y, noise_variance=s2, learn_noise=False, max_iter=3, tol=0.0, verbose=0)
    assert capsys.readouterr().out == ""


def test_nonfinite_iteration_rolls_back_to_the_last_finite_prior(monkeypatch):
    A, y, _, _, s2 = _problem(seed=3)
    ref = sbl(A, y, noise_variance=s2, learn_noise=False, max_iter=3, tol=0.0,
              callback=lambda state: state.iteration == 3)
    calls = []
    real = sbl_module.gamma_update

    def flaky(*args):
        calls.append(1)
        out = real(*args)
        return out * np.nan if len(calls) == 4 else out

    monkeypatch.setattr(sbl_module, "gamma_update", flaky)
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        res = sbl(A, y, noise_variance=s2, learn_noise=False, tol=0.0)
    assert [w.category for w in rec] == [NonFiniteIterateWarning]
    assert res.stopped_by == "nonfinite" and not res.converged and res.n_iter == 3
    # the posterior of the third iteration's gamma, as a run stopped there
    np.testing.assert_allclose(res.x, ref.x, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(res.info["gamma"], ref.info["gamma"], rtol=1e-12)
    assert np.all(np.isfinite(res.x)) and np.all(np.isfinite(res.info["sigma_diag"]))


def test_nonfinite_estep_without_a_finite_prior_raises(monkeypatch):
    A, y, _, _, s2 = _problem(seed=3)

    def broken(X, y, gamma, sigma2, **kw):
        post = sbl_posterior(X, y, gamma, sigma2, **kw)
        return post._replace(mean=post.mean * np.nan)

    monkeypatch.setattr(sbl_module, "sbl_posterior", broken)
    with pytest.raises(FloatingPointError, match="sbl"):
        sbl(A, y, noise_variance=s2, learn_noise=False)


def test_stop_on_coefficients():
    A, y, _, support, s2 = _problem(seed=3)
    res = sbl(A, y, noise_variance=s2, learn_noise=False, stop="coef", tol=1e-6)
    assert res.converged and res.stop_crit < 1e-6
    assert res.info["stop"] == "coef" and "coef" in res.info["criterion"]
    np.testing.assert_array_equal(np.flatnonzero(res.x), support)


def test_convergence_warning_exactly_once():
    A, y, _, _, s2 = _problem(seed=0)
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        res = sbl(A, y, max_iter=1, tol=0.0)
    conv = [w for w in rec if issubclass(w.category, ConvergenceWarning)]
    assert len(conv) == 1 and len(rec) == 1
    assert "max_iter" in str(conv[0].message)
    assert not res.converged and res.n_iter == 1
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sbl(A, y, max_iter=300, tol=1e-4)  # converges: no warning at all


@pytest.mark.parametrize(
    "kwargs, exc, match",
    [
        (dict(solver="newton"), ValueError, "solver must be one of"),
        (dict(stop="objective"), ValueError, "stop must be one of"),
        (dict(learn_noise=False), ValueError, "learn_noise=False needs the known noise_variance"),
        (dict(tol=-1e-3), ValueError, "tol must be >= 0"),
        (dict(max_iter=0), ValueError, "max_iter"),
        (dict(noise_variance=0.0), ValueError, "noise_variance must be > 0"),
        (dict(noise_variance=-1.0), ValueError, "noise_variance"),
        (dict(prune_rtol=1.5), ValueError, "prune_rtol must be <= 1"),
        (dict(prune_atol=-1.0), ValueError, "prune_atol must be >= 0"),
        (dict(lambda_1=-1.0), ValueError, "lambda_1 must be >= 0"),
        (dict(init=np.ones(7)), ValueError, "init .*must hold 80"),
        (dict(init=-np.ones(80)), ValueError, "init .*must hold 80 positive"),
    ],
)
def test_parameter_errors_name_the_parameter(kwargs, exc, match):
    A, y, _, _, _ = _problem(seed=0)
    with pytest.raises(exc, match=match):
        sbl(A, y, **kwargs)


def test_input_errors():
    A, y, _, _, _ = _problem(seed=0)
    with pytest.raises(ValueError, match="y has 39 rows but the dictionary has 40"):
        sbl(A, y[:-1])
    bad = A.copy()
    bad[3, 4] = np.nan
    with pytest.raises(ValueError, match="X contains NaN"):
        sbl(bad, y)
    bad_y = y.copy()
    bad_y[0] = np.nan
    with pytest.raises(ValueError, match="y contains NaN"):
        sbl(A, bad_y)
    bad_y[0] = np.inf
    with pytest.raises(ValueError, match="y contains NaN or infinity"):
        sbl(A, bad_y)
    with pytest.raises(ValueError, match="X must be a non-empty 2-D"):
        sbl(A[0], y)
    with pytest.raises(ValueError, match="y must be 1-D"):
        sbl(A, y[:, None, None])
    with pytest.raises(TypeError, match="X must be numeric"):
        sbl(A.astype(str), y)


def test_zero_targets_return_zero_codes_without_warning():
    A, _, _, _, _ = _problem(seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = sbl(A, np.zeros(A.shape[0]))
    assert res.converged and res.info["stopped_by"] == "zero_targets"
    assert not np.any(res.x) and res.info["n_active"] == 0


def test_history_times_and_stopped_by():
    A, y, _, _, s2 = _problem(seed=1)
    res = sbl(A, y, noise_variance=s2, learn_noise=False, tol=1e-6)
    times = [h["time"] for h in res.history]
    assert all(t >= 0 for t in times) and times == sorted(times)
    assert res.info["stopped_by"] in ("tol", "all_pruned")
