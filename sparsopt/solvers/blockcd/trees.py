"""Block coordinate descent with huge tree-structured blocks on sparse quadratics.

``f(x) = 1/2 x'Ax - b'x`` with ``A`` sparse, symmetric positive definite (a graph
Laplacian plus the weights of the edges to the labelled nodes in label propagation).
When the graph induced by a block is a forest, the exact block update costs
``O(|b|)`` by two-pass Gaussian elimination (leaves up, root down), which is what
Gaussian belief propagation computes on trees (Nutini, Laradji and Schmidt 2022, §6).

Blocks: greedy tree blocks grown along the largest ``|grad_i|`` (GS-Tree) or
``|grad_i| / sqrt(A_ii)`` (GSL-Tree), random trees, fixed partitions into forests
(greedy forests, or the two combs of a lattice), red-black (greedy colouring: every
colour class is an independent set, so ``A_bb`` is diagonal) and the "general" block:
the ``n^(1/3)`` largest ``|grad_i|`` solved densely.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components
from sklearn.utils import check_random_state

from ..._core.loop import run_iterations
from ...backends import get_kernel, resolve_backend
from ...utils.validation import check_int, check_scalar

__all__ = [
    "greedy_tree_block",
    "is_forest",
    "label_propagation_bcd",
    "lattice_blocks",
    "red_black_blocks",
    "solve_tree_block",
    "tree_partition_blocks",
]

BLOCK_RULES = ("greedy_tree", "greedy_tree_lipschitz", "tree_partition", "red_black",
               "random_tree", "general")
_ORDERS = ("lipschitz", "natural")


# ----------------------------------------------------------------------------- validation


def _graph_matrix(A, name, owner="label_propagation_bcd"):
    """Canonical float64 CSR copy of a square symmetric matrix, checked."""
    if sp.issparse(A):
        M = sp.csr_matrix(A, dtype=np.float64, copy=True)
    else:
        try:
            arr = np.asarray(A, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"{owner}: {name} must be a numeric matrix: {exc}") from exc
        if arr.ndim != 2:
            raise ValueError(f"{owner}: {name} must be a 2-D square matrix, got shape "
                             f"{arr.shape}.")
        M = sp.csr_matrix(arr)
    if M.shape[0] != M.shape[1]:
        raise ValueError(f"{owner}: {name} must be square, got shape {M.shape}.")
    M.sum_duplicates()
    M.eliminate_zeros()
    M.sort_indices()
    if not np.all(np.isfinite(M.data)):
        raise ValueError(f"{owner}: {name} contains NaN or infinity.")
    if M.nnz:
        asym = abs(M - M.T)
        scale = float(np.abs(M.data).max())
        if asym.nnz and float(asym.max()) > 1e-12 * scale:
            raise ValueError(f"{owner}: {name} must be symmetric (largest |A - A^T| is "
                             f"{float(asym.max()):.3e}).")
    M.indptr = M.indptr.astype(np.int64, copy=False)
    M.indices = M.indices.astype(np.int64, copy=False)
    return M


def _csr_args(M):
    return M.indptr, M.indices, M.data


def _order(M, order, owner):
    if order == "lipschitz":  # L_i = A_ii, largest first (stable: lower index on ties)
        return np.argsort(-M.diagonal(), kind="stable").astype(np.int64)
    if order == "natural":
        return np.arange(M.shape[0], dtype=np.int64)
    raise ValueError(f"{owner}: order must be one of {_ORDERS}, got {order!r}.")


def _kernel(op, engine):
    return get_kernel(op, resolve_backend(op, np.empty(0), engine=engine))


def _split(labels, n_groups):
    order = np.argsort(labels, kind="stable")
    cuts = np.searchsorted(labels[order], np.arange(1, n_groups))
    return tuple(np.sort(b).astype(np.int64) for b in np.split(order, cuts) if b.size)


# ----------------------------------------------------------------------------- block builders


def is_forest(A, nodes):
    """Whether the subgraph of ``A``'s graph induced by ``nodes`` has no cycle.

    The graph has an edge ``(i, j)`` for each non-zero ``A_ij``, ``i != j``.

    Parameters
    ----------
    A : {ndarray, sparse matrix} of shape (n, n)
        Symmetric matrix.
    nodes : array-like of int
        The block.

    Returns
    -------
    forest : bool

    Examples
    --------
    >>> import numpy as np
    >>> from sparsopt.solvers import is_forest
    >>> ring = np.eye(4) * 3 - np.roll(np.eye(4), 1, axis=1) - np.roll(np.eye(4), -1, axis=1)
    >>> is_forest(ring, [0, 1, 2]), is_forest(ring, [0, 1, 2, 3])
    (True, False)
    """
    M = _graph_matrix(A, "A", "is_forest")
    nodes = np.unique(np.asarray(nodes, dtype=np.int64))
    if nodes.size == 0:
        return True
    if nodes[0] < 0 or nodes[-1] >= M.shape[0]:
        raise ValueError(f"is_forest: nodes must lie in [0, {M.shape[0]}).")
    sub = M[nodes][:, nodes].tolil()
    sub.setdiag(0.0)
    sub = sub.tocsr()
    sub.eliminate_zeros()
    n_comp = connected_components(sub, directed=False)[0]
    return sub.nnz // 2 == nodes.size - n_comp


def greedy_tree_block(A, scores, *, engine=None):
    """Greedy tree block: the forest grown along decreasing ``scores``.

    Nodes are visited by decreasing score (lower index first on ties); a node joins the
    block when its neighbours already in the block belong to pairwise different trees,
    and those trees are merged through it (union-find, ``O(nnz(A) alpha(n))``). With
    ``scores = |grad f|`` this is the GS-Tree rule, with ``|grad f| / sqrt(diag A)`` the
    GSL-Tree rule of Nutini, Laradji and Schmidt.

    Parameters
    ----------
    A : {ndarray, sparse matrix} of shape (n, n)
        Symmetric matrix whose non-zeros define the graph.
    scores : ndarray of shape (n,)
        Priority of each node.
    engine : {"auto", "numpy", "numba"}, default=None
        Kernel backend.

    Returns
    -------
    block : ndarray of shape (n_block,)
        Node indices in insertion order; the induced subgraph is a forest.

    References
    ----------
    .. [1] J. Nutini, I. Laradji and M. Schmidt, "Let's make block coordinate descent
       converge faster: faster greedy rules, message-passing, active-set complexity, and
       superlinear convergence", JMLR 23(131), 2022.

    Examples
    --------
    >>> import numpy as np
    >>> from sparsopt.solvers import greedy_tree_block
    >>> ring = np.eye(4) * 3 - np.roll(np.eye(4), 1, axis=1) - np.roll(np.eye(4), -1, axis=1)
    >>> greedy_tree_block(ring, np.array([4.0, 3.0, 2.0, 1.0]))
    array([0, 1, 2])
    """
    M = _graph_matrix(A, "A", "greedy_tree_block")
    scores = np.asarray(scores, dtype=np.float64).ravel()
    if scores.shape != (M.shape[0],) or not np.all(np.isfinite(scores)):
        raise ValueError(f"greedy_tree_block: scores must be a finite array of shape "
                         f"({M.shape[0]},), got shape {scores.shape}.")
    order = np.argsort(-scores, kind="stable").astype(np.int64)
    return _kernel("greedy_forest", engine)(*_csr_args(M), order)


def tree_partition_blocks(A, *, order="lipschitz", engine=None):
    """Partition the nodes of ``A``'s graph into forests (tree-partition blocks).

    Nodes are visited by decreasing ``A_ii`` (``order="lipschitz"``) or in index order
    (``"natural"``); each joins the first forest in which it closes no cycle, or opens
    a new one.

    Parameters
    ----------
    A : {ndarray, sparse matrix} of shape (n, n)
        Symmetric matrix.
    order : {"lipschitz", "natural"}, default="lipschitz"
        Visiting order.
    engine : {"auto", "numpy", "numba"}, default=None
        Kernel backend.

    Returns
    -------
    blocks : tuple of ndarray
        Sorted node indices of each forest; together they cover every node once.

    References
    ----------
    .. [1] J. Nutini, I. Laradji and M. Schmidt, JMLR 23(131), 2022.

    Examples
    --------
    >>> import numpy as np
    >>> from sparsopt.solvers import tree_partition_blocks
    >>> ring = np.eye(4) * 3 - np.roll(np.eye(4), 1, axis=1) - np.roll(np.eye(4), -1, axis=1)
    >>> tree_partition_blocks(ring, order="natural")
    (array([0, 1, 2]), array([3]))
    """
    M = _graph_matrix(A, "A", "tree_partition_blocks")
    ids, n_forests = _kernel("forest_partition", engine)(
        *_csr_args(M), _order(M, order, "tree_partition_blocks"))
    return _split(ids, n_forests)


def red_black_blocks(A, *, order="lipschitz", engine=None):
    """Colour classes of a greedy colouring of ``A``'s graph (red-black blocks).

    Nodes are visited by decreasing ``A_ii`` (or in index order); each takes the
    least-used colour that none of its coloured neighbours has. Every class is an
    independent set, so ``A_bb`` is diagonal.

    Parameters
    ----------
    A : {ndarray, sparse matrix} of shape (n, n)
        Symmetric matrix.
    order : {"lipschitz", "natural"}, default="lipschitz"
        Visiting order.
    engine : {"auto", "numpy", "numba"}, default=None
        Kernel backend.

    Returns
    -------
    blocks : tuple of ndarray
        Sorted node indices of each colour class.

    References
    ----------
    .. [1] J. Nutini, I. Laradji and M. Schmidt, JMLR 23(131), 2022.

    Examples
    --------
    >>> import numpy as np
    >>> from sparsopt.solvers import red_black_blocks
    >>> ring = np.eye(4) * 3 - np.roll(np.eye(4), 1, axis=1) - np.roll(np.eye(4), -1, axis=1)
    >>> red_black_blocks(ring, order="natural")
    (array([0, 2]), array([1, 3]))
    """
    M = _graph_matrix(A, "A", "red_black_blocks")
    col, n_colors = _kernel("greedy_coloring", engine)(
        *_csr_args(M), _order(M, order, "red_black_blocks"))
    return _split(col, n_colors)


def lattice_blocks(rows, cols, kind="tree_partition", nodes=None):
    """The two comb forests (or the two checkerboard colours) of a lattice.

    Nodes of the ``rows x cols`` 4-neighbour lattice are numbered row-major,
    ``i = r * cols + c``. ``"tree_partition"``: the top row with the even columns
    hanging from it (bottom row excluded), and the bottom row with the odd columns
    standing on it (top row excluded): two trees covering every node. ``"red_black"``:
    ``(r + c) % 2``.

    Parameters
    ----------
    rows, cols : int
        Lattice shape.
    kind : {"tree_partition", "red_black"}, default="tree_partition"
        Which blocks.
    nodes : array-like of int, default=None
        The lattice nodes kept as unknowns (e.g. the unlabelled nodes, in the order of
        the problem's variables); the blocks then index positions in ``nodes``.

    Returns
    -------
    blocks : tuple of ndarray
        Non-empty blocks.

    References
    ----------
    .. [1] J. Nutini, I. Laradji and M. Schmidt, JMLR 23(131), 2022.

    Examples
    --------
    >>> from sparsopt.solvers import lattice_blocks
    >>> lattice_blocks(3, 3)
    (array([0, 1, 2, 3, 5]), array([4, 6, 7, 8]))
    """
    owner = "lattice_blocks"
    rows = check_int(rows, "rows", owner, lower=1)
    cols = check_int(cols, "cols", owner, lower=1)
    r, c = np.divmod(np.arange(rows * cols), cols)
    if kind == "red_black":
        lab = (r + c) % 2
    elif kind == "tree_partition":
        lab = np.where((r == 0) | ((c % 2 == 0) & (r < rows - 1)), 0, 1)
    else:
        raise ValueError(f"{owner}: kind must be 'tree_partition' or 'red_black', got "
                         f"{kind!r}.")
    if nodes is not None:
        nodes = np.asarray(nodes, dtype=np.int64).ravel()
        if nodes.size and (nodes.min() < 0 or nodes.max() >= rows * cols):
            raise ValueError(f"{owner}: nodes must lie in [0, {rows * cols}).")
        lab = lab[nodes]
    return _split(lab, 2)


def solve_tree_block(A, b, x, block, *, engine=None):
    """Exact minimisation of ``1/2 x'Ax - b'x`` over the coordinates of a forest block.

    Two-pass elimination on the forest induced by ``block`` (leaves up: ``d_i = A_ii -
    sum_ch A_ich^2 / d_ch``, ``r_i = c_i - sum_ch A_ich r_ch / d_ch``; root down:
    ``x_i = (r_i - A_ip x_p) / d_i``), in ``O(sum of the block's degrees)``.

    Parameters
    ----------
    A : {ndarray, sparse matrix} of shape (n, n)
        Symmetric positive definite on the block.
    b : ndarray of shape (n,) or (n, n_targets)
        Linear term.
    x : ndarray of shape (n,) or (n, n_targets)
        Current point (not modified).
    block : array-like of int
        Nodes whose induced subgraph is a forest.
    engine : {"auto", "numpy", "numba"}, default=None
        Kernel backend.

    Returns
    -------
    x_new : ndarray of the shape of ``x``
        ``x`` with ``x_b = A_bb^{-1} (b_b - A_{b,-b} x_{-b})``.

    Raises
    ------
    ValueError
        If the block's subgraph has a cycle or ``A_bb`` is not positive definite.

    References
    ----------
    .. [1] J. Nutini, I. Laradji and M. Schmidt, JMLR 23(131), 2022.

    Examples
    --------
    >>> import numpy as np
    >>> from sparsopt.solvers import solve_tree_block
    >>> A = np.array([[2.0, -1, 0], [-1, 2, -1], [0, -1, 2]])
    >>> solve_tree_block(A, np.ones(3), np.zeros(3), [0, 1, 2])
    array([1.5, 2. , 1.5])
    """
    owner = "solve_tree_block"
    M = _graph_matrix(A, "A", owner)
    n = M.shape[0]
    b2, one_d = _as_targets(b, "b", n, owner)
    x2, _ = _as_targets(x, "x", n, owner)
    if x2.shape != b2.shape:
        raise ValueError(f"{owner}: x has shape {np.shape(x)}, expected {np.shape(b)}.")
    blk = _check_block(block, n, owner)
    x2 = x2.copy()
    g = np.ascontiguousarray(M @ x2 - b2)
    status = _kernel("tree_block_solve", engine)(
        *_csr_args(M), M.diagonal(), blk, x2, g, np.full(n, -1, dtype=np.int64))
    _raise_status(status, owner)
    return x2[:, 0] if one_d else x2


def _as_targets(v, name, n, owner):
    try:
        arr = np.asarray(v, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{owner}: {name} must be numeric: {exc}") from exc
    one_d = arr.ndim == 1
    if one_d:
        arr = arr[:, None]
    if arr.ndim != 2 or arr.shape[0] != n:
        raise ValueError(f"{owner}: {name} must have shape ({n},) or ({n}, n_targets), got "
                         f"{np.shape(v)}.")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{owner}: {name} contains NaN or infinity.")
    return np.ascontiguousarray(arr), one_d


def _check_block(block, n, owner):
    blk = np.asarray(block)
    if blk.dtype.kind not in "iu" and blk.size:
        raise TypeError(f"{owner}: a block must hold integer node indices, got {blk.dtype}.")
    blk = np.unique(blk.astype(np.int64).ravel())
    if blk.size and (blk[0] < 0 or blk[-1] >= n):
        raise ValueError(f"{owner}: block indices must lie in [0, {n}).")
    return blk


def _raise_status(status, owner):
    if status == 1:
        raise ValueError(f"{owner}: the block's subgraph has a cycle; tree solves need a "
                         "forest (use greedy_tree_block, tree_partition_blocks or "
                         "red_black_blocks).")
    if status == 2:
        raise ValueError(f"{owner}: A is not positive definite on the block (a zero or "
                         "negative pivot). In label propagation this means a connected "
                         "component without any labelled node.")


# ----------------------------------------------------------------------------- the solver


def label_propagation_bcd(A, b, *, blocks="greedy_tree", init=None, max_iter=500, tol=1e-8,
                          order="lipschitz", block_size=None, anderson=0, callback=None,
                          verbose=None, random_state=None, engine=None):
    """Block coordinate descent with tree blocks for ``min 1/2 x'Ax - b'x``.

    ``A`` is sparse symmetric positive definite, e.g. the label-propagation ("harmonic
    function") system ``A = (D - W)_uu``, ``b = W_ul y_l`` on the unlabelled nodes
    ``u``. Each iteration picks a block and minimises exactly over it; blocks that
    induce forests are solved by message passing (two-pass elimination) in ``O(|b|)``,
    the gradient ``g = Ax - b`` is updated incrementally (``g += A[:, b] d``) and
    recomputed exactly every 100 iterations and before declaring convergence.

    **Objective.** ``f(x) = 1/2 x'Ax - b'x`` (summed over the columns of ``b``), the
    quadratic form of :func:`bcd`'s ``loss="quadratic"``: no mean over samples, ``A``
    and ``b`` are a linear system, not a data matrix and targets.

    Parameters
    ----------
    A : {sparse matrix, ndarray} of shape (n, n)
        Symmetric positive definite (non-zeros define the graph).
    b : ndarray of shape (n,) or (n, n_targets)
        Linear term; several columns are solved together (one-vs-rest label
        propagation), with block scores taken from the rows' gradient norms.
    blocks : str or sequence of array-like of int, default="greedy_tree"
        * ``"greedy_tree"``: each iteration, the forest grown greedily along
          decreasing ``||grad_i||`` (GS-Tree);
        * ``"greedy_tree_lipschitz"``: the same along ``||grad_i|| / sqrt(A_ii)``
          (GSL-Tree);
        * ``"random_tree"``: the same along a random order;
        * ``"tree_partition"``: cycle through a partition into forests
          (:func:`tree_partition_blocks`);
        * ``"red_black"``: cycle through the colour classes of a greedy colouring
          (:func:`red_black_blocks`);
        * ``"general"``: the ``block_size`` largest ``||grad_i||``, solved densely;
        * a sequence of blocks (e.g. :func:`lattice_blocks`), cycled; each must induce
          a forest and together they must cover every node.
    init : ndarray of the shape of ``b``, default=None
        Starting point (zeros).
    max_iter : int, default=500
        Number of block updates at most.
    tol : float, default=1e-8
        Stop when the relative residual ``||Ax - b||_F / ||b||_F <= tol``.
    order : {"lipschitz", "natural"}, default="lipschitz"
        Node order of the fixed partitions (``"tree_partition"``, ``"red_black"``).
    block_size : int, default=None
        Size of the ``"general"`` block; ``int(n ** (1/3))`` by default (its dense
        solve then costs ``O(n)``).
    anderson : int, default=0
        Anderson acceleration with this memory (0: off, the paper's plain BCD). The
        iterates after each cycle through a fixed partition (after each iteration for
        the greedy and random rules) are stored; every ``anderson + 1`` of them, their
        extrapolation (Anderson's ``min ||sum_i c_i (x_{i+1} - x_i)||``, ``sum c = 1``)
        replaces ``x`` when it lowers ``f``; one sparse product with ``A`` per attempt.
    callback : callable, default=None
        ``callback(SolverState) -> bool`` after each iteration; True stops
        (``converged=False``, ``info["stopped_by"] == "callback"``).
    verbose : int or None, default=None
        Print one line per iteration when > 0; ``None`` reads
        ``sparsopt.get_config()["verbose"]``.
    random_state : int, RandomState instance or None, default=None
        Seed of ``"random_tree"``.
    engine : {"auto", "numpy", "numba"}, default=None
        Kernel backend (the NumPy reference solves each block densely: slow).

    Returns
    -------
    result : SolverResult
        ``x`` of the shape and float dtype of ``b``; ``history`` holds the objective
        ``f(x)`` after every iteration; ``info`` has ``blocks``, ``n_blocks`` (fixed
        partitions), ``coordinates_updated``, ``effective_passes`` (coordinates updated /
        n) and ``anderson_accepted`` (extrapolations kept).

    Raises
    ------
    ValueError
        If ``A`` is not square, symmetric, finite, with a positive diagonal; if a block
        is not a forest; if ``A`` turns out not positive definite.

    Warns
    -----
    ConvergenceWarning
        Once, if ``max_iter`` iterations leave the relative residual above ``tol``.
    NonFiniteIterateWarning
        If an iterate becomes NaN or infinite: the last finite one is returned.

    References
    ----------
    .. [1] J. Nutini, I. Laradji and M. Schmidt, "Let's make block coordinate descent
       converge faster: faster greedy rules, message-passing, active-set complexity, and
       superlinear convergence", JMLR 23(131), 2022.
    .. [2] X. Zhu, Z. Ghahramani and J. Lafferty, "Semi-supervised learning using
       Gaussian fields and harmonic functions", ICML 2003.
    .. [3] D. G. Anderson, "Iterative procedures for nonlinear integral equations",
       J. ACM 12(4), 1965.

    Examples
    --------
    >>> import numpy as np
    >>> from sparsopt.datasets import make_lattice_label_problem
    >>> from sparsopt.solvers import label_propagation_bcd
    >>> A, b, info = make_lattice_label_problem(10, 10, 10, random_state=0)
    >>> res = label_propagation_bcd(A, b, blocks="greedy_tree", tol=1e-10)
    >>> bool(res.converged), bool(np.allclose(A @ res.x, b, rtol=0, atol=1e-6 * abs(b).max()))
    (True, True)
    """
    owner = "label_propagation_bcd"
    M = _graph_matrix(A, "A", owner)
    n = M.shape[0]
    out_dtype = np.float32 if np.asarray(b).dtype == np.float32 else np.float64
    b2, one_d = _as_targets(b, "b", n, owner)
    if init is None:
        x = np.zeros_like(b2)
    else:
        x, _ = _as_targets(init, "init", n, owner)
        if x.shape != b2.shape:
            raise ValueError(f"{owner}: init has shape {np.shape(init)}, expected "
                             f"{np.shape(b)}.")
        x = x.copy()
    max_iter = check_int(max_iter, "max_iter", owner, lower=1)
    tol = check_scalar(tol, "tol", owner, lower=0.0)
    diag = M.diagonal()
    if n and not np.all(diag > 0):
        i = int(np.flatnonzero(~(diag > 0))[0])
        raise ValueError(f"{owner}: A must have a positive diagonal (A[{i}, {i}] = "
                         f"{diag[i]!r}); in label propagation every unlabelled node needs "
                         "at least one edge.")
    rng = check_random_state(random_state)
    fixed = None
    if isinstance(blocks, str):
        if blocks not in BLOCK_RULES:
            raise ValueError(f"{owner}: blocks must be one of {BLOCK_RULES} or a sequence of "
                             f"index arrays, got {blocks!r}.")
        if order not in _ORDERS:
            raise ValueError(f"{owner}: order must be one of {_ORDERS}, got {order!r}.")
        if blocks == "tree_partition":
            fixed = tree_partition_blocks(M, order=order, engine=engine)
        elif blocks == "red_black":
            fixed = red_black_blocks(M, order=order, engine=engine)
        name = blocks
    else:
        try:
            fixed = tuple(_check_block(blk, n, owner) for blk in blocks)
        except TypeError as exc:
            if "integer" in str(exc):
                raise
            raise TypeError(f"{owner}: blocks must be a rule name or a sequence of index "
                            f"arrays, got {type(blocks).__name__}.") from exc
        fixed = tuple(blk for blk in fixed if blk.size)
        covered = np.zeros(n, dtype=bool)
        for blk in fixed:
            if not is_forest(M, blk):
                raise ValueError(f"{owner}: every block must induce a forest (no cycle); "
                                 f"block {blk[:10]}... has a cycle.")
            covered[blk] = True
        if not covered.all():
            raise ValueError(f"{owner}: the blocks must cover every node; "
                             f"{int((~covered).sum())} nodes are in no block.")
        name = "custom"
    if name == "general":
        if block_size is None:
            block_size = max(int(n ** (1.0 / 3.0) + 1e-9), 1)
        block_size = min(check_int(block_size, "block_size", owner, lower=1), max(n, 1))

    anderson = check_int(anderson, "anderson", owner, lower=0)
    period = len(fixed) if fixed is not None else 1
    indptr, indices, data = _csr_args(M)
    solve = _kernel("tree_block_solve", engine)
    grow = _kernel("greedy_forest", engine)
    pos = np.full(n, -1, dtype=np.int64)
    inv_sqrt_l = 1.0 / np.sqrt(np.where(diag > 0, diag, 1.0))
    b_norm = float(np.linalg.norm(b2))
    b_norm = b_norm if b_norm > 0 else 1.0
    state = SimpleNamespace(x=x, g=np.ascontiguousarray(M @ x - b2), it=0, coords=0,
                            memory=[], accepted=0)

    def extrapolate(s):
        """Anderson step on the stored iterates, kept only if it lowers f."""
        s.memory.append(s.x.ravel().copy())
        if len(s.memory) <= anderson:
            return
        X = np.array(s.memory)
        s.memory = []
        U = np.diff(X, axis=0)
        G = U @ U.T
        G += 1e-12 * max(float(np.trace(G)), 1e-300) * np.eye(G.shape[0])
        try:
            z = np.linalg.solve(G, np.ones(G.shape[0]))
        except np.linalg.LinAlgError:
            return
        if not np.isfinite(z).all() or z.sum() == 0:
            return
        x_acc = ((z / z.sum()) @ X[1:]).reshape(s.x.shape)
        g_acc = np.ascontiguousarray(M @ x_acc - b2)
        if 0.5 * np.vdot(x_acc, g_acc - b2) < 0.5 * np.vdot(s.x, s.g - b2):
            s.x[...] = x_acc
            s.g = g_acc
            s.accepted += 1

    def scores(g):
        s = np.abs(g[:, 0]) if g.shape[1] == 1 else np.sqrt(np.einsum("ij,ij->i", g, g))
        return s * inv_sqrt_l if name == "greedy_tree_lipschitz" else s

    def step(s, it):
        s.it = it
        if n == 0:
            return
        if name == "general":
            blk = np.sort(np.argpartition(-scores(s.g), block_size - 1)[:block_size])
            # the rows of the block, gathered from the CSR arrays: O(nnz of those rows)
            counts = indptr[blk + 1] - indptr[blk]
            rows = np.repeat(np.arange(blk.size), counts)
            ent = np.repeat(indptr[blk] - np.cumsum(counts) + counts, counts)
            ent += np.arange(rows.size)
            cols, vals = indices[ent], data[ent]
            pos[blk] = np.arange(blk.size)
            inside = pos[cols] >= 0
            Abb = np.zeros((blk.size, blk.size))
            Abb[rows[inside], pos[cols[inside]]] = vals[inside]
            pos[blk] = -1
            try:  # Cholesky: a positive-definiteness test and the solve
                low = np.linalg.cholesky(Abb)
            except np.linalg.LinAlgError:
                _raise_status(2, owner)
            d = np.linalg.solve(low.T, np.linalg.solve(low, -s.g[blk]))
            s.x[blk] += d
            # g += A[:, blk] d, with A symmetric: column j of A is row j
            np.add.at(s.g, cols, vals[:, None] * d[rows])
        else:
            if fixed is not None:
                blk = fixed[(it - 1) % len(fixed)]
            else:
                order_ = (rng.permutation(n) if name == "random_tree"
                          else np.argsort(-scores(s.g), kind="stable"))
                blk = grow(indptr, indices, data, order_.astype(np.int64))
            _raise_status(solve(indptr, indices, data, diag, blk, s.x, s.g, pos), owner)
        s.coords += blk.size
        if anderson and it % period == 0:
            extrapolate(s)

    def stop_crit(s, _prev):
        crit = float(np.linalg.norm(s.g)) / b_norm
        if crit <= tol or s.it % 100 == 0:  # exact refresh of the incremental gradient
            s.g = np.ascontiguousarray(M @ s.x - b2)
            crit = float(np.linalg.norm(s.g)) / b_norm
        return crit

    def objective(s):
        return 0.5 * float(np.vdot(s.x, s.g - b2))

    res = run_iterations(step, state, stop_crit=stop_crit, max_iter=max_iter, tol=tol,
                         objective=objective, callback=callback, verbose=verbose,
                         solver=owner, criterion="relative residual ||Ax - b|| / ||b||",
                         hint="or try anderson=5" if not anderson else "",
                         info={"blocks": name,
                               "n_blocks": None if fixed is None else len(fixed)})
    xs = res.x[:, 0] if one_d else res.x
    return type(res)(x=xs.astype(out_dtype, copy=False), n_iter=res.n_iter,
                     converged=res.converged, stop_crit=res.stop_crit, history=res.history,
                     info={**res.info, "coordinates_updated": state.coords,
                           "effective_passes": state.coords / max(n, 1),
                           "anderson_accepted": state.accepted})
