"""SinkhornTransport: the entropic map, weights, pipelines, dtypes and errors."""

import numpy as np
import pytest
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline

from sparsopt.ot import SinkhornTransport, cost_matrix, sinkhorn_newton_sparse


@pytest.fixture
def shifted():
    rng = np.random.default_rng(0)
    Xs = rng.normal(size=(80, 2))
    return Xs, Xs + np.array([4.0, -1.0])


def test_transform_of_fitted_samples_is_barycentric_projection(shifted):
    Xs, Xt = shifted
    est = SinkhornTransport(norm="max", reg_e=1e-2).fit(Xs, Xt=Xt)
    P = est.coupling_
    expected = (P @ Xt) / P.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(est.transform(Xs), expected, rtol=1e-8, atol=1e-10)
    assert est.converged_ and est.marginal_error_ <= 1e-9
    np.testing.assert_allclose(P.sum(), 1.0, rtol=1e-9)


def test_coupling_matches_the_solver_on_the_normalised_cost(shifted):
    Xs, Xt = shifted
    est = SinkhornTransport(norm="max", reg_e=5e-3, tol=1e-12).fit(Xs, Xt=Xt)
    C = cost_matrix(Xs, Xt, normalize="max")
    res = sinkhorn_newton_sparse(None, None, C, 5e-3, tol=1e-12)
    np.testing.assert_allclose(est.coupling_, res.plan, atol=1e-12)
    assert est.transport_cost_ == pytest.approx(res.cost, rel=1e-9)
    assert est.cost_scale_ == pytest.approx(cost_matrix(Xs, Xt).max())


def test_small_reg_recovers_a_translation(shifted):
    Xs, Xt = shifted
    est = SinkhornTransport(norm="max", reg_e=1e-3).fit(Xs, Xt=Xt)
    assert np.abs(est.transform(Xs) - Xt).mean() < 0.05
    # new samples near the source move by about the same translation
    moved = est.transform(Xs[:10] + 0.01)
    assert np.abs(moved - Xt[:10]).mean() < 0.1
    # and the inverse map brings the target back
    assert np.abs(est.inverse_transform(Xt) - Xs).mean() < 0.05


@pytest.mark.parametrize("solver", ["sns", "sinkhorn"])
def test_solvers_agree(shifted, solver):
    Xs, Xt = shifted
    ref = SinkhornTransport(norm="max", reg_e=2e-2, tol=1e-11).fit(Xs, Xt=Xt)
    est = SinkhornTransport(norm="max", reg_e=2e-2, solver=solver, tol=1e-11,
                            max_iter=5000).fit(Xs, Xt=Xt)
    np.testing.assert_allclose(est.coupling_, ref.coupling_, atol=1e-10)


def test_weights_are_marginals(shifted):
    Xs, Xt = shifted
    rng = np.random.default_rng(1)
    ws, wt = rng.random(len(Xs)), rng.random(len(Xt))
    est = SinkhornTransport(norm="max", reg_e=2e-2).fit(Xs, Xt=Xt, sample_weight=ws,
                                                        target_weight=wt)
    np.testing.assert_allclose(est.coupling_.sum(axis=1), ws / ws.sum(), atol=1e-9)
    np.testing.assert_allclose(est.coupling_.sum(axis=0), wt / wt.sum(), atol=1e-9)


def test_zero_weight_samples_get_zero_rows_and_a_finite_map(shifted):
    Xs, Xt = shifted
    ws = np.ones(len(Xs))
    ws[:5] = 0.0
    est = SinkhornTransport(norm="max", reg_e=2e-2).fit(Xs, Xt=Xt, sample_weight=ws)
    assert np.all(est.coupling_[:5] == 0.0)
    assert np.all(np.isneginf(est.f_[:5]))
    out = est.transform(Xs)
    assert np.all(np.isfinite(out))
    # removing the zero-weight samples gives the same map
    est2 = SinkhornTransport(norm="max", reg_e=2e-2).fit(Xs[5:], Xt=Xt)
    np.testing.assert_allclose(out[5:], est2.transform(Xs[5:]), atol=1e-8)


def test_float32_in_float32_out(shifted):
    Xs, Xt = shifted
    est = SinkhornTransport(norm="max", reg_e=2e-2).fit(Xs.astype(np.float32),
                                                        Xt=Xt.astype(np.float32))
    out = est.transform(Xs.astype(np.float32))
    assert out.dtype == np.float32
    ref = SinkhornTransport(norm="max", reg_e=2e-2).fit(Xs, Xt=Xt).transform(Xs)
    np.testing.assert_allclose(out, ref, rtol=1e-4, atol=1e-4)


def test_pipeline_domain_adaptation():
    rng = np.random.default_rng(0)
    n = 150

    def sample(n):
        y = rng.integers(0, 2, size=n)
        return rng.normal(size=(n, 2)) * 0.4 + np.where(y[:, None] == 1, 1.5, -1.5) * [1, 0], y

    Xs, ys = sample(n)
    Xt, yt = sample(n)
    Xt = Xt + np.array([3.0, 0.0])  # target domain: class 0 sits where class 1 was
    plain = KNeighborsClassifier(1).fit(Xs, ys)
    pipe = make_pipeline(SinkhornTransport(norm="max", reg_e=1e-3), KNeighborsClassifier(1))
    pipe.fit(Xs, ys, sinkhorntransport__Xt=Xt)
    acc_plain = (plain.predict(Xt) == yt).mean()
    acc_ot = (pipe[-1].predict(Xt) == yt).mean()
    assert acc_plain < 0.7
    assert acc_ot > 0.95


def test_without_target_transports_onto_itself(shifted):
    Xs, _ = shifted
    est = SinkhornTransport(norm="max", reg_e=1e-3).fit(Xs)
    assert np.abs(est.transform(Xs) - Xs).mean() < 0.02


