"""The unfolding family (LISTA, ALISTA, LIHT, DU-ISTA/IHT) on array-API arrays.

Every model's forward and backward pass, the losses, the training loop and the
estimators run on ``array_api_strict``'s ``device1`` (where any hidden conversion to
NumPy raises) and must give the NumPy run's results on the same weights, in float32 and
float64, with the outputs left in the namespace. The estimator tests need scikit-learn's
``array_api_dispatch``, which needs ``SCIPY_ARRAY_API=1`` set before SciPy is imported;
they skip with that reason otherwise.
"""

from __future__ import annotations

import numpy as np
import pytest
import sklearn.base

from sparsopt.unfolding import (
    DUIHT,
    DUISTA,
    LIHT,
    LISTA,
    LIHTModel,
    LISTAModel,
    UnfoldedIHT,
    UnfoldedISTA,
    alista_weight,
    loss_and_grad,
    nmse_db,
    objective,
    train_unfolded,
)
from sparsopt.unfolding._shrink import hard_shrink, soft_shrink, support_select_shrink
from tests._array_api import (
    NAMESPACES,
    array_api_dispatch,
    assert_in_namespace,
    namespace,
    to_np,
    to_xp,
)

DTYPES = [np.float64, np.float32]


def _tol(dtype):
    return 2e-4 if dtype == np.float32 else 1e-10


def _problem(dtype, n_samples=6, seed=0):
    rng = np.random.default_rng(seed)
    A = (rng.standard_normal((8, 12)) / np.sqrt(8)).astype(dtype)
    X = (rng.standard_normal((n_samples, 12)) * (rng.random((n_samples, 12)) < 0.3))
    X = X.astype(dtype)
    return A, X @ A.T, X


def _models():
    out = [LISTAModel(v, lam=0.05, p=10, p_max=40)
           for v in ("untied", "tied", "cp", "cpss", "tilista", "alista")]
    out += [LIHTModel(0.001), DUISTA(0.05), DUISTA(0.05, thresholds="coordinate"),
            DUISTA(0.05, thresholds="layer", step_param="log", step_scale="operator"),
            DUIHT(0.02), DUIHT(0.02, gradient="straight_through"),
            DUIHT(0.02, gradient="surrogate")]
    return out


def _model_id(m):
    extra = getattr(m, "variant", None) or getattr(m, "thresholds_mode", None) \
        or getattr(m, "gradient", "")
    return f"{m.name}-{extra}"


MODELS = _models()


