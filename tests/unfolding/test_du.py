"""DU-ISTA / DU-IHT models: forward semantics, projection, and the hand-derived gradients
against central finite differences (the spec's T4a setting for the DU models)."""

import numpy as np
import pytest

from sparsopt.unfolding import DUIHT, DUISTA, loss_and_grad, nmse_db, objective


def _problem(dtype=np.float64, seed=0, m=20, n=40, B=7):
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((m, n)) / np.sqrt(m)
    X = rng.standard_normal((B, n)) * (rng.random((B, n)) < 0.2)
    Y = X @ A.T + 0.01 * rng.standard_normal((B, m))
    return A.astype(dtype), Y.astype(dtype), X.astype(dtype)


def _perturbed(model, A, T=5, seed=1):
    rng = np.random.default_rng(seed)
    p = model.init_params(A, T, dtype=np.float64)
    key = model._step_key()
    p[key] = p[key] + 0.3 * rng.random(T)
    if "theta" in p:
        p["theta"] = 0.05 * (1 + rng.random(p["theta"].shape))
    return p


def _fd_errors(model, loss, lam=0.05):
    A, Y, X = _problem()
    p = _perturbed(model, A)

    def f(q):
        xs, cache = model.forward(q, A, Y, cache=True)
        v, G = loss_and_grad(loss, model, xs[-1], A, Y, X, lam)
        return v, cache, G

    _, cache, G = f(p)
    grads = model.backward(p, A, Y, cache, G)
    assert set(grads) == set(p)
    errs = {}
    for k in p:
        assert grads[k].shape == p[k].shape
        if k == "L":
            assert not np.any(grads[k])
            continue
        num = np.zeros_like(p[k])
        for i in np.ndindex(p[k].shape):
            q = {kk: vv.copy() for kk, vv in p.items()}
            q[k][i] += 1e-7
            a = f(q)[0]
            q[k][i] -= 2e-7
            num[i] = (a - f(q)[0]) / 2e-7
        errs[k] = np.abs(num - grads[k]).max() / np.abs(num).max()
    return errs


@pytest.mark.parametrize("thresholds", ["tied", "layer", "coordinate"])
@pytest.mark.parametrize("step_param", ["linear", "log"])
@pytest.mark.parametrize("loss", ["supervised", "unsupervised"])
def test_du_ista_gradients_match_finite_differences(thresholds, step_param, loss):
    errs = _fd_errors(DUISTA(0.05, thresholds=thresholds, step_param=step_param), loss)
    assert max(errs.values()) < 1e-6, errs


@pytest.mark.parametrize("gradient", ["mask", "surrogate"])
@pytest.mark.parametrize("loss", ["supervised", "unsupervised"])
def test_du_iht_gradients_match_finite_differences(gradient, loss):
    delta = 0.01 if gradient == "surrogate" else None
    errs = _fd_errors(DUIHT(0.05, gradient=gradient, l0_delta=delta), loss)
    assert max(errs.values()) < 1e-6, errs


@pytest.mark.parametrize("progress", [0.0, 0.5, 1.0])
@pytest.mark.parametrize("loss", ["supervised", "unsupervised"])
def test_annealed_surrogate_gradients_match_finite_differences(progress, loss):
    """The annealed surrogate's gradient at the temperature of ``progress`` (0.5 -> 0.1
    -> 0.02 of the threshold): the backward pass reads the temperature from the cache."""
    model = DUIHT(0.05, gradient="surrogate", temperature=0.5, temperature_final=0.02,
                  l0_delta=0.01)
    assert model.anneals
    assert model.surrogate_temperature(progress) == pytest.approx(0.5 * 0.04 ** progress)
    A, Y, X = _problem()
    p = _perturbed(model, A)

    def f(q):
        xs, cache = model.forward(q, A, Y, cache=True, progress=progress)
        v, G = loss_and_grad(loss, model, xs[-1], A, Y, X, 0.05)
        return v, cache, G

    _, cache, G = f(p)
    grad = model.backward(p, A, Y, cache, G)["c"]
    num = np.zeros_like(p["c"])
    for i in range(p["c"].size):
        q = {k: v.copy() for k, v in p.items()}
        q["c"][i] += 1e-7
        a = f(q)[0]
        q["c"][i] -= 2e-7
        num[i] = (a - f(q)[0]) / 2e-7
    assert np.abs(num - grad).max() < 1e-5 * np.abs(num).max()


