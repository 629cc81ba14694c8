"""GraphLabelPropagation: agreement with scikit-learn and a direct solve, checks, errors."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.sparse.linalg import spsolve
from sklearn.datasets import make_moons
from sklearn.exceptions import ConvergenceWarning
from sklearn.neighbors import kneighbors_graph
from sklearn.semi_supervised import LabelPropagation

from sparsopt.linear_model._label_propagation import GraphLabelPropagation
from sparsopt.solvers.blockcd.trees import BLOCK_RULES


def _moons(n=150, n_labeled=12, noise=0.08, seed=0):
    X, y_true = make_moons(n, noise=noise, random_state=seed)
    rng = np.random.default_rng(seed)
    y = np.full(n, -1)
    # a few labels of each moon
    for c in (0, 1):
        idx = rng.choice(np.flatnonzero(y_true == c), n_labeled // 2, replace=False)
        y[idx] = c
    return X, y, y_true


def _harmonic(W, y, classes):
    """Direct sparse solve of (D - W)_uu F_u = W_ul Y_l (the reference)."""
    W = sp.csr_matrix(W, dtype=float)
    lab = np.flatnonzero(y != -1)
    unl = np.flatnonzero(y == -1)
    Y = (y[lab, None] == classes[None, :]).astype(float)
    L = sp.diags(np.asarray(W.sum(axis=1)).ravel()) - W
    Fu = spsolve(L[unl][:, unl].tocsc(), W[unl][:, lab] @ Y)
    F = np.zeros((y.size, classes.size))
    F[lab] = Y
    F[unl] = Fu.reshape(unl.size, -1)
    return F


def test_knn_matches_direct_harmonic_solve():
    X, y, y_true = _moons()
    model = GraphLabelPropagation(n_neighbors=6, tol=1e-9, max_iter=5000).fit(X, y)
    K = kneighbors_graph(X, 6, include_self=False)
    F = _harmonic(K.maximum(K.T), y, np.array([0, 1]))
    np.testing.assert_allclose(model.label_distributions_, F, atol=1e-7)
    assert model.converged_ and model.n_iter_ > 0
    np.testing.assert_array_equal(model.transduction_, np.argmax(F, axis=1))
    assert np.mean(model.transduction_ == y_true) > 0.95
    assert model.objective_history_.size == model.n_iter_


def test_rbf_matches_sklearn_label_propagation():
    X, y, _ = _moons(n=60, n_labeled=8, noise=0.1, seed=1)
    ours = GraphLabelPropagation(kernel="rbf", gamma=5.0, tol=1e-12, max_iter=5000).fit(X, y)
    ref = LabelPropagation(kernel="rbf", gamma=5.0, max_iter=200_000, tol=1e-13).fit(X, y)
    np.testing.assert_allclose(ours.label_distributions_, ref.label_distributions_, atol=1e-6)
    np.testing.assert_array_equal(ours.transduction_, ref.transduction_)
    Xq = X[:7] + 0.05
    np.testing.assert_allclose(ours.predict_proba(Xq), ref.predict_proba(Xq), atol=1e-6)
    np.testing.assert_array_equal(ours.predict(Xq), ref.predict(Xq))


def test_knn_predict_matches_sklearn_rule():
    """New samples average the distributions of their n_neighbors nearest training nodes."""
    X, y, _ = _moons()
    model = GraphLabelPropagation(n_neighbors=5).fit(X, y)
    Xq = np.array([[0.0, 0.5], [1.0, -0.3], [2.0, 0.2]])
    from sklearn.neighbors import NearestNeighbors

    idx = NearestNeighbors(n_neighbors=5).fit(X).kneighbors(Xq, return_distance=False)
    expected = model.label_distributions_[idx].mean(axis=1)
    np.testing.assert_allclose(model.predict_proba(Xq), expected, atol=1e-12)


def test_precomputed_adjacency_equals_knn_graph():
    X, y, _ = _moons()
    K = kneighbors_graph(X, 6, include_self=False)
    W = K.maximum(K.T)
    a = GraphLabelPropagation(n_neighbors=6, tol=1e-9, max_iter=5000).fit(X, y)
    b = GraphLabelPropagation(kernel="precomputed", tol=1e-9, max_iter=5000).fit(W, y)
    c = GraphLabelPropagation(kernel="precomputed", tol=1e-9, max_iter=5000).fit(W.toarray(),
                                                                                   y)
    np.testing.assert_allclose(b.label_distributions_, a.label_distributions_, atol=1e-8)
    np.testing.assert_allclose(c.label_distributions_, a.label_distributions_, atol=1e-8)
    # predict with affinities of queries to the training nodes
    P = b.predict_proba(W[:4])
    expected = W[:4] @ b.label_distributions_
    np.testing.assert_allclose(P, expected / expected.sum(axis=1, keepdims=True), atol=1e-12)
    assert b.__sklearn_tags__().input_tags.pairwise
    with pytest.raises(ValueError, match="square"):
        GraphLabelPropagation(kernel="precomputed").fit(W[:, :-1], y)
    with pytest.raises(ValueError, match="symmetric"):
        GraphLabelPropagation(kernel="precomputed").fit(sp.triu(W).tocsr(), y)
    with pytest.raises(ValueError, match="non-negative"):
        GraphLabelPropagation(kernel="precomputed").fit(-W, y)


@pytest.mark.parametrize("blocks", BLOCK_RULES)
def test_every_block_rule_gives_the_same_labelling(blocks):
    X, y, _ = _moons(n=100, n_labeled=10, seed=2)
    ref = GraphLabelPropagation(tol=1e-8, max_iter=5000).fit(X, y)
    model = GraphLabelPropagation(blocks=blocks, tol=1e-8, max_iter=50000,
                                  random_state=0).fit(X, y)
    np.testing.assert_allclose(model.label_distributions_, ref.label_distributions_,
                               atol=1e-6)


def test_float32_and_multiclass():
    rng = np.random.default_rng(0)
    centers = np.array([[0, 0], [5, 0], [0, 5]], dtype=float)
    X = np.vstack([c + rng.standard_normal((30, 2)) * 0.5 for c in centers]).astype(np.float32)
    y_true = np.repeat(np.arange(3), 30)
    y = y_true.copy()
    unl = np.setdiff1d(np.arange(90), [0, 1, 30, 31, 60, 61])
    y[unl] = -1
    model = GraphLabelPropagation(n_neighbors=5).fit(X, y)
    assert model.label_distributions_.dtype == np.float32
    assert model.predict_proba(X).dtype == np.float32
    np.testing.assert_array_equal(model.classes_, [0, 1, 2])
    assert np.mean(model.transduction_ == y_true) > 0.95
    np.testing.assert_allclose(model.label_distributions_.sum(axis=1), 1.0, rtol=1e-5)


def test_string_labels():
    X, _, y_true = _moons(n=60)
    names = np.array(["left", "right"])
    model = GraphLabelPropagation().fit(X, names[y_true])
    np.testing.assert_array_equal(model.classes_, names)
    assert np.mean(model.predict(X) == names[y_true]) > 0.95


def test_components_without_labels_get_uniform_distribution():
    X = np.array([[0.0], [0.1], [0.2], [10.0], [10.1], [10.2]])
    y = np.array([0, -1, 1, -1, -1, -1])
    with pytest.warns(UserWarning, match="without any labelled sample"):
        model = GraphLabelPropagation(n_neighbors=2).fit(X, y)
    np.testing.assert_allclose(model.label_distributions_[3:], 0.5)
    assert np.all(np.isfinite(model.label_distributions_))


def test_all_labelled_and_convergence_warning():
    X, y, y_true = _moons(n=80)
    model = GraphLabelPropagation().fit(X, y_true)
    assert model.n_iter_ == 1  # nothing to propagate
    np.testing.assert_array_equal(model.transduction_, y_true)
    # -1 as a real class
    y_pm = np.where(y_true == 1, 1, -1)
    model = GraphLabelPropagation(unlabeled_value=None).fit(X, y_pm)
    np.testing.assert_array_equal(model.classes_, [-1, 1])
    # another marker: 99 for the unlabelled samples of a {-1, 1} problem
    y_mark = np.where(y == -1, 99, np.where(y == 1, 1, -1))
    model = GraphLabelPropagation(unlabeled_value=99).fit(X, y_mark)
    np.testing.assert_array_equal(model.classes_, [-1, 1])
    assert np.mean(model.transduction_ == y_pm) > 0.95
    with pytest.warns(ConvergenceWarning, match="max_iter"):
        GraphLabelPropagation(blocks="general", max_iter=2).fit(X, y)


def test_clear_errors():
    X, y, _ = _moons(n=40, n_labeled=4)
    with pytest.raises(ValueError, match="no labelled sample"):
        GraphLabelPropagation().fit(X, np.full(40, -1))
    Xn = X.copy()
    Xn[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        GraphLabelPropagation().fit(Xn, y)
    yn = y.astype(float)
    yn[3] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        GraphLabelPropagation().fit(X, yn)
    with pytest.raises(ValueError, match="kernel"):
        GraphLabelPropagation(kernel="gaussian").fit(X, y)
    with pytest.raises(ValueError, match="blocks"):
        GraphLabelPropagation(blocks="cyclic").fit(X, y)
    with pytest.raises(ValueError, match="Unknown label type"):
        GraphLabelPropagation().fit(X, np.linspace(0, 1, 40))
    model = GraphLabelPropagation().fit(X, y)
    with pytest.raises(ValueError, match="features"):
        model.predict(np.ones((2, 3)))


def test_pickle_and_clone_roundtrip():
    import pickle

    from sklearn.base import clone

    X, y, _ = _moons(n=60)
    model = GraphLabelPropagation(blocks="red_black").fit(X, y)
    again = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(again.predict(X), model.predict(X))
    assert clone(model).get_params() == model.get_params()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        clone(model).fit(X, y)


def test_callable_kernel_matches_rbf_and_sklearn():
    from sklearn.metrics.pairwise import rbf_kernel

    X, y, _ = _moons(n=60, n_labeled=8, noise=0.1, seed=1)

    def kernel(A, B):
        return rbf_kernel(A, B, gamma=5.0)

    ours = GraphLabelPropagation(kernel=kernel, tol=1e-12, max_iter=5000).fit(X, y)
    rbf = GraphLabelPropagation(kernel="rbf", gamma=5.0, tol=1e-12, max_iter=5000).fit(X, y)
    ref = LabelPropagation(kernel=kernel, max_iter=200_000, tol=1e-13).fit(X, y)
    np.testing.assert_allclose(ours.label_distributions_, rbf.label_distributions_, atol=1e-10)
    np.testing.assert_allclose(ours.label_distributions_, ref.label_distributions_, atol=1e-6)
    Xq = X[:5] + 0.05
    np.testing.assert_allclose(ours.predict_proba(Xq), ref.predict_proba(Xq), atol=1e-6)
    with pytest.raises(ValueError, match="kernel must be non-negative"):
        GraphLabelPropagation(kernel=lambda A, B: -kernel(A, B)).fit(X, y)


def test_x_attribute_and_n_jobs():
    X, y, _ = _moons()
    one = GraphLabelPropagation(n_neighbors=5).fit(X, y)
    two = GraphLabelPropagation(n_neighbors=5, n_jobs=2).fit(X, y)
    assert one.X_ is not None and one.X_.shape == X.shape
    np.testing.assert_array_equal(one.X_, X)
    np.testing.assert_array_equal(one.transduction_, two.transduction_)
    np.testing.assert_array_equal(one.predict(X[:9] + 0.01), two.predict(X[:9] + 0.01))
    assert not hasattr(one, "X_fit_")
