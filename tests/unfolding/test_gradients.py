"""T4a: the hand-derived gradients of every unfolded model against central finite differences.

Spec ``unfolding.md`` 4(d): m = 20, n = 40, B = 7, T = 5, A ~ N(0, 1/m), λ = 0.05, ε = 1e-7 in
float64. Each check is a directional derivative along a random direction ``D`` per
parameter array (random magnitudes, signs of the analytic gradient, so that the relative
error is not swamped by round-off from cancellation in the sum):
``(L(p + εD) − L(p − εD)) / 2ε`` against ``<∂L/∂p, D>``. Points near a kink are avoided
by re-drawing ``D`` until the support of every layer output (and every boolean mask the
model caches, e.g. the support-selection bypass set) is the same at ``p ± εD`` as at
``p``. Tolerances: relative error < 1e-6 for DU-ISTA / DU-IHT, 4 significant digits
(1e-4) for the LISTA family.

The DU models live in ``sparsopt.unfolding._du``. The losses come from
``sparsopt.unfolding._losses.loss_and_grad``, itself checked against a local
re-statement of the spec's formulas below.
"""

import importlib

import numpy as np
import pytest

from sparsopt.unfolding._lista import VARIANTS, LIHTModel, LISTAModel, alista_weight

_du = importlib.import_module("sparsopt.unfolding._du")
_losses = importlib.import_module("sparsopt.unfolding._losses")

M, N, NB, T, LAM = 20, 40, 7, 5, 0.05
EPS = 1e-7
LOSSES = ("supervised", "unsupervised")


def _local_loss_and_grad(loss, model, xT, A, Y, X_true, lam):
    """The spec's losses and terminal gradients (rows are samples)."""
    nb, n = xT.shape
    if loss == "supervised":
        diff = xT - X_true
        return float(np.sum(diff**2) / (nb * n)), 2 * diff / (nb * n)
    resid = Y - xT @ A.T
    if model.objective_penalty == "l1":
        value = 0.5 * np.sum(resid**2) + lam * np.sum(np.abs(xT))
        G = -resid @ A + lam * np.sign(xT)
    else:
        value = 0.5 * np.sum(resid**2) + lam * np.count_nonzero(xT)
        G = -resid @ A
    return float(value / nb), G / nb


def _loss_and_grad(loss, model, xT, A, Y, X_true, lam):
    return _losses.loss_and_grad(loss, model, xT, A, Y, X_true, lam)


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("model", [LISTAModel("cp", lam=LAM), LIHTModel(LAM)],
                         ids=["l1", "l0"])
def test_library_losses_equal_the_spec_restatement(loss, model):
    """``_losses.loss_and_grad`` (value and terminal gradient ``G_T``) equals the spec's
    formulas written out above, for both penalties (sign(0) = 0; no l0 gradient)."""
    rng, A, Y, X = _problem(seed=3)
    xT = X + 0.1 * rng.standard_normal(X.shape) * (rng.random(X.shape) < 0.5)
    v, G = _losses.loss_and_grad(loss, model, xT, A, Y, X, LAM)
    v_ref, G_ref = _local_loss_and_grad(loss, model, xT, A, Y, X, LAM)
    np.testing.assert_allclose(v, v_ref, rtol=1e-12)
    np.testing.assert_allclose(G, G_ref, rtol=1e-12, atol=1e-15)


def _problem(seed=0, m=M, n=N, nb=NB):
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((m, n)) / np.sqrt(m)
    X = rng.standard_normal((nb, n)) * (rng.random((nb, n)) < 0.15)
    Y = X @ A.T + 0.01 * rng.standard_normal((nb, m))
    return rng, A, Y, X


def _signature(model, params, A, Y):
    """Supports of every layer output and every boolean array the model caches."""
    xs, cache = model.forward(params, A, Y, cache=True)
    sig = [x != 0 for x in xs]
    if isinstance(cache, dict):
        sig += [v for v in cache.values() if isinstance(v, np.ndarray) and v.dtype == bool]
    return sig


def _same(s1, s2):
    return len(s1) == len(s2) and all(np.array_equal(a, b) for a, b in zip(s1, s2))


def _value(model, params, A, Y, X, loss, lam):
    # the training forward pass (cache=True), the one ``backward`` differentiates (it
    # differs from inference for DU-IHT's smooth surrogate)
    xs, _ = model.forward(params, A, Y, cache=True)
    return _loss_and_grad(loss, model, xs[-1], A, Y, X, lam)[0]


