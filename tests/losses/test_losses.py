"""Losses: gradients, sample weights, curvature bounds, targets, stability, parameters."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.base import clone

from sparsopt.losses import Huber, Logistic, Loss, Multinomial, Squared, get_loss

N_CLASSES = 4


def _problem(loss, n=7, seed=0):
    """A target and a prediction of the right shapes and scales for ``loss``."""
    rng = np.random.default_rng(seed)
    if isinstance(loss, Multinomial):
        return rng.integers(0, N_CLASSES, n), 2 * rng.standard_normal((n, N_CLASSES))
    if isinstance(loss, Logistic):
        return rng.choice([-1.0, 1.0], n), 3 * rng.standard_normal(n)
    y = rng.standard_normal(n)
    z = y + 3 * rng.standard_normal(n)
    if isinstance(loss, Huber):  # keep away from the kinks |z - y| = delta
        r = z - y
        near = np.abs(np.abs(r) - loss.delta) < 1e-2
        z[near] += 0.1 * np.sign(r[near])
    return y, z


LOSSES = [Squared(), Logistic(), Multinomial(), Huber(delta=1.0), Huber(delta=0.3)]
IDS = [repr(loss) for loss in LOSSES]


def _num_grad(f, z, h=1e-6):
    g = np.zeros_like(z)
    for idx in np.ndindex(z.shape):
        zp, zm = z.copy(), z.copy()
        zp[idx] += h
        zm[idx] -= h
        g[idx] = (f(zp) - f(zm)) / (2 * h)
    return g


# ----------------------------------------------------------------------------- gradients


@pytest.mark.parametrize("loss", LOSSES, ids=IDS)
@pytest.mark.parametrize("weighted", [False, True])
def test_grad_matches_finite_differences(loss, weighted):
    y, z = _problem(loss)
    sw = np.random.default_rng(1).uniform(0.1, 3.0, len(y)) if weighted else None
    g = loss.grad(y, z, sample_weight=sw)
    assert g.shape == z.shape
    num = _num_grad(lambda zz: loss.value(y, zz, sample_weight=sw), z)
    np.testing.assert_allclose(g, num, rtol=1e-6, atol=1e-7)


def test_squared_and_huber_accept_2d_targets():
    rng = np.random.default_rng(2)
    y, z = rng.standard_normal((2, 5, 3))
    for loss in (Squared(), Huber(delta=0.5)):
        num = _num_grad(lambda zz, loss=loss: loss.value(y, zz), z)
        np.testing.assert_allclose(loss.grad(y, z), num, rtol=1e-6, atol=1e-7)
        sw = rng.uniform(0.5, 2.0, 5)
        np.testing.assert_allclose(loss.value(y, z, sw),
                                   sum(sw[i] * loss.value(y[i:i + 1], z[i:i + 1])
                                       for i in range(5)))
        np.testing.assert_allclose(loss.grad(y, z, sw), sw[:, None] * loss.grad(y, z))


def test_closed_form_values():
    assert Squared().value(np.array([1.0, 2.0]), np.array([0.0, 4.0])) == pytest.approx(2.5)
    n = 6
    y = np.where(np.arange(n) % 2, 1.0, -1.0)
    assert Logistic().value(y, np.zeros(n)) == pytest.approx(n * np.log(2))
    np.testing.assert_allclose(Logistic().grad(y, np.zeros(n)), -y / 2)
    assert Multinomial().value(np.arange(3), np.zeros((3, 5))) == pytest.approx(3 * np.log(5))
    np.testing.assert_allclose(Multinomial().grad(np.array([1]), np.zeros((1, 4))),
                               [[0.25, -0.75, 0.25, 0.25]])
    # Huber: 1/2 r^2 inside, delta (|r| - delta/2) outside
    h = Huber(delta=1.0)
    assert h.value(np.zeros(3), np.array([0.5, -3.0, 1.0])) == pytest.approx(0.125 + 2.5 + 0.5)
    np.testing.assert_allclose(h.grad(np.zeros(3), np.array([0.5, -3.0, 1.0])), [0.5, -1.0, 1.0])
    # continuity at the kink
    d = 0.7
    r = np.array([d - 1e-9, d + 1e-9])
    v = [Huber(delta=d).value(np.zeros(1), r[i:i + 1]) for i in range(2)]
    assert v[0] == pytest.approx(v[1], abs=1e-8)


# ----------------------------------------------------------------------------- sample weights


@pytest.mark.parametrize("loss", LOSSES, ids=IDS)
def test_integer_sample_weight_equals_repeated_samples(loss):
    y, z = _problem(loss, n=6, seed=3)
    w = np.array([1, 0, 3, 2, 1, 4])
    rep = np.repeat(np.arange(len(y)), w)
    assert loss.value(y, z, sample_weight=w) == pytest.approx(loss.value(y[rep], z[rep]),
                                                              rel=1e-12)
    g_rep = loss.grad(y[rep], z[rep])
    summed = np.zeros_like(z)
    np.add.at(summed, rep, g_rep)
    np.testing.assert_allclose(loss.grad(y, z, sample_weight=w), summed, rtol=1e-12,
                               atol=1e-15)
    # unit weights are no weights
    ones = np.ones(len(y))
    assert loss.value(y, z, sample_weight=ones) == pytest.approx(loss.value(y, z), rel=1e-12)
    np.testing.assert_allclose(loss.grad(y, z, sample_weight=ones), loss.grad(y, z))


# ----------------------------------------------------------------------------- curvature


def _second_derivatives(loss, zs, h=1e-5):
    """Second derivative (or Hessian's largest eigenvalue) of one sample's loss."""
    out = []
    if isinstance(loss, Multinomial):
        rng = np.random.default_rng(4)
        for scale in zs:
            for n_classes in (2, 3, 5):
                z = scale * rng.standard_normal((1, n_classes))
                y = np.array([rng.integers(n_classes)])
                jac = np.empty((n_classes, n_classes))
                for j in range(n_classes):
                    zp, zm = z.copy(), z.copy()
                    zp[0, j] += h
                    zm[0, j] -= h
                    jac[:, j] = (loss.grad(y, zp)[0] - loss.grad(y, zm)[0]) / (2 * h)
                out.append(np.linalg.eigvalsh(0.5 * (jac + jac.T)).max())
        # the supremum 1/2 is reached with two equal logits
        z = np.array([[0.0, 0.0, -50.0]])
        p = np.exp(z - np.logaddexp.reduce(z, axis=1))
        out.append(np.linalg.eigvalsh(np.diag(p[0]) - np.outer(p[0], p[0])).max())
        return np.array(out)
    ys = [1.0, -1.0] if isinstance(loss, Logistic) else [0.0, 1.3]
    for y in ys:
        yv = np.full(len(zs), y)
        out.append((loss.grad(yv, zs + h) - loss.grad(yv, zs - h)) / (2 * h))
    return np.concatenate(out)


@pytest.mark.parametrize("loss", LOSSES, ids=IDS)
def test_lipschitz_bounds_the_curvature(loss):
    zs = np.linspace(-20, 20, 4001) + 1e-4  # avoid landing exactly on Huber kinks
    if isinstance(loss, Multinomial):
        zs = np.array([0.0, 0.1, 0.5, 1.0, 2.0, 5.0, 20.0])
    curv = _second_derivatives(loss, zs)
    assert np.all(curv >= -1e-6)
    assert curv.max() <= loss.lipschitz * (1 + 1e-6)
    # and the bound is tight (sup of the curvature)
    assert curv.max() >= 0.98 * loss.lipschitz


def _hessian_wrt_coefs(loss, A, y, x, sample_weight=None):
    """Hessian of ``x -> loss.value(y, A x)`` by finite differences of the gradient."""
    def grad_x(xx):
        z = A @ xx
        return (A.T @ loss.grad(y, z, sample_weight=sample_weight)).ravel()

    n = x.size
    H = np.empty((n, n))
    h = 1e-6
    for j in range(n):
        e = np.zeros(n)
        e[j] = h
        H[:, j] = (grad_x(x + e.reshape(x.shape)) - grad_x(x - e.reshape(x.shape))) / (2 * h)
    return 0.5 * (H + H.T)


@pytest.mark.parametrize("loss", LOSSES, ids=IDS)
@pytest.mark.parametrize("weighted", [False, True])
def test_lipschitz_constant_bounds_the_hessian(loss, weighted):
    rng = np.random.default_rng(5)
    n, p = 12, 4
    A = rng.standard_normal((n, p))
    y, _ = _problem(loss, n=n, seed=6)
    sw = rng.uniform(0.0, 3.0, n) if weighted else None
    L = loss.lipschitz_constant(A, sample_weight=sw)
    Aw = A if sw is None else A * np.sqrt(sw)[:, None]
    norm2 = np.linalg.norm(Aw, 2) ** 2
    assert loss.lipschitz * norm2 <= L <= loss.lipschitz * norm2 * (1 + 1e-5)
    # sparse A gives the same constant
    assert loss.lipschitz_constant(sp.csr_matrix(A), sample_weight=sw) == pytest.approx(
        L, rel=1e-5)
    shape = (p, N_CLASSES) if isinstance(loss, Multinomial) else (p,)
    for scale in (0.0, 0.3, 1.0, 3.0):
        x = scale * rng.standard_normal(shape)
        H = _hessian_wrt_coefs(loss, A, y, x, sample_weight=sw)
        assert np.linalg.eigvalsh(H).max() <= L * (1 + 1e-6) + 1e-6


def test_lipschitz_constant_is_tight_for_squared():
    A = np.diag([3.0, 1.0, 0.5])
    assert Squared().lipschitz_constant(A) == pytest.approx(9.0, rel=1e-5)
    assert Logistic().lipschitz_constant(A) == pytest.approx(9.0 / 4, rel=1e-5)
    assert Squared().lipschitz_constant(A, sample_weight=[0.0, 4.0, 1.0]) == pytest.approx(
        4.0, rel=1e-5)


# ----------------------------------------------------------------------------- targets


@pytest.mark.parametrize("y", [[0, 1, 1], [0.0, 1.0], [-1, 0, 1], [2, -2], ["a", "b"]])
def test_logistic_rejects_non_pm1_labels(y):
    with pytest.raises(ValueError, match=r"-1 and \+1"):
        Logistic().check_target(np.array(y))


def test_logistic_accepts_pm1_labels():
    y = Logistic().check_target([1, -1, -1, 1])
    assert y.dtype == np.float64
    np.testing.assert_array_equal(y, [1.0, -1.0, -1.0, 1.0])
    np.testing.assert_array_equal(Logistic().check_target(np.ones(3)), np.ones(3))


@pytest.mark.parametrize("y, match", [
    ([0, -1, 2], "non-negative integer"),
    ([0.0, 1.5], "non-negative integer"),
    ([[0, 1], [1, 0]], "1-D"),
])
def test_multinomial_rejects_bad_labels(y, match):
    with pytest.raises(ValueError, match=match):
        Multinomial().check_target(np.array(y))


def test_multinomial_labels():
    y = Multinomial().check_target(np.array([0.0, 2.0, 1.0]))
    assert y.dtype == np.int64
    np.testing.assert_array_equal(y, [0, 2, 1])
    z = np.zeros((3, 3))
    for method in ("value", "grad"):
        with pytest.raises(ValueError, match="n_classes"):
            getattr(Multinomial(), method)(np.array([0, 3, 1]), z)
        getattr(Multinomial(), method)(np.array([0, 2, 1]), z)


# ----------------------------------------------------------------------------- stability


def test_logistic_is_stable_for_large_margins():
    loss = Logistic()
    y = np.array([1.0, 1.0, -1.0, -1.0])
    for dtype in (np.float64, np.float32):
        z = np.array([1000.0, -1000.0, 1000.0, -1000.0], dtype=dtype)
        v = loss.value(y, z)
        g = loss.grad(y, z)
        assert np.isfinite(v) and np.all(np.isfinite(g))
        assert v == pytest.approx(2000.0)
        np.testing.assert_allclose(g, [0.0, -1.0, 1.0, 0.0], atol=1e-12)
        assert g.dtype == dtype
    z = np.array([40.0, -40.0])
    assert loss.value(np.array([1.0, -1.0]), z) == pytest.approx(2 * np.log1p(np.exp(-40.0)),
                                                                  rel=1e-10)


def test_multinomial_is_stable_for_large_logits():
    loss = Multinomial()
    y = np.array([0, 1, 2])
    z = np.array([[1e3, -1e3, 5e2], [1e4, 0.0, -1e4], [-800.0, -800.0, -800.0]])
    v = loss.value(y, z)
    g = loss.grad(y, z)
    assert np.isfinite(v) and np.all(np.isfinite(g))
    assert v == pytest.approx(0.0 + 1e4 + np.log(3), rel=1e-12)
    np.testing.assert_allclose(g.sum(axis=1), 0.0, atol=1e-12)
    np.testing.assert_allclose(g[1], [1.0, -1.0, 0.0], atol=1e-12)
    g32 = loss.grad(y, z.astype(np.float32))
    assert g32.dtype == np.float32 and np.all(np.isfinite(g32))


# ----------------------------------------------------------------------------- parameters


@pytest.mark.parametrize("delta, exc", [(0.0, ValueError), (-1.0, ValueError),
                                        (np.nan, ValueError), (np.inf, ValueError),
                                        (True, TypeError), ("1", TypeError)])
def test_huber_bad_delta(delta, exc):
    with pytest.raises(exc, match="delta"):
        Huber(delta=delta)
    with pytest.raises(exc, match="delta"):
        Huber().set_params(delta=delta)


@pytest.mark.parametrize("loss", LOSSES, ids=IDS)
def test_clone_and_pickle(loss):
    y, z = _problem(loss)
    for other in (clone(loss), pickle.loads(pickle.dumps(loss))):
        assert type(other) is type(loss) and other is not loss
        assert other == loss
        assert other.get_params() == loss.get_params()
        assert other.value(y, z) == loss.value(y, z)
    assert Huber(delta=1.0) != Huber(delta=2.0)
    assert isinstance(loss, Loss)
    assert {"value", "grad", "lipschitz"} <= set(loss.capabilities)


@pytest.mark.parametrize("name, cls", [("squared", Squared), ("logistic", Logistic),
                                       ("multinomial", Multinomial), ("huber", Huber),
                                       ("Huber", Huber), ("SQUARED", Squared)])
def test_get_loss_names(name, cls):
    assert type(get_loss(name)) is cls


def test_get_loss_instances_and_errors():
    h = Huber(delta=2.0)
    assert get_loss(h) is h
    assert get_loss("huber") == Huber()
    for bad in ("squared_error", "", None, 3, Huber):
        with pytest.raises(ValueError) as info:
            get_loss(bad)
        for name in ("squared", "logistic", "multinomial", "huber"):
            assert name in str(info.value)
