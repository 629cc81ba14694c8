"""Near drop-ins: scikit-learn's and POT's own usage, written anew, run with both imports.

``SBLRegressor`` against ``sklearn.linear_model.ARDRegression``, ``GraphLabelPropagation``
against ``sklearn.semi_supervised.LabelPropagation``, ``sparsopt.ot.SinkhornTransport``
against ``ot.da.SinkhornTransport``. The intended differences are listed in
``docs/user_guide/_dropin_near.rst``.
"""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import load_iris
from sklearn.linear_model import ARDRegression
from sklearn.semi_supervised import LabelPropagation
from sklearn.utils.fixes import parse_version

from sparsopt.linear_model import GraphLabelPropagation, SBLRegressor
from sparsopt.ot import SinkhornTransport
from tests._sklearn_compat import SKLEARN_VERSION

#: SBLRegressor configured as ARDRegression's defaults (the rest of the spelling is shared)
ARD_AS_SKLEARN = dict(solver="mackay", stop="coef", prune_rtol=0.0, threshold_lambda=1e4,
                      tol=1e-3, alpha_1=1e-6, alpha_2=1e-6, lambda_1=1e-6, lambda_2=1e-6)


def _ard_usage(make):
    """scikit-learn's ARD usage: fit with scores, read the precisions, predict with std."""
    rng = np.random.RandomState(0)
    X = rng.randn(60, 12)
    w = np.zeros(12)
    w[[0, 3, 8]] = [1.5, -2.0, 0.7]
    y = X @ w + 0.2 + 0.05 * rng.randn(60)
    clf = make(compute_score=True, fit_intercept=True, copy_X=True, verbose=False,
               max_iter=300)
    clf.fit(X, y)
    mean, std = clf.predict(X[:5], return_std=True)
    kept = clf.lambda_ < clf.threshold_lambda
    return clf, mean, std, kept


def test_ard_regression_usage_runs_alike():
    ref, mean_r, std_r, kept_r = _ard_usage(ARDRegression)
    ours, mean_o, std_o, kept_o = _ard_usage(lambda **kw: SBLRegressor(**ARD_AS_SKLEARN, **kw))
    assert ours.n_iter_ == ref.n_iter_
    np.testing.assert_allclose(ours.scores_, ref.scores_, rtol=1e-9)
    np.testing.assert_allclose(ours.lambda_, ref.lambda_, rtol=1e-8)
    assert ours.alpha_ == pytest.approx(ref.alpha_, rel=1e-9)
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-10)
    assert ours.intercept_ == pytest.approx(ref.intercept_, abs=1e-10)
    np.testing.assert_array_equal(kept_o, kept_r)
    np.testing.assert_allclose(mean_o, mean_r, atol=1e-10)
    if SKLEARN_VERSION >= parse_version("1.9"):
        # scikit-learn 1.9 computes the predictive std at centred points (older releases at
        # the raw X): sparsopt follows 1.9
        np.testing.assert_allclose(std_o, std_r, rtol=1e-9)
    # the one documented difference: sigma_ is the diagonal of sklearn's covariance
    np.testing.assert_allclose(ours.sigma_[kept_o], np.diag(ref.sigma_), rtol=1e-8)


def test_ard_docstring_example_runs_alike():
    for est in (ARDRegression(), SBLRegressor(**ARD_AS_SKLEARN)):
        est.fit([[0, 0], [1, 1], [2, 2]], [0, 1, 2])
        np.testing.assert_allclose(est.predict([[1, 1]]), [1.0], atol=1e-6)


@pytest.mark.parametrize("kernel", ["rbf", "knn"])
def test_label_propagation_iris_usage_runs_alike(kernel):
    # scikit-learn's example: hide 30% of the iris labels and propagate the rest
    iris = load_iris()
    rng = np.random.RandomState(42)
    random_unlabeled_points = rng.rand(len(iris.target)) < 0.3
    labels = np.copy(iris.target)
    labels[random_unlabeled_points] = -1
    models = []
    for cls in (LabelPropagation, GraphLabelPropagation):
        model = cls(kernel=kernel, gamma=20, n_neighbors=7, max_iter=1000, n_jobs=1)
        models.append(model.fit(iris.data, labels))
    ref, ours = models
    assert ours.X_.shape == ref.X_.shape == iris.data.shape
    np.testing.assert_array_equal(ours.classes_, ref.classes_)
    assert ours.label_distributions_.shape == ref.label_distributions_.shape
    np.testing.assert_array_equal(ours.transduction_[~random_unlabeled_points],
                                  labels[~random_unlabeled_points])
    if kernel == "rbf":  # the same fixed point: the same labels
        np.testing.assert_array_equal(ours.transduction_, ref.transduction_)
        np.testing.assert_array_equal(ours.predict(iris.data[::7]),
                                      ref.predict(iris.data[::7]))
    else:  # sklearn's directed k-NN graph against our symmetrised one: nearly the same
        assert np.mean(ours.transduction_ == ref.transduction_) > 0.95
    assert isinstance(ours.n_iter_, int) and ours.n_iter_ >= 1


