"""Label-propagation problems on graphs (the BCD paper's datasets D and E)."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components
from sklearn.utils import Bunch, check_random_state

from ..utils.validation import check_int, check_scalar

__all__ = ["harmonic_system", "make_knn_label_problem", "make_lattice_label_problem"]


def harmonic_system(W, labeled, y_labeled):
    """The linear system of label propagation on the unlabelled nodes.

    Minimising ``1/2 sum_ij W_ij (x_i - x_j)^2`` with ``x`` fixed to the labels on the
    labelled nodes gives ``A x_u = b`` with ``A = (D - W)_uu`` (``D_ii = sum_j W_ji``,
    edges to labelled nodes included) and ``b = W_ul y_l``.

    Parameters
    ----------
    W : {sparse matrix, ndarray} of shape (n, n)
        Symmetric non-negative weights.
    labeled : ndarray of int
        Indices of the labelled nodes.
    y_labeled : ndarray of shape (n_labeled,) or (n_labeled, n_targets)
        Their values.

    Returns
    -------
    A : scipy.sparse.csr_matrix of shape (n_unlabeled, n_unlabeled)
    b : ndarray of shape (n_unlabeled,) or (n_unlabeled, n_targets)
    unlabeled : ndarray of int
        The unlabelled nodes, in the order of the unknowns.

    Examples
    --------
    >>> import numpy as np
    >>> from sparsopt.datasets import harmonic_system
    >>> W = np.array([[0, 1, 0], [1, 0, 1], [0, 1, 0]])
    >>> A, b, u = harmonic_system(W, np.array([0, 2]), np.array([0.0, 1.0]))
    >>> A.toarray(), b, u
    (array([[2.]]), array([1.]), array([1]))
    """
    W = sp.csr_matrix(W, dtype=np.float64)
    n = W.shape[0]
    labeled = np.asarray(labeled, dtype=np.int64)
    mask = np.zeros(n, dtype=bool)
    mask[labeled] = True
    unlabeled = np.flatnonzero(~mask)
    deg = np.asarray(W.sum(axis=0)).ravel()
    A = (sp.diags(deg) - W).tocsr()[unlabeled][:, unlabeled].tocsr()
    A.eliminate_zeros()
    b = W[unlabeled][:, labeled] @ np.asarray(y_labeled, dtype=np.float64)
    return A, np.asarray(b), unlabeled


def make_lattice_label_problem(rows=50, cols=50, n_labeled=100, *, weight=1e5, label_scale=10.0,
                               random_state=None):
    """Label propagation on a lattice: dataset D of Nutini, Laradji and Schmidt.

    A ``rows x cols`` 4-neighbour lattice (nodes numbered row-major, ``i = r * cols +
    c``) with every edge weighted ``weight``; ``n_labeled`` random nodes carry
    ``y ~ N(0, label_scale^2)``. The unknowns are the other nodes and the quadratic is
    ``f(x) = 1/2 x'Ax - b'x`` of :func:`harmonic_system` (at most 4 neighbours per node).

    Parameters
    ----------
    rows, cols : int, default=50
        Lattice shape.
    n_labeled : int, default=100
        Number of labelled nodes (``1 <= n_labeled < rows * cols``).
    weight : float, default=1e5
        Weight of every edge.
    label_scale : float, default=10.0
        Standard deviation of the labels.
    random_state : int, RandomState instance or None, default=None
        Seed.

    Returns
    -------
    A : scipy.sparse.csr_matrix of shape (n_unlabeled, n_unlabeled)
        Symmetric positive definite.
    b : ndarray of shape (n_unlabeled,)
    info : Bunch
        ``W`` (the lattice weights, csr of shape (n, n)), ``y`` (labels, 0 on unlabelled
        nodes), ``labeled`` and ``unlabeled`` (node indices; ``unlabeled[i]`` is the node of
        unknown ``i``), ``shape`` = ``(rows, cols)``.

    References
    ----------
    .. [1] J. Nutini, I. Laradji and M. Schmidt, "Let's make block coordinate descent
       converge faster", JMLR 23(131), 2022 (dataset D: 50x50, 100 labels, weights 1e5).

    Examples
    --------
    >>> from sparsopt.datasets import make_lattice_label_problem
    >>> A, b, info = make_lattice_label_problem(5, 4, 3, random_state=0)
    >>> A.shape, b.shape, info.unlabeled.size
    ((17, 17), (17,), 17)
    """
    owner = "make_lattice_label_problem"
    rows = check_int(rows, "rows", owner, lower=1)
    cols = check_int(cols, "cols", owner, lower=1)
    n = rows * cols
    n_labeled = check_int(n_labeled, "n_labeled", owner, lower=1)
    if n_labeled >= n:
        raise ValueError(f"{owner}: n_labeled={n_labeled} must be smaller than rows * cols = "
                         f"{n}.")
    weight = check_scalar(weight, "weight", owner, lower=0.0, lower_inclusive=False)
    label_scale = check_scalar(label_scale, "label_scale", owner, lower=0.0)
    rng = check_random_state(random_state)
    idx = np.arange(n).reshape(rows, cols)
    src = np.concatenate([idx[:, :-1].ravel(), idx[:-1, :].ravel()])
    dst = np.concatenate([idx[:, 1:].ravel(), idx[1:, :].ravel()])
    W = sp.coo_matrix((np.full(src.size, weight), (src, dst)), shape=(n, n))
    W = (W + W.T).tocsr()
    labeled = np.sort(rng.choice(n, n_labeled, replace=False))
    y = np.zeros(n)
    y[labeled] = rng.standard_normal(n_labeled) * label_scale
    A, b, unlabeled = harmonic_system(W, labeled, y[labeled])
    return A, b, Bunch(W=W, y=y, labeled=labeled, unlabeled=unlabeled, shape=(rows, cols))


def make_knn_label_problem(n_samples=2000, n_labeled=100, *, n_neighbors=5, noise=0.1,
                           random_state=None):
    """Label propagation on a k-NN graph of two moons: dataset E of Nutini et al.

    Points from :func:`sklearn.datasets.make_moons`; ``W_ij = 1`` if ``j`` is among the
    ``n_neighbors`` nearest neighbours of ``i`` or ``i`` among those of ``j``
    (symmetrised k-NN graph, no self-loop); ``n_labeled`` random points keep their
    label, coded 1 and 2 as in the paper's code (moon 0 and moon 1). The quadratic is
    that of :func:`harmonic_system`.

    Parameters
    ----------
    n_samples : int, default=2000
        Number of points.
    n_labeled : int, default=100
        Number of labelled points.
    n_neighbors : int, default=5
        Neighbours per point before symmetrisation.
    noise : float, default=0.1
        Noise of ``make_moons``.
    random_state : int, RandomState instance or None, default=None
        Seed.

    Returns
    -------
    A : scipy.sparse.csr_matrix of shape (n_unlabeled, n_unlabeled)
    b : ndarray of shape (n_unlabeled,)
    info : Bunch
        ``X`` (points), ``y_true`` (moon of each point, 0/1), ``W`` (csr of shape (n, n)),
        ``y`` (label values 1/2 on labelled points, 0 elsewhere), ``labeled``,
        ``unlabeled``.

    Raises
    ------
    ValueError
        If a connected component of the graph has no labelled point (``A`` would be
        singular): raise ``n_neighbors`` or ``n_labeled``.

    References
    ----------
    .. [1] J. Nutini, I. Laradji and M. Schmidt, JMLR 23(131), 2022 (dataset E: 2000
       points, 5-NN, 100 labels).

    Examples
    --------
    >>> from sparsopt.datasets import make_knn_label_problem
    >>> A, b, info = make_knn_label_problem(200, 20, random_state=0)
    >>> A.shape, info.X.shape
    ((180, 180), (200, 2))
    """
    from sklearn.datasets import make_moons
    from sklearn.neighbors import kneighbors_graph

    owner = "make_knn_label_problem"
    n_samples = check_int(n_samples, "n_samples", owner, lower=3)
    n_labeled = check_int(n_labeled, "n_labeled", owner, lower=1)
    if n_labeled >= n_samples:
        raise ValueError(f"{owner}: n_labeled={n_labeled} must be smaller than n_samples="
                         f"{n_samples}.")
    n_neighbors = check_int(n_neighbors, "n_neighbors", owner, lower=1)
    if n_neighbors >= n_samples:
        raise ValueError(f"{owner}: n_neighbors={n_neighbors} must be smaller than "
                         f"n_samples={n_samples}.")
    noise = check_scalar(noise, "noise", owner, lower=0.0)
    rng = check_random_state(random_state)
    X, y_true = make_moons(n_samples, noise=noise, random_state=rng)
    K = kneighbors_graph(X, n_neighbors, mode="connectivity", include_self=False)
    W = K.maximum(K.T).tocsr().astype(np.float64)
    labeled = np.sort(rng.permutation(n_samples)[:n_labeled])
    n_comp, comp = connected_components(W, directed=False)
    if np.setdiff1d(np.arange(n_comp), comp[labeled]).size:
        raise ValueError(f"{owner}: a connected component of the {n_neighbors}-NN graph has "
                         "no labelled point, so the system is singular; increase n_neighbors "
                         "or n_labeled, or change random_state.")
    y = np.zeros(n_samples)
    y[labeled] = y_true[labeled] + 1.0
    A, b, unlabeled = harmonic_system(W, labeled, y[labeled])
    return A, b, Bunch(X=X, y_true=y_true, W=W, y=y, labeled=labeled, unlabeled=unlabeled)
