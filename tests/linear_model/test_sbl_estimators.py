"""``SBLRegressor`` (iterate-level parity with scikit-learn's ``ARDRegression``) and
``KroneckerSBL``. The generic scikit-learn estimator checks run from ``tests/test_common.py``."""

from __future__ import annotations

import warnings
from functools import reduce

import numpy as np
import pytest
from sklearn.linear_model import ARDRegression

from sparsopt.datasets import make_kronecker_problem
from sparsopt.exceptions import ConvergenceWarning
from sparsopt.linalg import KroneckerOperator, kron_apply
from sparsopt.linear_model import KroneckerSBL, SBLRegressor

#: SBLRegressor options that reproduce ARDRegression's defaults
ARD_LIKE = dict(solver="mackay", stop="coef", prune_rtol=0.0, threshold_lambda=1e4,
                alpha_1=1e-6, alpha_2=1e-6, lambda_1=1e-6, lambda_2=1e-6)


def _regression(n_samples, n_features, seed=0, intercept=0.3):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_samples, n_features))
    w = np.zeros(n_features)
    w[[1, 4, 7]] = [2.0, -1.0, 0.5]
    y = X @ w + intercept + 0.1 * rng.standard_normal(n_samples)
    return X, y, w


def _fit_pair(X, y, k, ard_cls=ARDRegression):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ours = SBLRegressor(**ARD_LIKE, max_iter=k, tol=0.0).fit(X, y)
    ref = ard_cls(max_iter=k, tol=0.0).fit(X, y)
    return ours, ref


def _ard_predict(ref, X):
    """``ref.predict(X, return_std=True)`` with the test points centred in the variance, as
    scikit-learn does since 1.9 (older releases used the raw ``X``: scikit-learn PR 33918)."""
    keep = ref.lambda_ < ref.threshold_lambda
    Xc = (X - ref.X_offset_)[:, keep]
    return ref.predict(X), np.sqrt(((Xc @ ref.sigma_) * Xc).sum(axis=1) + 1.0 / ref.alpha_)


class _ARDDirect(ARDRegression):
    """ARDRegression always using its (n_features x n_features) covariance update."""

    def _update_sigma_woodbury(self, X, alpha_, lambda_, keep_lambda):
        return self._update_sigma(X, alpha_, lambda_, keep_lambda)


# ----------------------------------------------------------------------------- ARD parity


@pytest.mark.parametrize("k", [1, 2, 5, 20])
@pytest.mark.parametrize("seed", [0, 1])
def test_ard_parity_more_samples_than_features(k, seed):
    X, y, _ = _regression(50, 10, seed)
    ours, ref = _fit_pair(X, y, k)
    assert ours.n_iter_ == ref.n_iter_ == k
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=0, atol=1e-10)
    assert ours.intercept_ == pytest.approx(ref.intercept_, abs=1e-10)
    assert ours.noise_variance_ == pytest.approx(1.0 / ref.alpha_, rel=1e-10)
    keep = ref.lambda_ < ref.threshold_lambda
    np.testing.assert_array_equal(ours.active_, keep)
    np.testing.assert_allclose(1.0 / ours.gamma_[keep], ref.lambda_[keep], rtol=1e-8)
    # sklearn's sigma_ is the full covariance of the kept weights, ours its diagonal
    np.testing.assert_allclose(ours.sigma_[keep], np.diag(ref.sigma_), rtol=1e-8, atol=1e-14)
    mean_o, std_o = ours.predict(X[:7], return_std=True)
    mean_r, std_r = _ard_predict(ref, X[:7])
    np.testing.assert_allclose(mean_o, mean_r, rtol=0, atol=1e-10)
    np.testing.assert_allclose(std_o, std_r, rtol=1e-10)


@pytest.mark.parametrize("k", [1, 2, 5, 20])
@pytest.mark.parametrize("seed", [0, 3])
def test_ard_parity_fewer_samples_than_features(k, seed):
    # ARDRegression uses a Woodbury update here; the MacKay fixed point amplifies rounding
    # (g_j = 1 - lambda_j Sigma_jj cancels for weak features), so agreement is looser
    X, y, _ = _regression(20, 40, seed)
    ours, ref = _fit_pair(X, y, k)
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=0, atol=1e-5)
    assert ours.intercept_ == pytest.approx(ref.intercept_, abs=1e-5)
    assert ours.noise_variance_ == pytest.approx(1.0 / ref.alpha_, rel=1e-6)
    np.testing.assert_allclose(ours.predict(X[:7], return_std=True)[1],
                               _ard_predict(ref, X[:7])[1], rtol=1e-6)