def _two_domains():
    rng = np.random.RandomState(0)
    Xs = rng.randn(40, 2)
    ys = (Xs[:, 0] > 0).astype(int)
    Xt = 0.8 * rng.randn(30, 2) + np.array([3.0, 1.0])
    yt = (Xt[:, 0] > 3.0).astype(int)
    return Xs, ys, Xt, yt


def _version(text):
    return tuple(int(part) for part in text.split(".")[:3] if part.isdigit())


def _pot_usage(cls, **params):
    """POT's domain-adaptation usage: keyword fit, transform, inverse_transform, labels."""
    Xs, ys, Xt, _ = _two_domains()
    ot_sinkhorn = cls(reg_e=params.pop("reg_e", 1.0), max_iter=1000, tol=1e-9,
                      verbose=False, log=True, metric="sqeuclidean", **params)
    ot_sinkhorn.fit(Xs=Xs, ys=ys, Xt=Xt)
    out = dict(coupling=ot_sinkhorn.coupling_, cost=ot_sinkhorn.cost_,
               transp_Xs=ot_sinkhorn.transform(Xs=Xs),
               new_Xs=ot_sinkhorn.transform(Xs=Xs[:6] + 0.1),
               transp_Xt=ot_sinkhorn.inverse_transform(Xt=Xt),
               labels=ot_sinkhorn.transform_labels(ys=ys),
               fit_transform=cls(**ot_sinkhorn.get_params()).fit_transform(Xs=Xs, Xt=Xt))
    return ot_sinkhorn, out


@pytest.mark.parametrize("params", [
    dict(),
    dict(reg_e=0.05, norm="max"),
    dict(reg_e=0.5, norm="median", out_of_sample_map="ferradans"),
    dict(reg_e=0.2, norm="log"),
])
def test_pot_sinkhorn_transport_usage_runs_alike(params):
    ot = pytest.importorskip("ot")
    ref, r = _pot_usage(ot.da.SinkhornTransport, **dict(params))
    ours, o = _pot_usage(SinkhornTransport, solver="sinkhorn", **dict(params))
    np.testing.assert_allclose(o["cost"], r["cost"], rtol=1e-12)
    keys = ["coupling", "transp_Xs", "new_Xs", "transp_Xt", "labels", "fit_transform"]
    if _version(ot.__version__) < (0, 9, 7):
        # checked against POT 0.9.7; POT 0.9.0 maps out-of-sample points differently (the
        # fitted points, the plan and the labels agree)
        keys.remove("new_Xs")
    for key in keys:
        np.testing.assert_allclose(o[key], r[key], atol=1e-6, err_msg=key)
    # the log-scalings agree up to a constant moved from one to the other
    if "log_u" in ref.log_:
        du = ours.log_["log_u"] - ref.log_["log_u"]
        dv = ours.log_["log_v"] - ref.log_["log_v"]
        np.testing.assert_allclose(du - du.mean(), 0.0, atol=1e-5)
        np.testing.assert_allclose(du.mean() + dv.mean(), 0.0, atol=1e-5)
        np.testing.assert_allclose(dv - dv.mean(), 0.0, atol=1e-5)


def test_pot_semi_supervised_limit_max_runs_alike():
    ot = pytest.importorskip("ot")
    Xs, ys, Xt, yt = _two_domains()
    yt = yt.copy()
    yt[::2] = -1
    plans = []
    for cls, extra in ((ot.da.SinkhornTransport, {}), (SinkhornTransport, {"solver": "sns"})):
        est = cls(reg_e=0.1, norm="max", limit_max=10, **extra)
        plans.append(est.fit(Xs=Xs, ys=ys, Xt=Xt, yt=yt).coupling_)
    np.testing.assert_allclose(plans[1], plans[0], atol=1e-7)
