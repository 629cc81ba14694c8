"""train_unfolded: Adam, the three schedules, keep-best, batches, the loop protocol."""

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from sparsopt.solvers import SolverResult
from sparsopt.unfolding import DUIHT, DUISTA, Adam, nmse_db, train_unfolded


@pytest.fixture(autouse=True)
def _one_blas_thread():
    # tiny matrix products: BLAS threads only contend on a loaded 2-core machine
    with threadpool_limits(1):
        yield


def _draw(seed=0, m=15, n=30, B=20, fresh=True, dtype=np.float64):
    rng = np.random.default_rng(seed)
    A0 = rng.standard_normal((m, n)) / np.sqrt(m)

    def draw():
        A = rng.standard_normal((m, n)) / np.sqrt(m) if fresh else A0
        X = rng.standard_normal((B, n)) * (rng.random((B, n)) < 0.1)
        Y = X @ A.T + 0.01 * rng.standard_normal((B, m))
        return A.astype(dtype), Y.astype(dtype), X.astype(dtype)

    return draw


def test_adam_matches_the_textbook_update():
    p = {"c": np.array([1.0, 2.0]), "log_c": np.zeros(2)}
    opt = Adam(p, lr=0.1)
    assert opt.scale == {"c": 1.5, "log_c": 1.0}  # relative lr; log space: absolute
    g = {"c": np.array([0.5, -2.0]), "log_c": np.array([1.0, 0.0])}
    opt.step(p, g)
    # first step of Adam: m_hat = g, v_hat = g^2, so the update is lr * scale * sign(g)
    np.testing.assert_allclose(p["c"], [1.0 - 0.15, 2.0 + 0.15])
    np.testing.assert_allclose(p["log_c"], [-0.1, 0.0])
    opt.step(p, {"c": np.array([0.5, -2.0]), "log_c": np.zeros(2)},
             multipliers={"c": np.array([0.0, 1.0])})
    assert p["c"][0] == pytest.approx(0.85)


@pytest.mark.parametrize("schedule", ["incremental", "stagewise", "all"])
@pytest.mark.parametrize("loss", ["supervised", "unsupervised"])
def test_training_improves_on_the_initial_steps(schedule, loss):
    draw = _draw()
    model = DUISTA(0.01)
    val = _draw(seed=5, B=200)()
    res = train_unfolded(model, draw, n_layers=4, loss=loss, schedule=schedule, max_iter=40,
                         learning_rate=0.03, validation=val)
    assert isinstance(res, SolverResult) and res.stopped_by == "max_iter"
    A, Y, X = val
    init = model.init_params(A, 4)
    before = nmse_db(model.forward(init, A, Y)[0][-1], X)
    after = nmse_db(model.forward(res.x, A, Y)[0][-1], X)
    assert after < before - 0.3
    assert res.info["loss_curve"].shape == (res.n_iter,)
    stages = {"incremental": 4, "stagewise": 12, "all": 1}[schedule]
    assert res.n_iter <= 40 * stages


@pytest.mark.parametrize("anneal", ["training", "layer"])
def test_annealed_surrogate_training(anneal):
    """train_unfolded hands an annealed DU-IHT its progress: the temperature falls
    geometrically from ``temperature`` to ``temperature_final`` over all the steps (or
    over each layer's), and the training improves on the initial steps."""
    seen = []

    class Spy(DUIHT):
        def forward(self, params, A, Y, *, progress=0.0, **kw):
            if kw.get("cache"):
                seen.append(self.surrogate_temperature(progress))
            return super().forward(params, A, Y, progress=progress, **kw)

    model = Spy(0.005, gradient="surrogate", temperature=0.5, temperature_final=0.05,
                anneal=anneal)
    val = _draw(seed=5, B=200)()
    res = train_unfolded(model, _draw(), n_layers=3, loss="supervised", max_iter=30,
                         learning_rate=0.03, validation=val)
    assert len(seen) == res.n_iter == 90
    per_stage = np.geomspace(0.5, 0.05, 30 if anneal == "layer" else 90)
    expected = np.tile(per_stage, 3) if anneal == "layer" else per_stage
    np.testing.assert_allclose(seen, expected, rtol=1e-12)
    A, Y, X = val
    before = nmse_db(model.forward(model.init_params(A, 3), A, Y)[0][-1], X)
    assert nmse_db(model.forward(res.x, A, Y)[0][-1], X) < before - 0.3


def test_stagewise_plateau_stops_stages_early():
    res = train_unfolded(DUISTA(0.01), _draw(), n_layers=2, schedule="stagewise", max_iter=200,
                         patience=10, check_every=5, learning_rate=1e-6)
    assert res.n_iter < 6 * 200


def test_incremental_trains_only_the_layers_in_use():
    draw = _draw()
    res = train_unfolded(DUISTA(0.01), draw, n_layers=3, max_iter=5, schedule="incremental",
                         keep_best=False)
    assert res.n_iter == 15
    # "all" on 3 layers, stopped by the callback right after the first check
    seen = []
    res = train_unfolded(DUIHT(0.01), draw, n_layers=3, max_iter=50, schedule="all",
                         check_every=5, callback=lambda s: seen.append(s.x) or True)
    assert res.stopped_by == "callback" and res.n_iter == 5 and isinstance(seen[0], dict)