@pytest.mark.parametrize("k", [5, 20])
def test_ard_parity_fewer_samples_than_features_vs_direct_update(k):
    # against the same ARD iteration with sklearn's direct (non-Woodbury) covariance the
    # agreement is back at rounding level: the 1e-6 gap above is sklearn's Woodbury branch
    X, y, _ = _regression(20, 40, 0)
    ours, ref = _fit_pair(X, y, k, ard_cls=_ARDDirect)
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=0, atol=1e-10)
    assert ours.noise_variance_ == pytest.approx(1.0 / ref.alpha_, rel=1e-10)


def test_ard_parity_without_intercept():
    X, y, _ = _regression(40, 8, 2, intercept=0.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ours = SBLRegressor(**ARD_LIKE, max_iter=10, tol=0.0, fit_intercept=False).fit(X, y)
    ref = ARDRegression(max_iter=10, tol=0.0, fit_intercept=False).fit(X, y)
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=0, atol=1e-10)
    assert ours.intercept_ == 0.0 == ref.intercept_


def test_ard_parity_with_default_tol_stops_at_the_same_iteration():
    X, y, _ = _regression(50, 10, 0)
    ours = SBLRegressor(**ARD_LIKE, tol=1e-3).fit(X, y)
    ref = ARDRegression().fit(X, y)
    assert ours.n_iter_ == ref.n_iter_
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=0, atol=1e-10)


