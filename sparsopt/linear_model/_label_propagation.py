"""Semi-supervised label propagation on a graph, solved by BCD with tree blocks."""

from __future__ import annotations

import warnings
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context
from sklearn.metrics.pairwise import rbf_kernel
from sklearn.neighbors import NearestNeighbors
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted

from ..datasets._graph_problems import harmonic_system
from ..solvers.blockcd.trees import BLOCK_RULES, label_propagation_bcd
from ..utils.estimator import SparsoptEstimatorMixin

__all__ = ["GraphLabelPropagation"]

_SPARSE = ["csr", "csc", "coo"]


class GraphLabelPropagation(SparsoptEstimatorMixin, ClassifierMixin, BaseEstimator):
    """Semi-supervised label propagation (harmonic functions) solved by tree-block BCD.

    The samples are the nodes of a weighted graph ``W`` (a symmetrised k-NN graph, an
    RBF kernel, or a precomputed adjacency). Labelled samples (``y != -1``) are clamped;
    for each class ``c`` the scores ``F_c`` of the unlabelled nodes minimise
    ``1/2 sum_ij W_ij (F_ic - F_jc)^2``, i.e. solve the sparse SPD system
    ``(D - W)_uu F_uc = W_ul Y_lc`` (the fixed point of scikit-learn's
    :class:`~sklearn.semi_supervised.LabelPropagation`). All classes are solved together
    by :func:`~sparsopt.solvers.label_propagation_bcd`: block coordinate
    descent with exact message-passing solves on forest-shaped blocks, which cost
    ``O(|block|)`` per iteration on sparse graphs. The default, a fixed partition into
    forests with Anderson acceleration, was the fastest in wall time in our runs (about
    10x fewer iterations than plain greedy trees on k-NN graphs of two moons).

    Parameters
    ----------
    kernel : {"knn", "rbf", "precomputed"} or callable, default="knn"
        Graph: ``"knn"`` connects ``i`` and ``j`` (weight 1) when one is among the
        ``n_neighbors`` nearest neighbours of the other (scikit-learn's k-NN graph is
        directed: ``i`` averages its own neighbours); ``"rbf"`` uses
        ``exp(-gamma ||x_i - x_j||^2)`` (a dense graph: small data only);
        ``"precomputed"``: ``X`` is the symmetric non-negative adjacency matrix of shape
        (n_samples, n_samples), dense or sparse; a callable ``kernel(A, B)`` returns the
        non-negative weights between the rows of ``A`` and ``B``, shape
        (n_samples_A, n_samples_B), dense or sparse, as in scikit-learn (its symmetric
        part ``(K + K^T) / 2`` is the graph).
    gamma : float, default=20
        RBF kernel parameter.
    n_neighbors : int, default=7
        Neighbours of the k-NN graph (capped at ``n_samples - 1``).
    n_jobs : int or None, default=None
        Threads of the nearest-neighbour searches (``kernel="knn"``: the graph in
        ``fit``, the neighbours of new samples in ``predict_proba``), passed to
        :class:`~sklearn.neighbors.NearestNeighbors`; ``None`` means 1 unless in a
        :func:`joblib.parallel_backend` context, ``-1`` all processors. The BCD solve is
        sequential (its blocks depend on each other); the RBF kernel uses BLAS threads.
    blocks : {"tree_partition", "greedy_tree", "greedy_tree_lipschitz", "red_black", \
"random_tree", "general"}, default="tree_partition"
        Block rule of the BCD solver (see
        :func:`~sparsopt.solvers.label_propagation_bcd`).
    anderson : int, default=5
        Memory of the Anderson acceleration of the BCD iterates (0: plain BCD).
    max_iter : int, default=1000
        Maximum number of block updates.
    tol : float, default=1e-6
        Stop when ``||A F - B||_F / ||B||_F <= tol``.
    random_state : int, RandomState instance or None, default=None
        Seed of ``blocks="random_tree"``.
    unlabeled_value : int, float, str or None, default=-1
        The value of ``y`` that marks unlabelled samples (scikit-learn's convention is
        ``-1``); ``None`` when every sample is labelled or when ``-1`` is a real class
        (e.g. labels in ``{-1, 1}``).

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels (``unlabeled_value`` excluded).
    label_distributions_ : ndarray of shape (n_samples, n_classes)
        Class distribution of each training node (one-hot on labelled nodes).
    transduction_ : ndarray of shape (n_samples,)
        Label assigned to each training node.
    X_ : {ndarray, sparse matrix} of shape (n_samples, n_features)
        Training data (the adjacency matrix with ``kernel="precomputed"``).
    n_iter_ : int
        BCD iterations (scikit-learn counts its power iterations, which are many more);
        1 when every sample is labelled (the labels are copied, nothing is left to
        propagate).
    converged_ : bool
        Whether the BCD solver reached ``tol``.
    objective_history_ : ndarray
        Objective of the BCD solver after each iteration.
    n_features_in_ : int
        Number of features seen in ``fit``.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen in ``fit`` (string column names only).

    Notes
    -----
    Unlabelled nodes in a connected component without any labelled node have no
    harmonic solution; they get the uniform distribution (with a warning).
    ``predict_proba`` on new samples averages the distributions of their ``n_neighbors``
    nearest training nodes (``"knn"``), weights them by the RBF kernel (``"rbf"``), or by
    the given affinities to the training nodes, an array of shape
    (n_queries, n_samples_fit) (``"precomputed"``); scikit-learn does the same.

    See Also
    --------
    sklearn.semi_supervised.LabelPropagation : the same fixed point, by power iteration.

    References
    ----------
    .. [1] X. Zhu, Z. Ghahramani and J. Lafferty, "Semi-supervised learning using
       Gaussian fields and harmonic functions", ICML 2003.
    .. [2] J. Nutini, I. Laradji and M. Schmidt, "Let's make block coordinate descent
       converge faster: faster greedy rules, message-passing, active-set complexity, and
       superlinear convergence", JMLR 23(131), 2022.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import make_moons
    >>> from sparsopt.linear_model import GraphLabelPropagation
    >>> X, y_true = make_moons(200, noise=0.05, random_state=0)
    >>> y = np.full(200, -1)
    >>> y[:10] = y_true[:10]
    >>> model = GraphLabelPropagation(n_neighbors=7).fit(X, y)
    >>> float(np.mean(model.transduction_ == y_true)) > 0.95
    True
    """

    _parameter_constraints = {
        "kernel": [StrOptions({"knn", "rbf", "precomputed"}), callable],
        "gamma": [Interval(Real, 0, None, closed="neither")],
        "n_neighbors": [Interval(Integral, 1, None, closed="left")],
        "n_jobs": [Integral, None],
        "blocks": [StrOptions(set(BLOCK_RULES))],
        "anderson": [Interval(Integral, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "random_state": ["random_state"],
        "unlabeled_value": [Real, str, None],
    }

    def __init__(self, kernel="knn", *, gamma=20.0, n_neighbors=7, n_jobs=None,
                 blocks="tree_partition", anderson=5, max_iter=1000, tol=1e-6,
                 random_state=None, unlabeled_value=-1):
        self.kernel = kernel
        self.gamma = gamma
        self.n_neighbors = n_neighbors
        self.n_jobs = n_jobs
        self.blocks = blocks
        self.anderson = anderson
        self.max_iter = max_iter
        self.tol = tol
        self.random_state = random_state
        self.unlabeled_value = unlabeled_value

    # ------------------------------------------------------------------ graph

    def _graph(self, X):
        n = X.shape[0]
        if self.kernel == "precomputed" or callable(self.kernel):
            what = "precomputed adjacency" if self.kernel == "precomputed" else "kernel"
            if callable(self.kernel):
                K = self.kernel(X, X)
                if K.shape != (n, n):
                    raise ValueError(f"GraphLabelPropagation: kernel(X, X) must have shape "
                                     f"({n}, {n}), got {K.shape}.")
                W = sp.csr_matrix(K, dtype=np.float64)
                W = ((W + W.T) * 0.5).tocsr()
            elif X.shape[0] != X.shape[1]:
                raise ValueError("GraphLabelPropagation: with kernel='precomputed', X must be "
                                 f"a square adjacency matrix, got shape {X.shape}.")
            else:
                W = sp.csr_matrix(X, dtype=np.float64)
            if W.nnz and W.data.min() < 0:
                raise ValueError(f"GraphLabelPropagation: the {what} must be non-negative.")
            if abs(W - W.T).max() > 1e-12 * (abs(W).max() if W.nnz else 1.0):
                raise ValueError("GraphLabelPropagation: the precomputed adjacency must be "
                                 "symmetric; use (W + W.T) / 2.")
        elif self.kernel == "rbf":
            W = sp.csr_matrix(rbf_kernel(X, gamma=self.gamma).astype(np.float64))
        else:
            k = min(self.n_neighbors, n - 1)
            K = NearestNeighbors(n_neighbors=k, n_jobs=self.n_jobs).fit(X).kneighbors_graph(
                mode="connectivity")
            W = K.maximum(K.T).tocsr().astype(np.float64)
        W = W.tolil()
        W.setdiag(0.0)  # self-loops cancel in the Laplacian
        W = W.tocsr()
        W.eliminate_zeros()
        return W

    # ------------------------------------------------------------------ fit

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Propagate the labels of the labelled samples over the graph.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples, or the adjacency matrix of shape (n_samples, n_samples) with
            ``kernel="precomputed"``.
        y : array-like of shape (n_samples,)
            Labels; ``unlabeled_value`` (default ``-1``) marks unlabelled samples.

        Returns
        -------
        self : GraphLabelPropagation
            Fitted estimator.
        """
        X, y = self._validate_input(X, y, accept_sparse=_SPARSE, y_numeric=False,
                                    ensure_min_samples=2)
        check_classification_targets(y)
        y = np.asarray(y)
        mark = self.unlabeled_value
        unlabeled = np.zeros(y.shape[0], dtype=bool)
        if mark is None:
            pass
        elif y.dtype.kind == "O":
            unlabeled = np.array([v == mark for v in y], dtype=bool)
        elif isinstance(mark, str) == (y.dtype.kind in "US"):  # else: never equal
            unlabeled = np.asarray(y == mark, dtype=bool)
        if unlabeled.all():
            raise ValueError("GraphLabelPropagation: y has no labelled sample; give at least "
                             f"one label (unlabeled_value={mark!r} marks the unlabelled "
                             "samples).")
        self.classes_, y_idx = np.unique(y[~unlabeled], return_inverse=True)
        dtype = X.dtype
        n, n_classes = X.shape[0], self.classes_.size
        W = self._graph(X)
        labeled = np.flatnonzero(~unlabeled)
        F = np.zeros((n, n_classes))
        F[labeled, y_idx] = 1.0
        self.n_iter_, self.converged_, self.objective_history_ = 1, True, np.zeros(0)
        if unlabeled.any():
            n_comp, comp = connected_components(W, directed=False)
            has_label = np.zeros(n_comp, dtype=bool)
            has_label[comp[labeled]] = True
            orphan = unlabeled & ~has_label[comp]
            if orphan.any():
                warnings.warn(
                    f"GraphLabelPropagation: {int(orphan.sum())} unlabelled samples lie in "
                    "connected components of the graph without any labelled sample; they get "
                    "the uniform distribution. Increase n_neighbors (kernel='knn') or add "
                    "labels.", UserWarning, stacklevel=2)
                F[orphan] = 1.0 / n_classes
            keep = np.flatnonzero(~orphan)
            if unlabeled[keep].any():
                Wk = W[keep][:, keep]
                lab_k = np.flatnonzero(~unlabeled[keep])
                A, B, unl_k = harmonic_system(Wk, lab_k, F[keep[lab_k]])
                res = label_propagation_bcd(A, B, blocks=self.blocks, anderson=self.anderson,
                                            max_iter=self.max_iter, tol=self.tol,
                                            random_state=self.random_state)
                Fu = np.clip(res.x, 0.0, None)
                s = Fu.sum(axis=1, keepdims=True)
                Fu = np.where(s > 0, Fu / np.where(s > 0, s, 1.0), 1.0 / n_classes)
                F[keep[unl_k]] = Fu
                self._store_result(res)
        self.label_distributions_ = F.astype(dtype, copy=False)
        self.transduction_ = self.classes_[np.argmax(F, axis=1)]
        self.X_ = X
        if self.kernel == "knn":
            self._nn = NearestNeighbors(n_neighbors=min(self.n_neighbors, n),
                                        n_jobs=self.n_jobs).fit(X)
        return self

    # ------------------------------------------------------------------ predict

    def predict_proba(self, X):
        """Class distributions of new samples from those of the training nodes.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_queries, n_features)
            Samples, or affinities to the training nodes of shape (n_queries,
            n_samples_fit) with ``kernel="precomputed"`` (a callable kernel is called as
            ``kernel(X_, X)``).

        Returns
        -------
        proba : ndarray of shape (n_queries, n_classes)
            Rows sum to one (uniform where a query has no weight on the training nodes).
        """
        check_is_fitted(self)
        X = self._validate_input(X, reset=False, accept_sparse=_SPARSE)
        F = self.label_distributions_.astype(np.float64)
        if self.kernel == "knn":
            idx = self._nn.kneighbors(X, return_distance=False)
            P = F[idx].sum(axis=1)
        elif self.kernel == "rbf":
            P = rbf_kernel(X, self.X_, gamma=self.gamma) @ F
        elif callable(self.kernel):
            K = self.kernel(self.X_, X)  # scikit-learn's argument order
            if (K.data if sp.issparse(K) else np.asarray(K)).min(initial=0.0) < 0:
                raise ValueError("GraphLabelPropagation: the kernel must be non-negative.")
            P = np.asarray(K.T @ F)
        else:
            if (X.data if sp.issparse(X) else X).min(initial=0.0) < 0:
                raise ValueError("GraphLabelPropagation: precomputed affinities must be "
                                 "non-negative.")
            P = np.asarray(X @ F)
        s = P.sum(axis=1, keepdims=True)
        P = np.where(s > 0, P / np.where(s > 0, s, 1.0), 1.0 / F.shape[1])
        return P.astype(X.dtype, copy=False)

    def predict(self, X):
        """Most probable class of new samples.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_queries, n_features)
            As in :meth:`predict_proba`.

        Returns
        -------
        y_pred : ndarray of shape (n_queries,)
        """
        proba = self.predict_proba(X)
        return self.classes_[np.argmax(proba, axis=1)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.input_tags.pairwise = isinstance(self.kernel, str) and self.kernel == "precomputed"
        return tags

    @classmethod
    def _test_params(cls, check_name):
        """Constructor parameters for scikit-learn's estimator checks (tests only)."""
        # scikit-learn's checks pass fully labelled y, with -1 as a real class in one check
        return {"n_neighbors": 5, "max_iter": 200, "unlabeled_value": None}
