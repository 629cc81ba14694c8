"""Block coordinate descent with greedy selection rules (Nutini, Laradji and Schmidt)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import scipy.sparse as sp

from ..._core.loop import run_iterations
from ...backends import kernel_for
from ...penalties import get_penalty
from ...utils.parallel import blas_limits
from ...utils.validation import check_array, check_int, check_scalar
from .groups import GroupBlockPenalty, GroupSelector, group_options_error
from .rules import (
    PARTITIONS,
    SELECTIONS,
    Selector,
    block_cache,
    make_partition,
)
from .updates import BlockPenalty, Oracle, Updater

LOSSES = ("squared", "logistic", "multinomial", "quadratic")
UPDATES = ("lipschitz", "line_search", "matrix", "newton", "projected_newton", "tmp", "exact")
_MATRIX_UPDATES = ("matrix", "exact", "newton", "projected_newton")
_OWNER = "bcd"
#: coordinate blocks when ``block_size=None`` (a group penalty's blocks are its groups)
DEFAULT_BLOCK_SIZE = 5


def _choice(value, name, options):
    if not isinstance(value, str) or value not in options:
        raise ValueError(f"{_OWNER}: {name} must be one of {list(options)}, got {value!r}.")
    return value


def _build_penalty(penalty, alpha, engine):
    """``(pen, grouped)``: the penalty as a :class:`BlockPenalty` (``None``: a smooth
    problem), or, when it is not separable (``grouped``), the
    :class:`~sparsopt.penalties.Penalty` itself: it then goes through the group channel
    once the number of coordinates is known
    (:class:`~sparsopt.solvers.blockcd.groups.GroupBlockPenalty`)."""
    if penalty is None:
        return BlockPenalty(None), False
    try:
        pen = get_penalty(penalty, alpha)
    except ValueError as exc:
        raise ValueError(f"{_OWNER}: {exc}") from None
    if not pen.is_separable:
        return pen, True
    return BlockPenalty(pen, engine=engine, solver=f"{_OWNER}"), False


#: what each block solve needs from the penalty, and an update that works instead
_UPDATE_NEEDS = {
    "matrix": ("an exact block QP, which exists for the l1, elastic-net and x >= 0 "
               "penalties (optionally combined)", "lipschitz"),
    "exact": ("an exact block QP, which exists for the l1, elastic-net and x >= 0 "
              "penalties (optionally combined)", "lipschitz"),
    "projected_newton": ("a nonsmooth l1, elastic-net or x >= 0 penalty (projected "
                         "Newton solves a block QP with the true Hessian)", None),
    "newton": ("a smooth problem (penalty=None or an elastic net with l1_ratio=0)",
               "projected_newton"),
    "tmp": ("the constraint x >= 0 (Positive(), or L1/ElasticNet + Positive())",
            "projected_newton"),
}


def _check_update_penalty(update, pen):
    """The one check of an update rule against the penalty (``ValueError`` if invalid)."""
    if update not in _UPDATE_NEEDS:  # lipschitz, line_search: any separable penalty
        return
    ok = {"matrix": pen.qp, "exact": pen.qp, "newton": pen.qp and pen.smooth,
          "projected_newton": pen.qp and not pen.smooth,
          "tmp": pen.qp and pen.positive}[update]
    if ok:
        return
    need, alt = _UPDATE_NEEDS[update]
    if alt is None:
        alt = "newton" if pen.smooth else "lipschitz"
    elif alt == "projected_newton" and not pen.qp:
        alt = "lipschitz"
    raise ValueError(
        f"{_OWNER}: update={update!r} does not handle penalty={pen!r}: it needs {need}; "
        f"use update={alt!r} ('lipschitz' and 'line_search' take any separable penalty)."
    )


def _check_pairs(loss, pen, partition, selection, update):
    """Raise ``ValueError`` for rule/update/penalty combinations that are not valid."""
    if selection == "gsq" and update not in _MATRIX_UPDATES:
        raise ValueError(
            f"{_OWNER}: selection='gsq' with update={update!r}: the GSQ rule maximises the "
            "progress bound of a matrix update; use update='matrix' (or 'exact', 'newton', "
            "'projected_newton')."
        )
    if selection == "gsd" and partition == "variable" and update in ("lipschitz",
                                                                       "line_search"):
        raise ValueError(
            f"{_OWNER}: selection='gsd' with partition='variable' and update={update!r}: with "
            "variable blocks GSD uses d_i = L_i, which is not a majoriser of the block Hessian "
            "for a gradient step; use update='matrix', or selection='gsl' (Gershgorin d_i, "
            "valid with any update)."
        )
    if update == "exact" and loss not in ("squared", "quadratic"):
        raise ValueError(f"{_OWNER}: update='exact' with loss={loss!r}: exact block minimisation "
                         "needs loss='squared' or 'quadratic'; use update='newton'.")
    _check_update_penalty(update, pen)


def _prepare_xy(X, y, loss):
    X = check_array(X, "X", _OWNER, ndim=2, allow_sparse=True)
    in_dtype = X.dtype
    if sp.issparse(X):
        X = sp.csc_matrix(X, dtype=np.float64)
        X.sort_indices()
    else:
        X = np.asarray(X, dtype=np.float64)
    n_classes, classes = 1, None
    if loss == "multinomial":
        y = check_array(y, "y", _OWNER, ndim=1, dtype="numeric")
        classes, y = np.unique(y, return_inverse=True)
        n_classes = classes.size
        if n_classes < 2:
            raise ValueError(f"{_OWNER}: y must hold at least 2 classes for loss='multinomial'.")
    else:
        y = np.asarray(check_array(y, "y", _OWNER, ndim=1), dtype=np.float64)
        if loss == "logistic":
            vals = np.unique(y)
            if vals.size != 2:
                raise ValueError(f"{_OWNER}: y must hold exactly 2 distinct values for "
                                 f"loss='logistic', got {vals.size}.")
            y = np.where(y == vals[1], 1.0, -1.0)
    n_rows = X.shape[0]
    if y.shape[0] != n_rows:
        raise ValueError(f"{_OWNER}: X has {n_rows} rows but y has {y.shape[0]} entries.")
    if loss == "quadratic":
        if X.shape[0] != X.shape[1]:
            raise ValueError(f"{_OWNER}: for loss='quadratic' X is the SPD matrix A and must be "
                             f"square, got shape {X.shape}.")
        asym = abs(X - X.T).max() if sp.issparse(X) else np.abs(X - X.T).max()
        if asym > 1e-10 * max(1.0, abs(X).max()):
            raise ValueError(f"{_OWNER}: for loss='quadratic' X must be symmetric.")
        diag = X.diagonal()
        if np.any(diag <= 0):
            raise ValueError(f"{_OWNER}: for loss='quadratic' X must be positive definite "
                             "(its diagonal has entries <= 0).")
    return X, y, n_classes, classes, in_dtype


def bcd(X, y, *, loss="squared", penalty=None, alpha=1.0, partition="sort", block_size=None,
        selection="gsl", update="lipschitz", block_norm="l2", init=None, max_iter=500,
        tol=1e-6, f_star=None, callback=None, verbose=None, random_state=None, engine=None):
    """Block coordinate descent with greedy, Lipschitz-aware selection rules.

    Minimises ``F(x) = f(x) + pen(x)`` one block of coordinates at a time, with the
    partitions, selection rules and update rules of Nutini, Laradji and Schmidt
    (2022).

    **Objective.** With a regression or classification loss on ``(X, y)`` the smooth
    part is scikit-learn's *mean* over the ``n_samples`` rows:

    * ``"squared"``: ``1/(2 n) ||X x - y||^2``;
    * ``"logistic"``: ``(1/n) sum_i log(1 + exp(-y_i x_i^T x))`` (``y`` with two
      values, mapped to -1/+1);
    * ``"multinomial"``: ``(1/n) sum_i logsumexp(x_i^T W) - x_i^T W[:, y_i]`` with
      ``W`` of shape ``(n_features, n_classes)``;
    * ``"quadratic"``: ``1/2 x^T A x - b^T x`` with ``A = X`` symmetric positive
      definite and ``b = y`` (no mean).

    ``pen(x)`` is ``penalty.value(x)`` (0 for ``penalty=None``), so with
    ``penalty="l1"`` and ``loss="squared"`` this is scikit-learn's ``Lasso(alpha)``
    objective without intercept. The paper's sum objective ``1/2 ||X x - y||^2 +
    lambda ||x||_1`` is this one times ``n`` with ``alpha = lambda / n``: the same
    iterates, and ``F`` and ``f_star`` divided by ``n``.

    Parameters
    ----------
    X : {ndarray, sparse matrix} of shape (n_samples, n_features)
        Design matrix (converted to CSC if sparse), or the SPD matrix ``A`` of shape
        ``(n_features, n_features)`` for ``loss="quadratic"``.
    y : ndarray of shape (n_samples,)
        Targets (class labels for the classification losses, ``b`` for quadratics).
    loss : {"squared", "logistic", "multinomial", "quadratic"}, default="squared"
        The smooth part, see above.
    penalty : None, str or Penalty, default=None
        ``None``: a smooth problem. A name (``"l1"``, ``"elasticnet"``, ``"mcp"``,
        ``"scad"``, ``"l0"``, ``"lq"``, ``"log"``, ``"cel0"``, ``"positive"``, ...;
        see :func:`~sparsopt.penalties.get_penalty`) built with strength ``alpha``, or
        any separable :class:`~sparsopt.penalties.Penalty`, including a constrained one
        such as ``L1(alpha) + Positive()`` or ``ElasticNet(alpha, l1_ratio)``. The
        proximal updates (``"lipschitz"``, ``"line_search"``) and every selection rule
        take any separable penalty (through its kernel spec; a non-convex one uses steps
        within its prox's domain); the block solves need a QP form, see ``update``.
        Or a group lasso, :class:`~sparsopt.penalties.GroupL21` (optionally ``+
        Positive()``), through its group spec: the blocks are then its groups, see
        "Group penalties" below.
    alpha : float, default=1.0
        Strength of a penalty given by name (ignored otherwise).
    partition : {"sort", "order", "avg", "hsort", "havg", "variable"}, default="sort"
        Fixed blocks (``n_coordinates`` must be a multiple of ``block_size``):
        contiguous (``"order"``), sorted by ``L_i`` (``"sort"``), or balancing the
        average ``L_i`` (``"avg"``); ``"hsort"`` / ``"havg"`` the same keyed on the
        Hessian row sums ``sum_j |H_ij|`` (their valid bound ``(|A|^T |A| 1)_i`` for
        the GLMs); or ``"variable"``: a new block every iteration. With a group penalty
        the fixed partition is its groups (any fixed name; ``"variable"`` raises).
    block_size : int or None, default=None
        Number of coordinates per block (``tau``); ``None`` means 5. With a group penalty
        the blocks are the groups: ``None`` or the largest group's size.
    selection : str, default="gsl"
        ``"cyclic"`` (VB: random permutation per epoch), ``"random"``, ``"lipschitz"``
        (probability proportional to ``L_b`` / ``L_i``), ``"gs"`` (largest gradient
        norm), ``"gsl"`` (``||g_b|| / sqrt(L_b)``; VB: GSD with Gershgorin bounds
        ``d_i = sum_j |H_ij|``), ``"gsd"`` (``sum g_i^2 / L_i``; VB: ``d_i = L_i``,
        matrix updates only), ``"gsq"`` (``g_b^T H_b^-1 g_b``; VB: the IHT
        approximation), and for nonsmooth penalties ``"gs-q"`` (largest decrease of
        the coordinate-wise proximal model), ``"gs-s"`` (minimum-norm subgradient),
        ``"gs-r"`` (largest proximal step). With a group penalty every rule but
        ``"gsq"`` applies, on whole groups.
    update : str, default="lipschitz"
        ``"lipschitz"`` (proximal gradient step ``1/L_b``, any separable penalty),
        ``"line_search"`` (backtracking on ``L_b``, remembered per coordinate, any
        separable penalty), ``"matrix"`` (``x_b - H_b^-1 g_b`` with the fixed bound
        ``H_b``; with l1 / ``x >= 0`` the block QP is solved exactly), ``"newton"``
        (Newton with Armijo line search, smooth problems), ``"projected_newton"``
        (exact block QP with the true Hessian plus line search; l1 / elastic net /
        ``x >= 0``), ``"tmp"`` (two-metric projection, ``x >= 0``), ``"exact"``
        (exact block minimisation, squared and quadratic losses). The block solves
        (all but the first two) take the penalties with a QP form: ``None``, ``L1``,
        ``ElasticNet``, ``Positive()`` and their ``+ Positive()``; another penalty
        raises one ``ValueError`` naming the update and an update that works. A group
        penalty takes ``"lipschitz"`` and ``"line_search"`` (block soft thresholding).
    block_norm : {"l2", "l1"}, default="l2"
        Norm of the block gradient in the fixed-block GS/GSL/GSD scores: the
        paper's ``"l2"``, or ``"l1"`` as in the authors' code (exact reproduction).
    init : ndarray of shape (n_features,) or (n_features, n_classes), default=None
        Starting point (zeros by default; clipped to the penalty's box).
    max_iter : int, default=500
        Number of block updates (iterations).
    tol : float, default=1e-6
        Stop when ``F(x) - f_star <= tol`` if ``f_star`` is given, otherwise when the
        relative fixed-point residual ``max_i L_i |x_i - prox(x_i - g_i / L_i)|``
        (divided by its value at ``x = 0``) is ``<= tol``.
    f_star : float, default=None
        Optimal value of ``F`` (the mean objective above), for benchmark-style stopping
        on ``F - f_star``.
    callback : callable, default=None
        ``callback(SolverState) -> bool``, called after every iteration; True stops
        (``converged=False``, ``info["stopped_by"] == "callback"``).
    verbose : int or None, default=None
        Print one line per iteration when > 0; ``None`` reads
        ``sparsopt.get_config()["verbose"]``.
    random_state : int, Generator or None, default=None
        Seed of the random rules and of the ``lambda_max`` estimate of IHT.
    engine : {"auto", "numpy", "numba"} or None, default=None
        Kernel backend.

    Returns
    -------
    result : SolverResult
        ``x`` of shape ``(n_features,)`` (``(n_features, n_classes)`` for
        multinomial) in the dtype of ``X`` (computations are float64); ``history``
        has ``objective`` ``F(x)`` after every iteration; ``info`` has
        ``n_selected`` (times each coordinate was in the selected block), for fixed
        partitions ``blocks`` (the partition: an array of shape ``(n_blocks,
        block_size)``, or with a group penalty a list of the groups' index arrays
        followed by the ungrouped features' singletons) and ``block_counts`` (times
        each block was selected),
        ``coordinate_updates``, ``effective_passes`` (updates / n_coordinates),
        ``support_stable_iter`` (first iteration from which the support never
        changed again), ``n_line_search_evals``, ``initial_objective`` (``F(init)``),
        ``classes`` (multinomial), and the rules used.

    Raises
    ------
    ValueError
        Bad shapes, NaN/inf, ``alpha < 0``, unknown names, a partition that does
        not divide the coordinates, and invalid rule/update/penalty pairs (for
        instance GSQ with a gradient update, variable-block GSD with a gradient
        update, projected Newton without an l1 or ``x >= 0`` penalty, a matrix update
        with MCP); with a group penalty, one ``ValueError`` for every option that cuts
        through the groups or needs a QP (``partition="variable"``, a ``block_size``
        other than the largest group's, ``selection="gsq"``, the block solves).
    TypeError
        A penalty that is neither separable nor a sum of group norms over disjoint
        groups (e.g. ``KSupport``, or ``GroupL21`` under a constraint other than
        ``Positive()``): use :func:`~sparsopt.solvers.proximal_gradient`.

    Warns
    -----
    ConvergenceWarning
        Once, when ``max_iter`` is reached before the criterion falls below ``tol``.
    NonFiniteIterateWarning
        When an iterate becomes NaN or infinite: the last finite one is returned.

    Notes
    -----
    Per-iteration cost: the greedy rules need the full gradient, which is maintained
    incrementally rather than recomputed (the rules win on wall time only then):
    sparse ``X`` updates ``X^T phi'(X x)`` on the rows touched by the block
    (``O(nnz)`` of those rows; the full product when that is cheaper), dense ``X``
    with the squared loss and ``n_features <= n_samples`` through the Gram matrix
    (``O(n_features |b|)``), the quadratic loss through ``A[:, b]``; other dense
    GLMs recompute it (``O(nnz(X))``, the cost of any incremental form).
    The Newton line search backtracks by quadratic, then cubic interpolation.
    Fixed-block constants (``L_b``, ``H_b``, ``H_b^-1`` for GSQ, regularised by
    ``1e-10 I``) are computed once for all blocks; variable-block ones every
    iteration.

    Penalties reach the solver only through ``penalty.spec()``: the proximal steps
    and the GS-s/r/q scores use the per-coordinate prox and subdifferential kernels
    of the spec (the minimum-norm subgradient replaces the gradient in the GS, GSL,
    GSD and GSQ scores of a nonsmooth problem). A non-convex penalty whose prox needs a
    bounded step (MCP, SCAD, CEL0) gets curvatures ``max(L, L_min)``, ``L_min`` the
    smallest curvature its ``check_step`` accepts: still a majorisation, so the
    objective decreases monotonically. The block solves (matrix, exact, Newton,
    projected Newton, two-metric) need the QP form ``lam1 |x| + lam2 / 2 x^2``
    (optionally with ``x >= 0``): ``None``, ``L1``, ``ElasticNet``, ``Positive()``.

    **Group penalties.** A penalty that is not separable reaches the solver through
    ``penalty.group_spec()`` (:class:`~sparsopt.penalties.GroupSpec`):
    ``sum_g t_g ||x_g||_2`` over disjoint groups, ``t_g = alpha * w_g``, optionally
    under ``x >= 0``. The blocks are the groups, then every feature in no group as an
    unpenalised singleton (still under ``x >= 0`` with ``Positive()``). A block update
    is the block proximal gradient step ``x_b <- S_b(x_b - g_b / L_b)`` with the block
    soft threshold ``S_b(v) = max(1 - t_b / (L_b ||v||), 0) v`` (of ``max(v, 0)`` under
    ``Positive()``): ``L_b`` is the largest eigenvalue of the block's Hessian bound
    (``"lipschitz"``) or found by backtracking (``"line_search"``), so zero groups are
    exactly zero. The GS, GSL, GSD and GS-s rules score the block's minimum-norm
    subgradient ``s_b`` (``||s_b||`` is the block's distance to its subdifferential),
    GS-r the norm of the block prox step and GS-q the decrease of the block's proximal
    model; the stopping criterion is ``max_b L_b ||x_b - S_b(x_b - g_b / L_b)||``
    (relative to its value at ``x = 0``). With ``loss="multinomial"`` the groups index
    the flat coefficients ``W.ravel()``: ``GroupL21(alpha, groups=n_classes)`` is the
    row-wise group lasso.

    References
    ----------
    .. [1] J. Nutini, I. Laradji and M. Schmidt, "Let's Make Block Coordinate Descent
       Converge Faster: Faster Greedy Rules, Message-Passing, Active-Set Complexity,
       and Superlinear Convergence", JMLR 23(131), 2022. arXiv:1712.08859.

    Examples
    --------
    >>> import numpy as np
    >>> from sparsopt.solvers import bcd
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((30, 20))
    >>> y = X @ np.r_[1.0, -2.0, np.zeros(18)]
    >>> res = bcd(X, y, penalty="l1", alpha=0.05, selection="gs-q", partition="variable",
    ...           block_size=4, update="projected_newton", tol=1e-10, max_iter=200)
    >>> res.converged, np.flatnonzero(res.x).tolist()
    (True, [0, 1])

    Any separable penalty, e.g. MCP under ``x >= 0``, with the proximal update:

    >>> from sparsopt.penalties import MCP, Positive
    >>> res = bcd(X, np.abs(y), penalty=MCP(0.1, gamma=3.0) + Positive(), block_size=4,
    ...           partition="order", selection="gs-s", max_iter=500, tol=1e-8)
    >>> bool(res.converged), bool(res.x.min() >= 0)
    (True, True)

    A group lasso: the blocks are the groups, and a zero group is exactly zero:

    >>> from sparsopt.penalties import GroupL21
    >>> res = bcd(X, y, penalty=GroupL21(0.1, groups=2), selection="gs-q", tol=1e-10,
    ...           max_iter=2000)
    >>> res.converged, np.flatnonzero(res.x).tolist(), len(res.info["blocks"])
    (True, [0, 1], 10)
    """
    loss = _choice(loss, "loss", LOSSES)
    alpha = check_scalar(alpha, "alpha", _OWNER, lower=0.0)
    partition = _choice(partition, "partition", PARTITIONS)
    selection = _choice(selection, "selection", SELECTIONS)
    update = _choice(update, "update", UPDATES)
    block_norm = _choice(block_norm, "block_norm", ("l2", "l1"))
    if block_size is not None:
        block_size = check_int(block_size, "block_size", _OWNER, lower=1)
    max_iter = check_int(max_iter, "max_iter", _OWNER, lower=1)
    tol = check_scalar(tol, "tol", _OWNER, lower=0.0)
    if f_star is not None:
        f_star = check_scalar(f_star, "f_star", _OWNER)
    pen, grouped = _build_penalty(penalty, alpha, engine)  # grouped: pen.group_spec()
    if grouped:
        msg = group_options_error(_OWNER, pen, update, partition, selection, None, None)
        if msg:
            raise ValueError(msg)
    else:
        _check_pairs(loss, pen, partition, selection, update)
    X, y, n_classes, classes, in_dtype = _prepare_xy(X, y, loss)
    rng = np.random.default_rng(random_state)

    oracle = Oracle(loss, X, y, n_classes, engine)
    m = oracle.m
    if grouped:  # blocks = the groups of pen.group_spec (one TypeError if it has none)
        pen = GroupBlockPenalty(pen, oracle, solver=_OWNER)
        msg = group_options_error(_OWNER, pen, update, partition, selection, block_size,
                                  pen.max_size)
        if msg:
            raise ValueError(msg)
        block_size = pen.max_size
    else:
        block_size = DEFAULT_BLOCK_SIZE if block_size is None else block_size
        if block_size > m:
            raise ValueError(f"{_OWNER}: block_size={block_size} exceeds the number of "
                             f"coordinates ({m}).")
        if partition != "variable" and m % block_size:
            raise ValueError(
                f"{_OWNER}: partition={partition!r} needs the number of coordinates ({m}) to "
                f"be a multiple of block_size={block_size}; change block_size or use "
                "partition='variable'."
            )
    shape = (oracle.p, n_classes) if loss == "multinomial" else (oracle.p,)
    if init is None:
        x = np.zeros(m)
    else:
        init = check_array(init, "init", _OWNER)
        if init.shape != shape:
            raise ValueError(f"{_OWNER}: init must have shape {shape}, got {init.shape}.")
        x = pen.project(np.array(init, dtype=np.float64).ravel())
    oracle.init(x)

    if grouped:
        blocks, cache = pen.blocks, {"Lb": pen.Lb}
        selector = GroupSelector(selection, pen, oracle, block_norm, rng)
        updater = Updater(update, oracle, pen, None, cache)

        def kkt(state):  # max_b L_b ||x_b - prox_b(x_b - g_b / L_b)||
            return pen.fixed_point_residual(oracle.x, state.g)
    else:
        H_rows = oracle.gershgorin() if partition in ("hsort", "havg") else None
        blocks = None if partition == "variable" else make_partition(partition, oracle.L,
                                                                     block_size, H_rows)
        cache = block_cache(blocks, oracle, selection, update) if blocks is not None else {}
        selector = Selector(selection, blocks, block_size, oracle, pen, block_norm, rng,
                            cache)
        nnqp = kernel_for("bcd_nnqp", x, engine=engine)
        updater = Updater(update, oracle, pen, nnqp, cache)

        # per-coordinate curvatures of the criterion (raised to the prox's domain)
        L_crit = pen.curv(np.where(oracle.L > 0, oracle.L, 1.0))
        L_live = np.where(oracle.L > 0, L_crit, 0.0)

        def kkt(state):
            xx, g = oracle.x, state.g
            r = L_live * np.abs(pen.prox(xx - g / L_crit, 1.0 / L_crit) - xx)
            return float(r.max()) if r.size else 0.0

    if init is not None:  # the criterion's scale: its value at x = 0 (not at init)
        oracle.init(np.zeros(m))
        kkt_zero = kkt(SimpleNamespace(g=oracle.grad()))
        oracle.init(x)
    state = SimpleNamespace(x=oracle.x, g=oracle.grad().copy())
    state.F = oracle.value() + pen.value(oracle.x)
    kkt0 = kkt(state)
    if init is None:
        kkt_zero = kkt0
    kkt_scale = kkt_zero if kkt_zero > 0 else (kkt0 if kkt0 > 0 else 1.0)
    F0 = float(state.F)
    n_selected = np.zeros(m, dtype=np.int64)
    block_counts = np.zeros(len(blocks) if blocks is not None else 0, dtype=np.int64)
    track = SimpleNamespace(support=oracle.x != 0, last_change=0)

    def step(state, it):
        b, bid = selector(it - 1, state.g)
        updater(b, state.g, bid)
        n_selected[b] += 1
        if bid is not None:
            block_counts[bid] += 1
        state.x = oracle.x
        state.g = oracle.grad().copy()
        state.F = oracle.value() + pen.value(oracle.x)
        supp = oracle.x != 0
        if not np.array_equal(supp, track.support):
            track.support = supp
            track.last_change = it

    if f_star is not None:
        def stop_crit(state, x_prev):
            return state.F - f_star
        criterion = "F(x) - f_star"
    else:
        def stop_crit(state, x_prev):
            return kkt(state) / kkt_scale
        criterion = "relative fixed-point residual max_i L_i |x_i - prox(x_i - g_i / L_i)|"

    with blas_limits(X.nnz if sp.issparse(X) else X.size):
        result = run_iterations(
            step, state, stop_crit=stop_crit, max_iter=max_iter, tol=tol, check_every=1,
            objective=lambda s: s.F, callback=callback, verbose=verbose, solver=_OWNER,
            criterion=criterion,
            hint="a greedy rule (selection='gsl'/'gsq'), a larger block_size or "
                 "update='matrix' converge in fewer iterations",
        )
    n_updates = int(n_selected.sum())
    info = dict(result.info)
    info.update(
        loss=loss, partition=partition, selection=selection, update=update,
        block_size=block_size, block_norm=block_norm, n_selected=n_selected,
        coordinate_updates=n_updates, effective_passes=n_updates / m,
        support_stable_iter=track.last_change, n_line_search_evals=updater.n_ls,
        initial_objective=F0,
    )
    if blocks is not None:
        info["blocks"] = blocks
        info["block_counts"] = block_counts
    if classes is not None:
        info["classes"] = classes
    out_dtype = in_dtype if in_dtype in (np.float32, np.float64) else np.float64
    x_out = np.asarray(result.x, dtype=np.float64).reshape(shape).astype(out_dtype, copy=False)
    return type(result)(x=x_out, n_iter=result.n_iter, converged=result.converged,
                        stop_crit=result.stop_crit, history=result.history, info=info)