def test_keep_best_never_returns_worse_than_the_start_on_validation():
    draw = _draw()
    val = _draw(seed=3, B=100)()
    model = DUISTA(0.01)
    # a huge learning rate wrecks the steps; keep-best restores the best validated ones
    res = train_unfolded(model, draw, n_layers=3, schedule="all", max_iter=30,
                         learning_rate=5.0, validation=val)
    A, Y, X = val
    init = model.init_params(A, 3)
    from sparsopt.unfolding import loss_and_grad
    v0 = loss_and_grad("supervised", model, model.forward(init, A, Y)[0][-1], A, Y, X, 0)[0]
    v1 = loss_and_grad("supervised", model, model.forward(res.x, A, Y)[0][-1], A, Y, X, 0)[0]
    assert v1 <= v0


def test_iterable_batches_end_training_when_exhausted():
    draw = _draw(fresh=False)
    batches = [draw() for _ in range(7)]
    res = train_unfolded(DUISTA(0.01), batches, n_layers=2, schedule="all", max_iter=50)
    assert res.n_iter == 7 and res.stopped_by == "batches"


def test_nonfinite_batches_are_skipped():
    draw = _draw(fresh=False)
    good = draw()
    bad = (good[0], np.full_like(good[1], np.inf), good[2])
    res = train_unfolded(DUISTA(0.01), [good, bad, good], n_layers=2, schedule="all",
                         max_iter=3, loss="unsupervised", check_every=1)
    assert res.info["n_skipped"] == 1
    assert all(np.all(np.isfinite(v)) for v in res.x.values())


def test_clip_norm_bounds_the_gradient():
    draw = _draw(fresh=False)
    a = train_unfolded(DUISTA(0.01), draw, n_layers=2, schedule="all", max_iter=1,
                       clip_norm=1e-12)
    assert a.n_iter == 1  # Adam is invariant to a uniform scale: clipping runs, nothing breaks


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_float32_stays_float32(dtype):
    res = train_unfolded(DUISTA(0.01, thresholds="coordinate"), _draw(dtype=dtype),
                         n_layers=2, max_iter=5)
    assert all(v.dtype == dtype for v in res.x.values())


def test_bad_arguments():
    draw = _draw()
    with pytest.raises(ValueError, match="n_layers"):
        train_unfolded(DUISTA(0.1), draw, n_layers=0)
    with pytest.raises(ValueError, match="loss"):
        train_unfolded(DUISTA(0.1), draw, n_layers=2, loss="mse")
    with pytest.raises(ValueError, match="schedule"):
        train_unfolded(DUISTA(0.1), draw, n_layers=2, schedule="greedy")
    with pytest.raises(ValueError, match="max_iter"):
        train_unfolded(DUISTA(0.1), draw, n_layers=2, max_iter=0)
    with pytest.raises(ValueError, match="learning_rate"):
        train_unfolded(DUISTA(0.1), draw, n_layers=2, learning_rate=-1)
    with pytest.raises(ValueError, match="X_true"):
        train_unfolded(DUISTA(0.1), lambda: (draw()[0], draw()[1], None), n_layers=2)


def _textbook_adam(p, grads, lr, mults, gscale, n_steps, b1=0.9, b2=0.999, eps=1e-8):
    """Float64 Adam with temporaries, the relative lr and per-layer multipliers."""
    scale = float(np.mean(np.abs(p))) or 1.0
    p = p.astype(np.float64)
    m = np.zeros_like(p)
    v = np.zeros_like(p)
    for t in range(1, n_steps + 1):
        g = grads[t - 1].astype(np.float64) * gscale
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g ** 2
        upd = lr * scale * (m / (1 - b1 ** t)) / (np.sqrt(v / (1 - b2 ** t)) + eps)
        p = p - upd * mults.reshape((-1,) + (1,) * (p.ndim - 1))
    return p


@pytest.mark.parametrize("engine", ["numpy", "numba"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_adam_in_place_matches_the_textbook_update(engine, dtype):
    rng = np.random.default_rng(3)
    W0 = rng.standard_normal((4, 3, 5)).astype(dtype)
    th0 = rng.random(4).astype(dtype)
    grads = [{"W": rng.standard_normal(W0.shape).astype(dtype),
              "theta": rng.standard_normal(4).astype(dtype)} for _ in range(6)]
    mults = np.array([1.0, 0.3, 0.0, 0.09])
    p = {"W": W0.copy(), "theta": th0.copy()}
    W_obj = p["W"]
    opt = Adam(p, lr=0.05, engine=engine)
    for g in grads:
        opt.step(p, g, multipliers={"W": mults, "theta": mults}, grad_scale=0.5)
    assert p["W"] is W_obj  # updated in place
    for k in p:  # float32 stays float32, state included
        assert p[k].dtype == dtype and opt.m[k].dtype == dtype and opt.v[k].dtype == dtype
    rtol = 1e-5 if dtype == np.float32 else 1e-12
    for k, p0 in (("W", W0), ("theta", th0)):
        ref = _textbook_adam(p0, [g[k] for g in grads], 0.05, mults, 0.5, len(grads))
        np.testing.assert_allclose(p[k], ref, rtol=rtol, atol=rtol)
    np.testing.assert_array_equal(p["W"][2], W0[2])  # multiplier 0: untouched