def _fd_check(model, params, A, Y, X, loss, lam, rng, rtol, skip=()):
    """Directional FD vs analytic gradient for every parameter array; returns the worst
    relative error (asserting on each)."""
    xs, cache = model.forward(params, A, Y, cache=True)
    _, G_T = _loss_and_grad(loss, model, xs[-1], A, Y, X, lam)
    grads = model.backward(params, A, Y, cache, G_T)
    assert set(grads) == set(params)
    base = _signature(model, params, A, Y)
    worst = 0.0
    for key in params:
        assert grads[key].shape == params[key].shape, key
        if key in skip:  # non-trainable entries: their gradient is zero by contract
            assert not np.any(grads[key]), key
            continue
        for _ in range(20):
            # a direction without cancellation in <g, D> (the sign of the analytic
            # gradient, random magnitudes; random signs where it vanishes), so that the
            # relative error is not inflated by the FD round-off
            g = grads[key]
            D = np.where(g != 0, np.sign(g), rng.choice([-1.0, 1.0], size=g.shape))
            D = D * rng.uniform(0.5, 1.5, size=g.shape)
            plus = {**params, key: params[key] + EPS * D}
            minus = {**params, key: params[key] - EPS * D}
            if _same(_signature(model, plus, A, Y), base) and _same(
                    _signature(model, minus, A, Y), base):
                break
        else:
            pytest.fail(f"{key}: every direction crosses a kink")
        fd = (_value(model, plus, A, Y, X, loss, lam)
              - _value(model, minus, A, Y, X, loss, lam)) / (2 * EPS)
        an = float(np.vdot(grads[key], D))
        scale = max(abs(fd), abs(an))
        if scale < 1e-10:  # both vanish (e.g. a threshold inside a fixed mask)
            continue
        err = abs(fd - an) / scale
        worst = max(worst, err)
        assert err < rtol, (model.name, key, loss, fd, an, err)
    return worst


def _jitter(params, rng, frozen=()):
    """Moves every trainable array off its symmetric initialisation (relative 10 %)."""
    out = {}
    for k, v in params.items():
        if k in frozen:
            out[k] = v.copy()
        else:
            out[k] = v + 0.1 * np.abs(v).mean() * rng.standard_normal(v.shape)
    return out


# -- the LISTA family -------------------------------------------------------------------

@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("variant", VARIANTS)
def test_lista_gradients_match_finite_differences(variant, loss):
    rng, A, Y, X = _problem(1)
    # a larger support-selection schedule than the default, so that T = 5 layers
    # really bypass entries (n = 40: p_t = 10, 20, 30 % ...)
    model = LISTAModel(variant, lam=LAM, p=10.0, p_max=30.0)
    params = _jitter(model.init_params(A, T, lam=LAM, dtype=np.float64), rng, model.frozen)
    model.project(params)
    _fd_check(model, params, A, Y, X, loss, LAM, rng, rtol=1e-4, skip=model.frozen)
    if variant in ("cpss", "tilista", "alista"):  # the bypass set is not empty
        _, cache = model.forward(params, A, Y, cache=True)
        assert np.any(cache["masks"] & ~cache["soft"])


def test_alista_weight_is_frozen():
    _, A, Y, X = _problem(2)
    model = LISTAModel("alista", lam=LAM)
    params = model.init_params(A, T, lam=LAM, dtype=np.float64)
    xs, cache = model.forward(params, A, Y, cache=True)
    grads = model.backward(params, A, Y, cache, xs[-1] - X)
    assert model.frozen == ("W",)
    assert not np.any(grads["W"])
    assert np.any(grads["alpha"]) and np.any(grads["theta"])


@pytest.mark.parametrize("loss", LOSSES)
def test_liht_gradients_match_finite_differences(loss):
    rng, A, Y, X = _problem(3)
    A = A / np.linalg.norm(A, 2)  # ||A||_2 = 1: the unscaled W = I - A^T A is stable
    model = LIHTModel(lam=0.01)
    params = _jitter(model.init_params(A, T, lam=0.01, dtype=np.float64), rng)
    _fd_check(model, params, A, Y, X, loss, 0.01, rng, rtol=1e-4)
    xs, cache = model.forward(params, A, Y, cache=True)
    grads = model.backward(params, A, Y, cache, np.ones_like(xs[-1]))
    assert not np.any(grads["theta"])  # a.e. derivative of the hard threshold


@pytest.mark.parametrize("variant", VARIANTS)
def test_lista_truncated_backward_zero_beyond_n_layers(variant):
    rng, A, Y, X = _problem(4)
    model = LISTAModel(variant, lam=LAM)
    params = _jitter(model.init_params(A, T, lam=LAM, dtype=np.float64), rng, model.frozen)
    xs, cache = model.forward(params, A, Y, n_layers=3, cache=True)
    assert len(xs) == 4
    grads = model.backward(params, A, Y, cache, xs[-1] - X)
    for key in ("theta", "alpha"):
        if key in grads:
            assert not np.any(grads[key][3:])
    if variant in ("untied", "cp", "cpss"):
        assert not np.any(grads["W"][3:])
    # the truncated pass is the full pass cut short
    xs_full, _ = model.forward(params, A, Y)
    np.testing.assert_array_equal(xs[3], xs_full[3])