@pytest.mark.parametrize("params, match", [
    (dict(reg_e=0.0), "reg_e"),
    (dict(reg_e=-1.0), "reg_e"),
    (dict(solver="emd"), "solver"),
    (dict(metric="nope"), "metric"),
    (dict(norm="mean"), "norm"),
    (dict(max_iter=0), "max_iter"),
])
def test_bad_parameters_are_named(shifted, params, match):
    Xs, Xt = shifted
    with pytest.raises(ValueError, match=match):
        SinkhornTransport(**params).fit(Xs, Xt=Xt)


def test_bad_inputs(shifted):
    Xs, Xt = shifted
    with pytest.raises(ValueError, match="features"):
        SinkhornTransport().fit(Xs, Xt=np.ones((5, 3)))
    bad = Xt.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN|infinity"):
        SinkhornTransport().fit(Xs, Xt=bad)
    with pytest.raises(ValueError, match="sample_weight"):
        SinkhornTransport().fit(Xs, Xt=Xt, sample_weight=-np.ones(len(Xs)))
    with pytest.raises(ValueError, match="target_weight"):
        SinkhornTransport().fit(Xs, Xt=Xt, target_weight=np.zeros(len(Xt)))


def test_pot_keywords_and_attributes(shifted):
    Xs, Xt = shifted
    est = SinkhornTransport(reg_e=0.05, norm="max").fit(Xs=Xs, Xt=Xt)
    np.testing.assert_array_equal(est.transform(Xs=Xs[:5]), est.transform(Xs[:5]))
    np.testing.assert_array_equal(est.inverse_transform(Xt=Xt[:5]),
                                  est.inverse_transform(Xt[:5]))
    np.testing.assert_allclose(SinkhornTransport(reg_e=0.05, norm="max").fit_transform(
        Xs=Xs, Xt=Xt), est.transform(Xs), rtol=1e-12)
    assert est.cost_.shape == est.coupling_.shape == (len(Xs), len(Xt))
    np.testing.assert_allclose(est.cost_, cost_matrix(Xs, Xt, normalize="max"), rtol=1e-12)
    log = est.log_
    assert log["niter"] == est.n_iter_ and log["err"][-1] == est.marginal_error_
    P = np.exp(log["log_u"][:, None] - est.cost_ / 0.05 + log["log_v"][None, :])
    np.testing.assert_allclose(P, est.coupling_, rtol=1e-10, atol=1e-300)
    np.testing.assert_allclose(est.mu_s_, np.full(len(Xs), 1 / len(Xs)))
    with pytest.raises(TypeError, match="twice"):
        est.transform(Xs, Xs=Xs)
    with pytest.raises(TypeError, match="not both"):
        SinkhornTransport().fit(Xs, np.zeros(len(Xs)), ys=np.zeros(len(Xs)), Xt=Xt)


def test_ferradans_map_and_labels(shifted):
    Xs, Xt = shifted
    est = SinkhornTransport(reg_e=0.01, norm="max", out_of_sample_map="ferradans")
    est.fit(Xs, Xt=Xt)
    P = est.coupling_
    bary = P @ Xt / P.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(est.transform(Xs), bary, rtol=1e-12)
    new = Xs[:3] + 1e-3  # nearest fitted samples are themselves
    np.testing.assert_allclose(est.transform(new), bary[:3] + 1e-3, rtol=1e-10)
    ys = (Xs[:, 0] > 0).astype(int)
    soft = est.transform_labels(ys)
    assert soft.shape == (len(Xt), 2)
    np.testing.assert_allclose(soft.sum(axis=1), 1.0)
    back = est.inverse_transform_labels(ys)  # Xt is Xs shifted: its labels are ys
    np.testing.assert_allclose(back.sum(axis=1), 1.0)
    assert np.mean(back.argmax(axis=1) == ys) > 0.95


def test_distribution_estimation_and_label_cost(shifted):
    Xs, Xt = shifted

    def weights(X):
        return 1.0 + (X[:, 0] > X[:, 0].mean())

    est = SinkhornTransport(reg_e=0.05, norm="max", distribution_estimation=weights)
    est.fit(Xs, Xt=Xt)
    np.testing.assert_allclose(est.mu_s_, weights(Xs) / weights(Xs).sum())
    np.testing.assert_allclose(est.coupling_.sum(axis=0), est.mu_t_, atol=1e-8)
    ys = (Xs[:, 0] > 0).astype(int)
    yt = np.where(np.arange(len(Xt)) % 2, ys, -1)
    lab = SinkhornTransport(reg_e=0.05, norm="max", limit_max=5).fit(Xs, ys, Xt=Xt, yt=yt)
    wrong = (ys[:, None] != yt[None, :]) & (yt[None, :] != -1)
    assert np.all(lab.cost_[wrong] >= 5.0) and np.all(lab.cost_[~wrong] <= 1.0)
    hard = SinkhornTransport(reg_e=0.05, norm="max").fit(Xs, ys=ys, Xt=Xt, yt=yt)
    assert hard.coupling_[wrong].sum() < 1e-12


def test_verbose_shows_progress(shifted, capsys, monkeypatch):
    import sparsopt._core.progress as prog

    init = prog.Progress.__init__

    def plain(self, *args, **kwargs):
        kwargs.update(use_tqdm=False, min_interval=0.0)
        init(self, *args, **kwargs)

    monkeypatch.setattr(prog.Progress, "__init__", plain)
    Xs, Xt = shifted
    SinkhornTransport(reg_e=0.01, norm="max", verbose=1).fit(Xs, Xt=Xt)
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines and lines[-1].startswith("SinkhornTransport: ") and "err=" in lines[-1]