@pytest.mark.parametrize("tol", [0.0, 1e-3])  # max_iter reached; tol met (no callback)
def test_ard_parity_scores_lambda_alpha(tol):
    X, y, _ = _regression(50, 10, 1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ours = SBLRegressor(**ARD_LIKE, max_iter=12, tol=tol, compute_score=True).fit(X, y)
    ref = ARDRegression(max_iter=12, tol=tol, compute_score=True).fit(X, y)
    assert ours.n_iter_ == ref.n_iter_ and ours.scores_.shape == (ref.n_iter_,)
    np.testing.assert_allclose(ours.scores_, ref.scores_, rtol=1e-10)
    # lambda_ everywhere, the pruned weights included (their precision when pruned)
    assert not ours.active_.all()
    np.testing.assert_allclose(ours.lambda_, ref.lambda_, rtol=1e-8)
    np.testing.assert_array_equal(ours.lambda_ < ours.threshold_lambda, ours.active_)
    assert ours.alpha_ == pytest.approx(ref.alpha_, rel=1e-10)
    assert ours.alpha_ == 1.0 / ours.noise_variance_


def test_scores_empty_without_compute_score_and_em_scores_finite():
    X, y, _ = _regression(40, 8, 3)
    assert SBLRegressor().fit(X, y).scores_.shape == (0,)
    reg = SBLRegressor(compute_score=True, lambda_1=1e-6, lambda_2=1e-6).fit(X, y)
    assert reg.scores_.shape == (reg.n_iter_,) and np.all(np.isfinite(reg.scores_))


def test_threshold_lambda_prunes_by_precision_and_copy_x_keeps_x():
    X, y, _ = _regression(40, 8, 3)
    X0 = X.copy()
    reg = SBLRegressor(prune_rtol=0.0, threshold_lambda=10.0, copy_X=False).fit(X, y)
    np.testing.assert_array_equal(X, X0)
    assert np.all(reg.lambda_[reg.active_] < 10.0)
    assert np.all(reg.lambda_[~reg.active_] >= 10.0) and (~reg.active_).any()


@pytest.mark.parametrize("Est", ["sbl", "kron"])
def test_verbose_shows_progress(Est, capsys, monkeypatch):
    import sparsopt._core.progress as prog

    monkeypatch.setattr(prog.Progress, "__init__", _plain_init(prog.Progress.__init__))
    if Est == "sbl":
        X, y, _ = _regression(40, 8, 3)
        est = SBLRegressor(verbose=1).fit(X, y)
    else:
        factors, y, _, s2 = make_kronecker_problem((5, 4), (8, 4), 2, snr=30, random_state=0,
                                                   return_noise_variance=True)
        est = KroneckerSBL(verbose=1, noise_variance=s2, learn_noise=False).fit(factors, y)
    lines = capsys.readouterr().out.strip().splitlines()
    name = type(est).__name__
    assert lines and lines[-1].startswith(f"{name}: {est.n_iter_}/{est.max_iter}")
    assert "objective=" in lines[-1]


def _plain_init(init):
    def plain(self, *args, **kwargs):
        kwargs.update(use_tqdm=False, min_interval=0.0)
        init(self, *args, **kwargs)
    return plain


# ----------------------------------------------------------------------------- SBLRegressor


def test_sigma_is_the_posterior_variance_diagonal():
    X, y, _ = _regression(12, 8, 4)
    reg = SBLRegressor(prune_rtol=0.0, max_iter=3, tol=0.0, fit_intercept=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        reg.fit(X, y)
    assert reg.active_.all()
    Sigma = np.linalg.inv(X.T @ X / reg.noise_variance_ + np.diag(1.0 / reg.gamma_))
    np.testing.assert_allclose(reg.sigma_, np.diag(Sigma), rtol=1e-10)
    np.testing.assert_allclose(reg.coef_, Sigma @ X.T @ y / reg.noise_variance_, rtol=1e-10)
    _, std = reg.predict(X[:3], return_std=True)
    np.testing.assert_allclose(
        std, np.sqrt(np.einsum("ij,jk,ik->i", X[:3], Sigma, X[:3]) + reg.noise_variance_),
        rtol=1e-10)


def test_fit_intercept_recovers_offset_and_sparse_weights():
    X, y, w = _regression(60, 15, 5, intercept=3.0)
    reg = SBLRegressor().fit(X, y)
    assert reg.intercept_ == pytest.approx(3.0, abs=0.1)
    np.testing.assert_array_equal(np.flatnonzero(reg.coef_), [1, 4, 7])
    np.testing.assert_allclose(reg.coef_, w, atol=0.1)
    assert reg.score(X, y) > 0.99
    # without the intercept the offset cannot be explained
    reg0 = SBLRegressor(fit_intercept=False).fit(X, y)
    assert reg0.intercept_ == 0.0
    assert reg0.score(X, y) < reg.score(X, y)


def test_fitted_attributes():
    X, y, _ = _regression(40, 12, 6)
    reg = SBLRegressor(solver="em").fit(X, y)
    assert reg.coef_.shape == reg.gamma_.shape == reg.sigma_.shape == (12,)
    assert reg.active_.dtype == bool
    np.testing.assert_array_equal(reg.coef_ != 0, reg.active_)
    assert np.all(reg.gamma_[~reg.active_] == 0) and np.all(reg.sigma_[~reg.active_] == 0)
    assert reg.converged_ and reg.n_iter_ == reg.objective_history_.size
    assert reg.noise_variance_ > 0 and reg.n_features_in_ == 12


def test_float32_in_float32_out():
    X, y, _ = _regression(40, 12, 7)
    X32, y32 = X.astype(np.float32), y.astype(np.float32)
    reg = SBLRegressor().fit(X32, y32)
    assert reg.coef_.dtype == np.float32
    assert reg.sigma_.dtype == reg.gamma_.dtype == np.float32
    mean, std = reg.predict(X32, return_std=True)
    assert mean.dtype == np.float32 and std.dtype == np.float32
    ref = SBLRegressor().fit(X, y)
    np.testing.assert_allclose(reg.coef_, ref.coef_, rtol=1e-4, atol=1e-5)


def test_known_noise_is_kept():
    X, y, _ = _regression(40, 12, 8)
    reg = SBLRegressor(noise_variance=0.01, learn_noise=False).fit(X, y)
    assert reg.noise_variance_ == 0.01


def test_sblregressor_parameter_errors():
    X, y, _ = _regression(20, 8, 0)
    with pytest.raises(ValueError, match="solver"):
        SBLRegressor(solver="newton").fit(X, y)
    with pytest.raises(ValueError, match="prune_rtol"):
        SBLRegressor(prune_rtol=2.0).fit(X, y)
    with pytest.raises(ValueError, match="learn_noise=False needs the known noise_variance"):
        SBLRegressor(learn_noise=False).fit(X, y)


# ----------------------------------------------------------------------------- KroneckerSBL


@pytest.fixture(scope="module")
def kron_problem():
    factors, y, x, s2 = make_kronecker_problem((5, 6, 6), (8, 8, 8), 2, snr=30,
                                               random_state=1, return_noise_variance=True)
    return factors, y, x, s2


def _nmse(a, b):
    return float(np.sum(np.abs(a - b) ** 2) / np.sum(np.abs(b) ** 2))


def test_kronecker_sbl_operator_list_and_array_inputs(kron_problem):
    factors, y, x, s2 = kron_problem
    op = KroneckerOperator(factors)
    est = KroneckerSBL(noise_variance=s2, learn_noise=False).fit(op, y)
    assert est.coef_.shape == (512,) and est.n_features_in_ == 512
    assert est.factor_shapes_ == ((5, 8), (6, 8), (6, 8))
    assert _nmse(est.coef_, x) < 1e-2
    pred = est.predict(op)
    assert pred.shape == y.shape
    np.testing.assert_allclose(pred, op @ est.coef_, rtol=1e-12, atol=1e-12)
    # a list of factors is the same model
    est_list = KroneckerSBL(noise_variance=s2, learn_noise=False).fit(factors, y)
    np.testing.assert_allclose(est_list.coef_, est.coef_, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(est_list.predict(factors), pred, rtol=1e-12, atol=1e-12)
    # and the dense matrix (one factor: classical EM SBL) fits the same data
    A = op.todense()
    est_dense = KroneckerSBL(noise_variance=s2, learn_noise=False).fit(A, y)
    assert est_dense.factor_shapes_ == ((180, 512),)
    assert est_dense.predict(A).shape == y.shape
    # a model fitted on the operator predicts on the dense matrix too
    np.testing.assert_allclose(est.predict(A), pred, rtol=1e-10, atol=1e-10)


def test_kronecker_sbl_gamma_factors_product_is_gamma(kron_problem):
    factors, y, _, s2 = kron_problem
    est = KroneckerSBL(solver="am", noise_variance=s2, learn_noise=False).fit(factors, y)
    assert [g.shape for g in est.gamma_factors_] == [(8,), (8,), (8,)]
    np.testing.assert_allclose(reduce(np.kron, est.gamma_factors_), est.gamma_, rtol=1e-12)
    assert est.sigma_.shape == (512,) and np.all(est.sigma_ >= 0)
    assert est.noise_variance_ == s2
    assert est.n_iter_ == est.objective_history_.size


def test_kronecker_sbl_multiple_snapshots():
    factors, Y, X, s2 = make_kronecker_problem((5, 6, 6), (8, 8, 8), 2, snr=30, n_snapshots=3,
                                               random_state=2, return_noise_variance=True)
    op = KroneckerOperator(factors)
    est = KroneckerSBL(noise_variance=s2, learn_noise=False).fit(op, Y)
    assert est.coef_.shape == (3, 512)
    assert _nmse(est.coef_.T, X) < 1e-2
    pred = est.predict(op)
    assert pred.shape == Y.shape == (180, 3)
    np.testing.assert_allclose(pred, kron_apply(factors, est.coef_.T), rtol=1e-12)


def test_kronecker_sbl_complex_through_operator():
    factors, y, x, s2 = make_kronecker_problem((5, 6, 6), (8, 8, 8), 2, snr=30, complex=True,
                                               random_state=3, return_noise_variance=True)
    op = KroneckerOperator(factors)
    est = KroneckerSBL(noise_variance=s2, learn_noise=False).fit(op, y)
    assert np.iscomplexobj(est.coef_)
    assert _nmse(est.coef_, x) < 1e-2
    assert np.iscomplexobj(est.predict(op)) and est.predict(op).shape == y.shape
    assert np.isrealobj(est.gamma_)
    # a complex plain array is refused with a pointer to the operator
    with pytest.raises(ValueError, match="Complex data not supported"):
        KroneckerSBL().fit(op.todense(), y)


def test_kronecker_sbl_float32_operator():
    factors, y, _, s2 = make_kronecker_problem((5, 6, 6), (8, 8, 8), 2, snr=30,
                                               random_state=1, return_noise_variance=True)
    op = KroneckerOperator([f.astype(np.float32) for f in factors])
    est = KroneckerSBL(noise_variance=s2, learn_noise=False).fit(op, y.astype(np.float32))
    assert est.coef_.dtype == np.float32 and est.gamma_.dtype == np.float32


def test_kronecker_sbl_errors(kron_problem):
    factors, y, _, s2 = kron_problem
    op = KroneckerOperator(factors)
    est = KroneckerSBL(noise_variance=s2, learn_noise=False).fit(op, y)
    with pytest.raises(ValueError, match="X has 256 columns, the model was fitted with 512"):
        est.predict(KroneckerOperator([factors[0][:, :4], factors[1], factors[2]]))
    with pytest.raises(ValueError, match="coupling has 2 entries"):
        KroneckerSBL(solver="am", coupling=(0.8, 0.8)).fit(op, y)
    with pytest.raises(ValueError, match="needs solver='am'"):
        KroneckerSBL(solver="svd", coupling=(0.8, 0, 0.8)).fit(op, y)
    with pytest.raises(ValueError, match="y must have shape \\(180,\\)"):
        KroneckerSBL().fit(op, y[:-1])
    bad = y.copy()
    bad[3] = np.nan
    with pytest.raises(ValueError, match="y contains NaN"):
        KroneckerSBL().fit(op, bad)
    with pytest.raises(ValueError, match="solver"):
        KroneckerSBL(solver="em").fit(op, y)


def test_kronecker_sbl_coupling_fits():
    factors, y, _, s2 = make_kronecker_problem((5, 4, 5), (8, 4, 8), 2, snr=20,
                                               random_state=0, return_noise_variance=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est = KroneckerSBL(solver="am", coupling=(0.8, 0, 0.8), noise_variance=s2,
                           learn_noise=False).fit(factors, y)
    assert est.coef_.shape == (256,) and np.all(np.isfinite(est.coef_))