@pytest.mark.parametrize("model", [LISTAModel(v, lam=LAM) for v in VARIANTS]
                         + [LIHTModel(lam=LAM)], ids=lambda m: getattr(m, "variant", m.name))
def test_float32_stays_float32(model):
    _, A, Y, X = _problem(5)
    A32, Y32 = A.astype(np.float32), Y.astype(np.float32)
    params = model.init_params(A32, T, lam=LAM, dtype=np.float32)
    assert all(v.dtype == np.float32 for v in params.values())
    xs, cache = model.forward(params, A32, Y32, cache=True)
    assert all(x.dtype == np.float32 for x in xs)
    grads = model.backward(params, A32, Y32, cache, (xs[-1] - X).astype(np.float32))
    assert all(g.dtype == np.float32 for g in grads.values())
    p64 = model.init_params(A, T, lam=LAM, dtype=np.float64)
    xs64, _ = model.forward(p64, A, Y)
    np.testing.assert_allclose(xs[-1], xs64[-1], rtol=1e-3, atol=1e-4)


def test_lista_initialisation_is_ista():
    """At initialisation untied/tied LISTA and LISTA-CP are ISTA with step 1/L~."""
    _, A, Y, _ = _problem(6)
    L = 1.001 * np.linalg.norm(A, 2) ** 2
    x = np.zeros((Y.shape[0], A.shape[1]))
    ista = [x]
    for _ in range(T):
        r = x + (Y - x @ A.T) @ A / L
        x = np.sign(r) * np.maximum(np.abs(r) - LAM / L, 0)
        ista.append(x)
    for variant in ("untied", "tied", "cp"):
        model = LISTAModel(variant, lam=LAM)
        xs, _ = model.forward(model.init_params(A, T, lam=LAM, dtype=np.float64), A, Y)
        np.testing.assert_allclose(xs[-1], ista[-1], rtol=1e-10, atol=1e-12)


def test_support_selection_schedule():
    """p_t = min((t + 1) p, p_max): with p = 1.2 % and n = 500, layer t bypasses at most
    floor(5 (t + 1) ... ) entries per row, growing then capped at 13 %."""
    rng = np.random.default_rng(7)
    m, n = 50, 500
    A = rng.standard_normal((m, n)) / np.sqrt(m)
    Y = rng.standard_normal((3, m))
    model = LISTAModel("cpss", lam=1e-4)
    params = model.init_params(A, 16, lam=1e-4, dtype=np.float64)
    _, cache = model.forward(params, A, Y, cache=True)
    bypassed = (cache["masks"] & ~cache["soft"]).sum(axis=2).max(axis=1)
    caps = [int(np.floor(n * min((t + 1) * 1.2, 13.0) / 100)) for t in range(16)]
    assert np.all(bypassed <= caps)
    assert bypassed[-1] == caps[-1] == 65  # tiny threshold: the whole quota bypasses


def test_bad_parameters():
    with pytest.raises(ValueError, match="variant"):
        LISTAModel("lista")
    with pytest.raises(ValueError, match="lam"):
        LISTAModel("cp", lam=-1.0)
    with pytest.raises(ValueError, match="n_layers"):
        LISTAModel("cp").init_params(np.eye(3), 0, dtype=np.float64)
    with pytest.raises(ValueError, match="lam"):
        LIHTModel(lam=np.nan)


# -- ALISTA's analytic weight ---------------------------------------------------------------

def test_alista_weight_solves_its_problem():
    rng = np.random.default_rng(8)
    A = rng.standard_normal((15, 30))
    W = alista_weight(A)
    np.testing.assert_allclose(np.diag(W.T @ A), 1.0, atol=1e-10)
    f = np.sum((W.T @ A) ** 2)
    # any feasible perturbation (keeping diag(W^T A) = 1) does not decrease the objective
    for _ in range(10):
        E = rng.standard_normal(W.shape)
        E -= A * (np.einsum("ij,ij->j", E, A) / np.einsum("ij,ij->j", A, A))
        np.testing.assert_allclose(np.diag((W + 1e-3 * E).T @ A), 1.0, atol=1e-10)
        assert np.sum(((W + 1e-3 * E).T @ A) ** 2) >= f - 1e-9
    # KKT: every column of W lies in the span of (A A^T)^{-1} a_i
    G = A @ A.T
    P = np.linalg.solve(G, A)
    np.testing.assert_allclose(W * np.einsum("ij,ij->j", A, P), P, rtol=1e-8, atol=1e-10)
    assert alista_weight(A.astype(np.float32)).dtype == np.float32