def test_annealed_surrogate_sharpens_towards_the_hard_threshold():
    A, Y, _ = _problem()
    model = DUIHT(0.05, gradient="surrogate", temperature=1.0, temperature_final=1e-4)
    p = model.init_params(A, 3)
    exact = model.forward(p, A, Y)[0][-1]
    gaps = [np.abs(model.forward(p, A, Y, cache=True, progress=q)[0][-1] - exact).max()
            for q in (0.0, 0.5, 1.0)]
    assert gaps[0] > gaps[1] > gaps[2] and gaps[2] < 1e-2 * gaps[0]
    # without temperature_final the temperature is fixed, whatever the progress
    fixed = DUIHT(0.05, gradient="surrogate", temperature=0.3)
    assert not fixed.anneals and fixed.surrogate_temperature(0.7) == 0.3
    assert not DUIHT(0.05, temperature=0.3, temperature_final=0.01).anneals  # mask
    with pytest.raises(ValueError, match="temperature_final"):
        DUIHT(0.05, gradient="surrogate", temperature_final=0.0)
    with pytest.raises(ValueError, match="anneal"):
        DUIHT(0.05, gradient="surrogate", anneal="epoch")


@pytest.mark.parametrize("Model", [DUISTA, DUIHT])
@pytest.mark.parametrize("step_param", ["linear", "log"])
def test_operator_step_scale_gradients(Model, step_param):
    model = Model(0.05, step_param=step_param, step_scale="operator")
    errs = _fd_errors(model, "unsupervised")
    assert max(errs.values()) < 1e-6, errs
    # the steps follow each operator's Lipschitz constant
    A, Y, _ = _problem()
    p = model.init_params(A, 2)
    xs2 = model.forward(p, 2 * A, 2 * Y, n_layers=1)[0][1]
    L2 = np.linalg.norm(2 * A, 2) ** 2
    assert model._steps_for(p, model._operator_L(2 * A))[0] == pytest.approx(1 / L2)
    assert np.all(np.isfinite(xs2))


def test_straight_through_ignores_the_mask():
    A, Y, X = _problem()
    model = DUIHT(0.05, gradient="straight_through")
    p = model.init_params(A, 3)
    xs, cache = model.forward(p, A, Y, cache=True)
    G = np.ones_like(xs[-1])
    g_st = model.backward(p, A, Y, cache, G)["c"]
    g_mask = DUIHT(0.05).backward(p, A, Y, cache, G)["c"]
    assert not np.allclose(g_st, g_mask)


def test_ista_layers_are_prox_gradient_steps():
    A, Y, _ = _problem()
    lam = 0.05
    model = DUISTA(lam)
    p = model.init_params(A, 4)
    xs, cache = model.forward(p, A, Y)
    assert cache is None and len(xs) == 5 and not np.any(xs[0])
    L = np.linalg.norm(A, 2) ** 2
    X = np.zeros_like(xs[0])
    for t in range(4):  # ISTA with step 1/L, written with the transposed product
        R = X + (A.T @ (Y.T - A @ X.T)).T / L
        X = np.sign(R) * np.maximum(np.abs(R) - lam / L, 0)
        np.testing.assert_allclose(xs[t + 1], X, atol=1e-12)
    # the objective decreases along the layers (ISTA with 1/L is a descent method)
    F = [objective("l1", x, A, Y, lam) for x in xs]
    assert all(b <= a + 1e-12 for a, b in zip(F, F[1:]))


def test_iht_threshold_is_the_l0_prox():
    A, Y, _ = _problem()
    lam = 0.02
    model = DUIHT(lam)
    p = model.init_params(A, 2)
    alpha = model.steps(p)
    np.testing.assert_allclose(model.thresholds(p), np.sqrt(2 * lam * alpha))
    xs, _ = model.forward(p, A, Y)
    R = alpha[0] * (Y @ A)
    tau = np.sqrt(2 * lam * alpha[0])
    np.testing.assert_array_equal(xs[1], np.where(np.abs(R) > tau, R, 0))


def test_surrogate_is_used_in_training_only():
    A, Y, _ = _problem()
    model = DUIHT(0.05, gradient="surrogate")
    p = model.init_params(A, 3)
    exact, _ = model.forward(p, A, Y)
    smooth, _ = model.forward(p, A, Y, cache=True)
    assert not np.allclose(exact[-1], smooth[-1])
    np.testing.assert_array_equal(exact[-1], model.forward(p, A, Y, smooth=False)[0][-1])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("Model", [DUISTA, DUIHT])
