"""UnfoldedISTA / UnfoldedIHT: scikit-learn behaviour, losses, partial_fit, errors."""

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from sparsopt.unfolding import UnfoldedIHT, UnfoldedISTA, nmse_db


@pytest.fixture(autouse=True)
def _one_blas_thread():
    with threadpool_limits(1):
        yield


def _data(n=300, m=20, k=40, dtype=np.float64, seed=0):
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((m, k)) / np.sqrt(m)
    X = rng.standard_normal((n, k)) * (rng.random((n, k)) < 0.1)
    Y = X @ A.T + 0.01 * rng.standard_normal((n, m))
    return A.astype(dtype), Y.astype(dtype), X.astype(dtype)


KW = dict(n_layers=5, alpha=0.01, max_iter=30, learning_rate=0.03, random_state=0)


@pytest.mark.parametrize("Est", [UnfoldedISTA, UnfoldedIHT])
def test_fit_supervised_and_unsupervised(Est):
    A, Y, X = _data()
    sup = Est(A, **KW).fit(Y, X)
    uns = Est(A, **KW).fit(Y)
    assert sup.loss_ == "supervised" and uns.loss_ == "unsupervised"
    for est in (sup, uns):
        assert est.steps_.shape == (5,) and np.all(est.steps_ > 0)
        assert est.thresholds_.shape == (5,)
        assert est.n_iter_ == 5 * 30 and est.loss_curve_.shape == (est.n_iter_,)
        codes = est.transform(Y)
        assert codes.shape == X.shape
        np.testing.assert_array_equal(est.predict(Y), codes)
        layers = est.layer_outputs(Y)
        assert layers.shape == (5,) + X.shape
        np.testing.assert_array_equal(layers[-1], codes)
        assert est.objective(Y).shape == (5,)
    # learning beats the untrained steps (ISTA/IHT with 1/L) at the same depth
    untrained = Est(A, **{**KW, "max_iter": 1, "learning_rate": 1e-12}).fit(Y, X)
    assert nmse_db(sup.transform(Y), X) < nmse_db(untrained.transform(Y), X) - 0.5
    # score: -NMSE after a supervised fit, -F after an unsupervised one
    assert sup.score(Y, X) == pytest.approx(
        -np.sum((sup.transform(Y) - X) ** 2) / np.sum(X ** 2))
    assert uns.score(Y) == pytest.approx(-uns.objective(Y)[-1])


def test_tied_thresholds_follow_the_steps():
    A, Y, X = _data()
    est = UnfoldedISTA(A, **KW).fit(Y, X)
    np.testing.assert_allclose(est.thresholds_, 0.01 * est.steps_)
    free = UnfoldedISTA(A, thresholds="coordinate", **KW).fit(Y, X)
    assert free.thresholds_.shape == (5, 40)


@pytest.mark.parametrize("schedule", ["incremental", "stagewise", "all"])
def test_schedules(schedule):
    A, Y, X = _data(n=120)
    est = UnfoldedISTA(A, schedule=schedule, **{**KW, "n_layers": 3, "max_iter": 10}).fit(Y, X)
    assert est.n_iter_ >= 1 and np.all(np.isfinite(est.steps_))


@pytest.mark.parametrize("Est", [UnfoldedISTA, UnfoldedIHT])
def test_float32_is_preserved(Est):
    A, Y, X = _data(dtype=np.float32)
    est = Est(A.astype(np.float64), **KW).fit(Y, X)
    assert est.transform(Y).dtype == np.float32
    assert est.layer_outputs(Y).dtype == np.float32


def test_partial_fit_streams():
    A, Y, X = _data()
    est = UnfoldedISTA(A, n_layers=4, alpha=0.01, learning_rate=0.05)
    before = None
    for i in range(0, 300, 30):
        est.partial_fit(Y[i:i + 30], X[i:i + 30])
        if before is None:
            before = nmse_db(est.transform(Y), X)
    assert est.n_iter_ == 10 and est.loss_curve_.shape == (10,)
    assert nmse_db(est.transform(Y), X) < before
    with pytest.raises(ValueError, match="partial_fit"):
        est.partial_fit(Y[:30])  # an unsupervised batch after supervised ones


def test_verbose_shows_progress(capsys):
    A, Y, X = _data(n=60)
    UnfoldedISTA(A, **{**KW, "n_layers": 2, "max_iter": 5}, verbose=0).fit(Y, X)
    assert capsys.readouterr().out == ""
    UnfoldedISTA(A, **{**KW, "n_layers": 2, "max_iter": 5}, verbose=1).fit(Y, X)
    out = capsys.readouterr()
    assert (out.out + out.err).strip() != ""


def test_bad_input():
    A, Y, X = _data(n=50)
    with pytest.raises(ValueError, match="operator is required"):
        UnfoldedISTA().fit(Y)
    with pytest.raises(ValueError, match="operator has shape"):
        UnfoldedISTA(A[:, :10].T).fit(Y)
    Ybad = Y.copy()
    Ybad[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        UnfoldedISTA(A).fit(Ybad)
    Ybad[0, 0] = np.inf
    with pytest.raises(ValueError, match="infinity"):
        UnfoldedIHT(A).fit(Ybad)
    with pytest.raises(ValueError, match="n_layers"):
        UnfoldedISTA(A, n_layers=0).fit(Y)
    with pytest.raises(ValueError, match="true codes"):
        UnfoldedISTA(A, loss="supervised").fit(Y)
    with pytest.raises(ValueError, match="true codes"):
        UnfoldedISTA(A, loss="supervised").fit(Y, X[:, :5])
    est = UnfoldedISTA(A, **{**KW, "max_iter": 2}).fit(Y, X)
    with pytest.raises(ValueError, match="true codes"):
        est.score(Y)


def test_unsupervised_ignores_targets():
    A, Y, X = _data(n=100)
    a = UnfoldedIHT(A, loss="unsupervised", **KW).fit(Y, X)
    b = UnfoldedIHT(A, loss="unsupervised", **KW).fit(Y)
    np.testing.assert_array_equal(a.steps_, b.steps_)


def test_annealed_surrogate_estimator():
    """``temperature_final`` reaches the model; the annealed fit improves on the initial
    steps and its evaluation uses the exact hard threshold."""
    A, Y, X = _data()
    est = UnfoldedIHT(A, gradient="surrogate", temperature=0.5, temperature_final=0.02,
                      anneal="layer", l0_delta=0.01, **KW).fit(Y)
    assert est.model_.anneals and est.model_.anneal == "layer"
    assert est.model_.surrogate_temperature(1.0) == pytest.approx(0.02)
    init = est.model_.init_params(A, KW["n_layers"])
    before = est.model_.forward(init, A, Y)[0][-1]
    after = est.transform(Y)
    assert nmse_db(after, X) < nmse_db(before, X)
    np.testing.assert_array_equal(after, est.model_.forward(est.params_, A, Y)[0][-1])
    with pytest.raises(ValueError, match="anneal"):
        UnfoldedIHT(A, anneal="epoch").fit(Y)
    with pytest.raises(ValueError, match="temperature_final"):
        UnfoldedIHT(A, temperature_final=-1.0).fit(Y)