def test_alista_weight_rank_deficient_and_bad_input():
    rng = np.random.default_rng(9)
    A = rng.standard_normal((10, 3)) @ rng.standard_normal((3, 12))  # rank 3
    W = alista_weight(A)
    np.testing.assert_allclose(np.diag(W.T @ A), 1.0, atol=1e-8)
    A[:, 4] = 0
    with pytest.raises(ValueError, match="zero"):
        alista_weight(A)
    with pytest.raises(ValueError, match="2-D"):
        alista_weight(np.ones(3))
    with pytest.raises(ValueError, match="finite"):
        alista_weight(np.array([[1.0, np.nan]]))


# -- DU-ISTA / DU-IHT (the other half of the family) -------------------------------------

def _du_frozen(model):
    """The DU models keep the operator's ``L`` as a non-trainable ``params["L"]``."""
    return ("L", *getattr(model, "frozen", ()))


def _du_params(model, A, rng):
    params = model.init_params(A, T, lam=LAM, dtype=np.float64)
    params = _jitter(params, rng, _du_frozen(model))
    model.project(params)
    return params


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("step_param", ["linear", "log"])
@pytest.mark.parametrize("thresholds", ["tied", "layer", "coordinate"])
def test_du_ista_gradients_match_finite_differences(thresholds, step_param, loss):
    rng, A, Y, X = _problem(10)
    model = _du.DUISTA(LAM, thresholds=thresholds, step_param=step_param)
    params = _du_params(model, A, rng)
    _fd_check(model, params, A, Y, X, loss, LAM, rng, rtol=1e-6, skip=_du_frozen(model))


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("gradient", ["mask", "surrogate"])
def test_du_iht_gradients_match_finite_differences(gradient, loss):
    """The fixed-mask gradient is exact away from the kinks; the smooth surrogate is
    differentiable everywhere (its forward pass in training is the surrogate)."""
    rng, A, Y, X = _problem(11)
    model = _du.DUIHT(LAM, gradient=gradient)
    params = _du_params(model, A, rng)
    _fd_check(model, params, A, Y, X, loss, LAM, rng, rtol=1e-6, skip=_du_frozen(model))


def test_du_iht_straight_through_is_the_unmasked_gradient():
    """Straight-through is not a true gradient; its defining property: the backward pass
    treats ``∂H/∂r`` as 1. With one layer (``x_0 = 0``, so ``r_0 = α_0 Aᵀy`` does not
    depend on the threshold) its gradient is the same whatever the mask (λ huge: nothing
    passes; λ tiny: everything passes), and equals the fixed-mask gradient where every
    entry passes."""
    rng, A, Y, X = _problem(12)
    st_big = _du.DUIHT(1e6, gradient="straight_through")
    st_tiny = _du.DUIHT(1e-12, gradient="straight_through")
    mask_tiny = _du.DUIHT(1e-12, gradient="mask")
    mask_big = _du.DUIHT(1e6, gradient="mask")
    params = st_tiny.init_params(A, 1, lam=1e-12, dtype=np.float64)
    G_T = rng.standard_normal((Y.shape[0], A.shape[1]))
    out = {}
    for key, model in [("st_big", st_big), ("st_tiny", st_tiny), ("mask_tiny", mask_tiny),
                       ("mask_big", mask_big)]:
        xs, cache = model.forward(params, A, Y, cache=True)
        out[key] = model.backward(params, A, Y, cache, G_T)
    for k in params:
        np.testing.assert_allclose(out["st_big"][k], out["st_tiny"][k], rtol=1e-12, atol=0)
        np.testing.assert_allclose(out["st_tiny"][k], out["mask_tiny"][k], rtol=1e-12, atol=0)
        assert not np.any(out["mask_big"][k])  # the fixed mask is all zero there
    assert any(np.any(out["st_big"][k]) for k in params)


def test_n_layers_out_of_range():
    _, A, Y, _ = _problem(13)
    for model in (LISTAModel("cp", lam=LAM), LIHTModel(lam=LAM)):
        params = model.init_params(A, 3, lam=LAM, dtype=np.float64)
        for bad in (0, 4):
            with pytest.raises(ValueError, match="n_layers"):
                model.forward(params, A, Y, n_layers=bad)


@pytest.mark.parametrize("model", [LISTAModel(v, lam=LAM) for v in VARIANTS]
                         + [LIHTModel(lam=LAM)], ids=lambda m: getattr(m, "variant", m.name))
def test_shared_keys_have_no_layer_axis(model):
    """``shared_keys`` names the parameters without a leading layer axis (n = T here, so a
    shape test alone could not tell them apart)."""
    rng = np.random.default_rng(14)
    A = rng.standard_normal((4, 4))
    params = model.init_params(A, 4, lam=LAM, dtype=np.float64)
    for k, v in params.items():
        per_layer = k not in model.shared_keys
        assert per_layer == (v.ndim >= 1 and k in ("theta", "alpha") or v.ndim == 3), k