def test_dtype_is_preserved(Model, dtype):
    A, Y, X = _problem(dtype)
    model = Model(0.05)
    p = model.init_params(A, 3, dtype=dtype)
    xs, cache = model.forward(p, A, Y, cache=True)
    assert all(x.dtype == dtype for x in xs)
    _, G = loss_and_grad("unsupervised", model, xs[-1], A, Y, X, 0.05)
    grads = model.backward(p, A, Y, cache, G)
    assert all(g.dtype == dtype for g in grads.values())


def test_project_clamps_and_caps():
    A, _, _ = _problem()
    model = DUISTA(0.1, thresholds="layer", max_step=5.0)
    p = model.init_params(A, 3)
    p["c"][:] = [-1.0, 2.0, 50.0]
    p["theta"][:] = [-0.1, 0.2, 0.3]
    model.project(p)
    np.testing.assert_array_equal(p["c"], [0.0, 2.0, 5.0])
    assert p["theta"].min() == 0
    log_model = DUIHT(0.1, step_param="log", max_step=5.0)
    q = log_model.init_params(A, 2)
    q["log_c"][:] = 10.0
    log_model.project(q)
    np.testing.assert_allclose(log_model.steps(q) * q["L"], 5.0)


def test_losses_conventions():
    A, Y, X = _problem()
    model = DUISTA(0.3)
    Z = np.zeros_like(X)
    v, G = loss_and_grad("supervised", model, Z, A, Y, X, 0.3)
    assert v == pytest.approx(np.mean(X ** 2))
    np.testing.assert_allclose(G, -2 * X / X.size)
    # unsupervised l1: sign(0) = 0, so at x = 0 the gradient is the data term only
    v, G = loss_and_grad("unsupervised", model, Z, A, Y, None, 0.3)
    assert v == pytest.approx(0.5 * np.sum(Y ** 2) / len(Y))
    np.testing.assert_allclose(G, -(Y @ A) / len(Y))
    # unsupervised l0: the penalty counts in the value, not in the gradient
    iht = DUIHT(0.3)
    v0, G0 = loss_and_grad("unsupervised", iht, X, A, Y, None, 0.3)
    v1, G1 = loss_and_grad("unsupervised", model, X, A, Y, None, 0.0)
    assert v0 == pytest.approx(v1 + 0.3 * np.count_nonzero(X) / len(X))
    np.testing.assert_allclose(G0, G1)
    with pytest.raises(ValueError, match="X_true"):
        loss_and_grad("supervised", model, Z, A, Y, None, 0.3)
    with pytest.raises(ValueError, match="loss"):
        loss_and_grad("mse", model, Z, A, Y, X, 0.3)


def test_nmse_db_sums_before_the_log():
    X = np.array([[1.0, 0.0], [0.0, 3.0]])
    est = np.array([[0.0, 0.0], [0.0, 3.0]])
    assert nmse_db(est, X) == pytest.approx(10 * np.log10(1 / 10))
    np.testing.assert_allclose(nmse_db([np.zeros_like(X), X * 0.9], X),
                               [0.0, 10 * np.log10(0.01)])


def test_bad_model_arguments():
    A, Y, _ = _problem()
    with pytest.raises(ValueError, match="thresholds"):
        DUISTA(0.1, thresholds="free")
    with pytest.raises(ValueError, match="gradient"):
        DUIHT(0.1, gradient="exact")
    with pytest.raises(ValueError, match="lam"):
        DUISTA(-1.0)
    with pytest.raises(ValueError, match="n_layers"):
        DUISTA(0.1).init_params(A, 0)
    p = DUISTA(0.1).init_params(A, 2)
    with pytest.raises(ValueError, match="n_layers"):
        DUISTA(0.1).forward(p, A, Y, n_layers=3)


def test_lipschitz_memo_follows_the_contents():
    """``||A||^2`` is memoised on the operator's bytes: an in-place change is seen."""
    from sparsopt.unfolding._du import _lipschitz

    A, _, _ = _problem()
    A = A.copy()
    assert _lipschitz(A) == pytest.approx(np.linalg.norm(A, 2) ** 2, rel=1e-14)
    A *= 2
    assert _lipschitz(A) == pytest.approx(np.linalg.norm(A, 2) ** 2, rel=1e-14)
    assert _lipschitz(A.astype(np.float32)) == pytest.approx(_lipschitz(A), rel=1e-6)