@pytest.mark.parametrize("xp_name", NAMESPACES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_shrinkages(xp_name, dtype):
    xp, dev = namespace(xp_name)
    R = np.random.default_rng(0).standard_normal((4, 10)).astype(dtype)
    Rx = to_xp(R, xp, dev)
    for theta in (0.4, np.full(10, 0.4, dtype), np.full((4, 10), 0.4, dtype)):
        th = to_xp(theta, xp, dev)
        for f, args in ((soft_shrink, ()), (hard_shrink, ()), (support_select_shrink, (30,))):
            ref = f(R, theta, *args)
            for th_in in (th, theta):  # a namespace threshold, or host data moved
                got = f(Rx, th_in, *args)
                for g, r in zip(got, ref):
                    assert_in_namespace(g, xp)
                    np.testing.assert_array_equal(to_np(g), r)
                assert got[0].dtype == Rx.dtype


@pytest.mark.parametrize("xp_name", NAMESPACES)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("model", MODELS, ids=_model_id)
def test_model_passes(model, dtype, xp_name):
    """init, forward (every layer), backward and project agree with the NumPy passes."""
    xp, dev = namespace(xp_name)
    A, Y, _ = _problem(dtype)
    Ax, Yx = to_xp(A, xp, dev), to_xp(Y, xp, dev)
    p = model.init_params(A, 3, lam=model.lam, dtype=dtype)
    px = model.init_params(Ax, 3, lam=model.lam, dtype=dtype)
    tol = _tol(dtype)
    for k in p:
        assert_in_namespace(px[k], xp)
        assert px[k].dtype == Yx.dtype
        np.testing.assert_allclose(to_np(px[k]), p[k], rtol=tol, atol=tol, err_msg=k)
    # move away from the initialisation so every path (support selection, steps) matters
    key = next(k for k in ("alpha", "c", "log_c", "theta") if k in p)
    p[key] = (p[key] * np.linspace(0.9, 1.3, p[key].shape[0]).reshape(
        (-1,) + (1,) * (p[key].ndim - 1))).astype(dtype)
    px[key] = to_xp(p[key], xp, dev)
    xs, cache = model.forward(p, A, Y, cache=True)
    xsx, cachex = model.forward(px, Ax, Yx, cache=True)
    assert len(xs) == len(xsx) == 4
    for a, b in zip(xs, xsx):
        assert_in_namespace(b, xp)
        assert b.dtype == Yx.dtype
        np.testing.assert_allclose(to_np(b), a, rtol=tol, atol=tol)
    G = np.random.default_rng(1).standard_normal(xs[-1].shape).astype(dtype)
    g = model.backward(p, A, Y, cache, G)
    gx = model.backward(px, Ax, Yx, cachex, to_xp(G, xp, dev))
    assert set(g) == set(gx)
    for k in g:
        assert_in_namespace(gx[k], xp)
        assert gx[k].dtype == Yx.dtype
        np.testing.assert_allclose(to_np(gx[k]), g[k], rtol=10 * tol, atol=10 * tol,
                                   err_msg=k)
    # host parameters with namespace data: moved for the call, outputs in the namespace
    xh, _ = model.forward(p, Ax, Yx, n_layers=2)
    assert_in_namespace(xh[-1], xp)
    np.testing.assert_allclose(to_np(xh[-1]), model.forward(p, A, Y, n_layers=2)[0][-1],
                               rtol=tol, atol=tol)
    model.project(p)
    model.project(px)
    for k in p:
        assert_in_namespace(px[k], xp)
        np.testing.assert_allclose(to_np(px[k]), p[k], rtol=tol, atol=tol)


@pytest.mark.parametrize("xp_name", NAMESPACES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_losses(xp_name, dtype):
    xp, dev = namespace(xp_name)
    A, Y, X = _problem(dtype)
    xT = (X + 0.1).astype(dtype)
    Ax, Yx, Xx, xTx = (to_xp(a, xp, dev) for a in (A, Y, X, xT))
    tol = _tol(dtype)
    for loss, model in (("supervised", DUISTA(0.1)), ("unsupervised", DUISTA(0.1)),
                        ("unsupervised", DUIHT(0.1)),
                        ("unsupervised", DUIHT(0.1, gradient="surrogate", l0_delta=0.01))):
        v, G = loss_and_grad(loss, model, xT, A, Y, X, 0.1)
        vx, Gx = loss_and_grad(loss, model, xTx, Ax, Yx, Xx, 0.1)
        assert isinstance(vx, float)
        assert_in_namespace(Gx, xp)
        assert Gx.dtype == xTx.dtype
        np.testing.assert_allclose(vx, v, rtol=tol)
        np.testing.assert_allclose(to_np(Gx), G, rtol=tol, atol=tol)
    for pen in ("l1", "l0"):
        np.testing.assert_allclose(objective(pen, xTx, Ax, Yx, 0.3),
                                   objective(pen, xT, A, Y, 0.3), rtol=tol)
    np.testing.assert_allclose(nmse_db(xTx, Xx), nmse_db(xT, X), rtol=tol)
    np.testing.assert_allclose(nmse_db([xTx, Xx * 0.5], Xx), nmse_db([xT, X * 0.5], X),
                               rtol=tol)


@pytest.mark.parametrize("xp_name", NAMESPACES)
def test_alista_weight(xp_name):
    xp, dev = namespace(xp_name)
    A = _problem(np.float64)[0]
    W = alista_weight(to_xp(A, xp, dev))
    assert_in_namespace(W, xp)
    np.testing.assert_allclose(to_np(W), alista_weight(A), rtol=1e-8, atol=1e-10)
    A0 = A.copy()
    A0[:, 3] = 0
    with pytest.raises(ValueError, match="zero"):
        alista_weight(to_xp(A0, xp, dev))


@pytest.mark.parametrize("xp_name", NAMESPACES)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("schedule,loss", [("incremental", "supervised"),
                                           ("stagewise", "unsupervised"),
                                           ("all", "supervised")])
@pytest.mark.parametrize("model", [DUISTA(0.01), LISTAModel("cpss", 0.01, p=5, p_max=20),
                                   LISTAModel("tied", 0.01)], ids=_model_id)
def test_train_unfolded(model, schedule, loss, dtype, xp_name):
    """A tiny training run gives the NumPy run's weights, loss curve and step count."""
    xp, dev = namespace(xp_name)
    batches = [_problem(dtype, n_samples=10, seed=s) for s in range(12)]
    xbatches = [tuple(to_xp(a, xp, dev) for a in b) for b in batches]
    kw = dict(n_layers=3, max_iter=3, schedule=schedule, loss=loss, check_every=2,
              clip_norm=1.0)
    ref = train_unfolded(model, iter(batches[:-1]), validation=batches[-1], **kw)
    got = train_unfolded(model, iter(xbatches[:-1]), validation=xbatches[-1], **kw)
    assert got.n_iter == ref.n_iter
    tol = 2e-3 if dtype == np.float32 else 1e-9
    for k in ref.x:
        assert_in_namespace(got.x[k], xp)
        assert got.x[k].dtype == xbatches[0][0].dtype
        np.testing.assert_allclose(to_np(got.x[k]), ref.x[k], rtol=tol, atol=tol, err_msg=k)
    np.testing.assert_allclose(got.info["loss_curve"], ref.info["loss_curve"], rtol=tol)
    assert all(isinstance(r["objective"], float) for r in got.history)


# -- estimators under scikit-learn's array_api_dispatch ------------------------------------

ESTIMATORS = [
    UnfoldedISTA(n_layers=3, alpha=0.01, max_iter=4, random_state=0),
    UnfoldedIHT(n_layers=2, alpha=0.01, max_iter=4, random_state=0, schedule="stagewise"),
    LISTA(variant="alista", n_layers=3, alpha=0.01, max_iter=4, random_state=0),
    LIHT(n_layers=2, alpha=0.001, max_iter=4, random_state=0, loss="unsupervised",
         batch_size=500),
]


@pytest.mark.parametrize("xp_name", NAMESPACES)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("est", ESTIMATORS, ids=lambda e: type(e).__name__)
def test_estimator_in_namespace(est, dtype, xp_name):
    xp, dev = namespace(xp_name)
    A, Y, X = _problem(dtype, n_samples=60)
    est = sklearn.base.clone(est).set_params(operator=A * (0.5 if isinstance(est, LIHT)
                                                           else 1.0))
    Yx, Xx = to_xp(Y, xp, dev), to_xp(X, xp, dev)
    ref = sklearn.base.clone(est).fit(Y, X)
    tol = 2e-3 if dtype == np.float32 else 1e-8
    with array_api_dispatch():
        got = sklearn.base.clone(est).fit(Yx, Xx)
        codes = got.transform(Yx)
        layers = got.layer_outputs(Yx)
        score = got.score(Yx, Xx)
    assert got.n_iter_ == ref.n_iter_
    for k, v in ref.params_.items():
        assert_in_namespace(got.params_[k], xp)
        np.testing.assert_allclose(to_np(got.params_[k]), v, rtol=tol, atol=tol, err_msg=k)
    for a in (codes, layers):
        assert_in_namespace(a, xp)
        assert a.dtype == Yx.dtype
    np.testing.assert_allclose(to_np(codes), ref.transform(Y), rtol=tol, atol=tol)
    assert tuple(layers.shape) == (est.n_layers, 60, 12)
    np.testing.assert_allclose(score, ref.score(Y, X), rtol=tol)
    with array_api_dispatch():  # partial_fit continues in the namespace
        got.partial_fit(Yx, Xx)
        ref.partial_fit(Y, X)
    assert got.n_iter_ == ref.n_iter_
    for k, v in ref.params_.items():
        assert_in_namespace(got.params_[k], xp)
        np.testing.assert_allclose(to_np(got.params_[k]), v, rtol=tol, atol=tol, err_msg=k)


@pytest.mark.parametrize("xp_name", NAMESPACES)
def test_estimator_weights_moved_once(xp_name):
    """A NumPy fit used on namespace inputs: the operator and weights are moved once per
    namespace/device/dtype and reused; the results equal the NumPy transform."""
    xp, dev = namespace(xp_name)
    A, Y, X = _problem(np.float64, n_samples=40)
    est = LISTA(A, variant="cp", n_layers=2, max_iter=3, random_state=0).fit(Y, X)
    Yx = to_xp(Y, xp, dev)
    with array_api_dispatch():
        first = est.transform(Yx)
        moved = est._moved(Yx)
        params_obj = moved["params"]
        second = est.transform(Yx)
        assert est._moved(Yx)["params"] is params_obj  # no second transfer
        f32 = est.transform(to_xp(Y.astype(np.float32), xp, dev))
    for a in (first, second, f32):
        assert_in_namespace(a, xp)
    assert f32.dtype == xp.float32
    np.testing.assert_allclose(to_np(first), est.transform(Y), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(to_np(second), to_np(first))
    # refitting invalidates the moved weights
    est.fit(Y * 1.01, X)
    with array_api_dispatch():
        assert est._moved(Yx)["params"] is not params_obj


@pytest.mark.parametrize("xp_name", NAMESPACES)
def test_estimator_refuses_other_namespace_after_namespace_fit(xp_name):
    """scikit-learn's convention under array_api_dispatch: a fit on device arrays and a
    transform on NumPy arrays is an error naming the method (not a silent transfer)."""
    xp, dev = namespace(xp_name)
    A, Y, X = _problem(np.float64, n_samples=30)
    with array_api_dispatch():
        est = UnfoldedISTA(A, n_layers=2, max_iter=2, random_state=0).fit(to_xp(Y, xp, dev))
        with pytest.raises(ValueError, match=r"UnfoldedISTA.predict\(\).*same namespace"):
            est.predict(Y)


# -- ||A||_2^2 of device operators (step_scale="operator"): SVDs counted ---------------------

@pytest.fixture
def svd_count(monkeypatch):
    """The number of ``matrix_norm`` calls (an SVD each) made on ``array_api_strict``."""
    import array_api_strict

    calls = []
    norm = array_api_strict.linalg.matrix_norm

    def counting(*args, **kwargs):
        calls.append(1)
        return norm(*args, **kwargs)

    monkeypatch.setattr(array_api_strict.linalg, "matrix_norm", counting)
    return calls


@pytest.mark.parametrize("model", [DUISTA(0.05, step_scale="operator"),
                                   DUIHT(0.02, step_scale="operator", step_param="log")],
                         ids=_model_id)
def test_operator_constant_once_per_pass(model, svd_count):
    """Outside training, each forward and each backward pass computes ``||A||^2`` once."""
    xp, dev = namespace("array_api_strict")
    A, Y, _ = (to_xp(a, xp, dev) for a in _problem(np.float64))
    params = model.init_params(A, 3)
    assert len(svd_count) == 1
    xs, cache = model.forward(params, A, Y, cache=True)
    assert len(svd_count) == 2
    model.backward(params, A, Y, cache, xs[-1])
    assert len(svd_count) == 3


def _operator_batches(n, dtype=np.float64):
    """``n`` batches with an operator each (not all distinct: a cycle of three)."""
    ops = [_problem(dtype, seed=s)[0] for s in range(3)]
    rng = np.random.default_rng(5)
    out = []
    for k in range(n):
        A = ops[k % 3]
        X = rng.standard_normal((6, 12)) * (rng.random((6, 12)) < 0.3)
        out.append((A, X @ A.T, X))
    return out


def _train_operator_scaled(batches, validation, max_iter):
    return train_unfolded(DUISTA(0.05, step_scale="operator"), batches, n_layers=2,
                          max_iter=max_iter, schedule="all", check_every=2,
                          validation=validation)


def test_training_computes_operator_constants_once_per_batch(svd_count):
    """A training call computes ``||A||^2`` once per batch (init, forward and backward of
    its first batch share one) and once per validation operator for the whole call; the
    weights are the NumPy run's (whose memo is keyed on the contents)."""
    xp, dev = namespace("array_api_strict")
    batches = _operator_batches(7)
    xb = [tuple(to_xp(a, xp, dev) for a in b) for b in batches]
    val_ops = [_problem(np.float64, seed=10 + s) for s in range(2)]
    xval = [tuple(to_xp(a, xp, dev) for a in v) for v in val_ops]
    ref = _train_operator_scaled(iter(batches), val_ops, max_iter=7)
    got = _train_operator_scaled(iter(xb), xval, max_iter=7)
    assert got.n_iter == ref.n_iter == 7
    assert len(svd_count) == 7 + 2  # was 3 per step and 1 per validation batch per check
    for k in ref.x:
        np.testing.assert_allclose(to_np(got.x[k]), ref.x[k], rtol=1e-9, atol=1e-12)


def test_training_with_a_fixed_operator_computes_it_once(svd_count):
    """One operator object for every batch and the validation (the estimators' case):
    one SVD for the whole training call."""
    xp, dev = namespace("array_api_strict")
    A, Y, X = (to_xp(a, xp, dev) for a in _problem(np.float64, n_samples=12))
    Yv, Xv = Y[:4, ...], X[:4, ...]
    _train_operator_scaled(lambda: (A, Y, X), (A, Yv, Xv), max_iter=6)
    assert len(svd_count) == 1


def test_operator_refilled_in_place_gets_fresh_constants(svd_count):
    """A batch source refilling one device buffer in place (same object, new operator):
    the memo is versioned per batch by the loop, so the constants follow the contents
    and the weights are the NumPy run's."""
    xp, dev = namespace("array_api_strict")
    batches = _operator_batches(6)
    val = _problem(np.float64, seed=10)
    buf_np, buf = np.empty_like(batches[0][0]), to_xp(np.empty_like(batches[0][0]), xp, dev)

    def source(fill, buffer, conv):
        it = iter(batches)

        def draw():
            A, Y, X = next(it)
            fill(buffer, A)
            return buffer, conv(Y), conv(X)

        return draw

    def fill_np(b, A):
        b[...] = A

    def fill_xp(b, A):
        b[...] = to_xp(A, xp, dev)

    ref = _train_operator_scaled(source(fill_np, buf_np, lambda a: a), val, max_iter=6)
    got = _train_operator_scaled(source(fill_xp, buf, lambda a: to_xp(a, xp, dev)),
                                 tuple(to_xp(a, xp, dev) for a in val), max_iter=6)
    assert len(svd_count) == 6 + 1
    for k in ref.x:
        np.testing.assert_allclose(to_np(got.x[k]), ref.x[k], rtol=1e-9, atol=1e-12)
