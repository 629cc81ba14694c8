"""The native function :func:`supervised_dictionary_learning` (a SolverResult)."""

from __future__ import annotations

import numpy as np

from ..._core.loop import LoopMonitor
from ...utils.validation import check_int, check_scalar
from .factors import (
    _bcd,
    _init_factors,
)
from .lifted import _lpgd
from .problem import (
    _OWNER,
    _check_feature_rank,
    _check_solver_options,
    _Data,
    _split_features,
)


def supervised_dictionary_learning(X, y, *, n_components, xi=1.0, mode="filter", solver="bcd",
                                   aux_features=None, alpha_code=0.0, alpha_dict=0.0,
                                   l2_reg=0.0, positive_code=False, positive_dict=False,
                                   max_iter=200, tol=1e-4, step_size="auto", step_decay=0.0,
                                   block_scale="auto", warm_start_iter=None, init="auto",
                                   random_state=None, callback=None, verbose=None):
    """Supervised matrix factorization: a dictionary learned jointly with a classifier.

    With ``X_d`` the dictionary columns of ``X``, ``z`` its auxiliary columns, codes
    ``H`` (one row per sample), atoms ``D`` (rows, ``W = D^T``) and a multinomial
    logistic model with class 0 as reference, minimizes

    ``sum_i l(y_i, s_i) + xi ||X_d - H D||_F^2 + alpha_code ||H||_1 + alpha_dict ||D||_1
    + l2_reg / 2 (||beta||^2 + ||gamma_aux||^2)``

    subject to ``||D_j||_2 <= 1`` (and signs if requested), where the logits are
    ``s_i = beta D x_i + gamma [1; z_i]`` (``mode="filter"``, SMF-W) or
    ``s_i = beta h_i + gamma [1; z_i]`` (``mode="feature"``, SMF-H). For two
    classes ``l(y, s) = log(1 + e^s) - y s``.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Training data. Columns listed in ``aux_features`` go to the classifier only.
        ``xi`` is relative to the scale of ``X``: standardize it first.
    y : array-like of shape (n_samples,)
        Class labels (any type; at least two classes).
    n_components : int
        Number of atoms ``r``.
    xi : float, default=1.0
        Weight of the reconstruction term against the classification loss (``>= 0``;
        ``mode="feature"`` needs ``xi > 0``).
    mode : {"filter", "feature"}, default="filter"
        The classifier reads the projections ``X_d D^T`` (filter) or the codes (feature;
        needs ``n_components <= n_features_dict`` unless ``alpha_code > 0``, so that the
        least-squares codes of new samples are unique).
    solver : {"bcd", "lpgd"}, default="bcd"
        ``"bcd"``: block coordinate descent over (classifier by L-BFGS, dictionary by
        projected gradient, codes). ``"lpgd"``: projected gradient on the lifted convex
        problem in ``A = W beta^T`` (filter) or ``A = beta H`` (feature) and
        ``B = W H`` under ``rank [A, B] <= r`` (exact truncated SVD), warm-started from
        ``warm_start_iter`` BCD sweeps. It penalizes ``l2_reg / 2 ||A||^2`` instead of
        ``||beta||^2`` and has no ``alpha_*`` or ``positive_*`` options.
    aux_features : array-like of int or bool, default=None
        Column indices (negative allowed) or a boolean mask of ``X`` routed only to the
        classifier.
    alpha_code, alpha_dict : float, default=0.0
        l1 weights on the codes and on the atoms (``"bcd"`` only).
    l2_reg : float, default=0.0
        Ridge weight of the classifier coefficients (the intercept is not penalized).
        With ``0`` and separable classes the coefficients grow until ``max_iter``.
    positive_code, positive_dict : bool, default=False
        Non-negative codes / atoms (``"bcd"`` only).
    max_iter : int, default=200
        Maximum number of BCD sweeps or LPGD steps.
    tol : float, default=1e-4
        Stop when the relative change of the objective in one iteration,
        ``|F_{t-1} - F_t| / |F_t|``, is at most ``tol``.
    step_size : "auto" or float, default="auto"
        Multiplier ``eta`` of the ``1/L`` gradient steps (``"auto"`` is ``1.0``): the
        dictionary and feature-mode code blocks in BCD, every block in LPGD. With
        ``eta <= 1`` every step decreases the objective.
    step_decay : float, default=0.0
        ``beta >= 0``: the step of iteration ``t = 0, 1, ...`` is
        ``eta (t + 10)^(-beta) / L`` (not compounded across iterations).
    block_scale : "auto" or float, default="auto"
        LPGD only: the rank-r projection acts on ``[s A, B]``. The singular values of
        ``B ~ X_d`` (about ``sigma_k sqrt(n)``) otherwise swamp ``A``'s column and the
        iterates stay at the PCA dictionary. ``"auto"`` takes ``s^2 = L_A / L_B`` (each
        block moves with its own ``1/L`` step); ``1.0`` is the unscaled problem with one
        step ``1 / max(L_A, 2 xi)``.
    warm_start_iter : int, default=None
        LPGD only: BCD sweeps before the lifted iterations (default
        ``min(20, max_iter)``; ``0`` starts the lifted iterations at the initial point).
    init : {"auto", "svd", "supervised"}, default="auto"
        Initial dictionary: the leading right singular vectors of ``X_d``
        (``"svd"``), the span of the ridge-logistic weight vectors on ``X_d``
        completed by singular vectors of the rest (``"supervised"``), or whichever of
        the two has the lower objective once the classifier is fitted (``"auto"``).
        From ``"svd"`` the classifier weights, and with them the pull of the
        dictionary towards a weak discriminative direction, start near zero: the
        iterates can stay at the PCA dictionary for many iterations.
    random_state : int, RandomState instance or None, default=None
        Seeds the atoms beyond the rank of ``X_d`` (the others come from its SVD).
    callback : callable or None, default=None
        ``callback(state)`` with a :class:`~sparsopt.solvers.SolverState` after every
        iteration: ``x`` is the dictionary for ``"bcd"`` and the stacked lifted iterate
        ``[s A, B]`` for ``"lpgd"`` (the factors are extracted at the end only),
        ``objective`` and ``stop_crit`` as in ``history``, ``info["step_scale"]`` (and
        ``info["stationarity"]`` for ``"lpgd"``). Returning True stops
        (``converged=False``, ``stopped_by == "callback"``).
    verbose : int, bool or None, default=None
        One line per iteration when > 0; ``None`` reads :func:`sparsopt.get_config`.

    Returns
    -------
    result : SolverResult
        ``x``: the atoms ``D = W^T`` of shape (n_components, n_features_dict) (unit l2
        norm or less; orthonormal with ``"lpgd"``); ``n_iter``, ``converged``,
        ``stop_crit`` and ``history`` (one record per iteration with ``objective``: the
        factorized objective for ``"bcd"``, the lifted one for ``"lpgd"``, starting from
        the initial point), and ``info`` with
        ``coef`` (n_classes - 1, n_components), ``intercept`` (n_classes - 1,),
        ``aux_coef`` (n_classes - 1, n_aux), ``classes``, ``codes`` (n_samples,
        n_components), ``dict_features``, ``aux_features``, and for LPGD
        ``block_scale``, ``step_sizes``, ``stationarity`` (norm of the
        projected-gradient mapping at the last step) and ``n_iter_warm_start``.
        ``x, result = supervised_dictionary_learning(...)`` unpacks.

    Warns
    -----
    ConvergenceWarning
        When ``max_iter`` is reached before the objective criterion meets ``tol``.

    Notes
    -----
    LPGD's exponential-convergence guarantee [2]_ needs restricted strong convexity
    and smoothness of the lifted objective; with ``xi * n_features`` much larger than
    the logistic curvature it does not hold, and the starting point matters (hence the
    BCD warm start and ``init="auto"``). Each iteration costs one thin SVD of an
    ``(n_samples + n_classes - 1) x n_features_dict`` matrix.

    In feature mode the codes of new samples come from the reconstruction term alone,
    while the training codes also fit the labels: with a small ``xi`` the training
    codes can absorb the labels, and the filter mode usually generalizes better.

    All computations run in float64; float32 data gives float32 results.

    References
    ----------
    .. [1] J. Lee, H. Lyu and W. Yao, "Supervised matrix factorization: local landscape
       analysis and applications", ICML 2024 (arXiv:2206.06774).
    .. [2] J. Lee, H. Lyu and W. Yao, "Exponentially convergent algorithms for
       supervised matrix factorization", NeurIPS 2023 (arXiv:2311.11182).

    Examples
    --------
    >>> import numpy as np
    >>> from sparsopt.decomposition import supervised_dictionary_learning
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(60, 5))
    >>> y = (X[:, 0] + 0.1 * rng.normal(size=60) > 0).astype(int)
    >>> D, res = supervised_dictionary_learning(X, y, n_components=2, xi=0.1)
    >>> D.shape, res.info["coef"].shape, bool(res.history[-1]["objective"]
    ...                                       <= res.history[0]["objective"])
    ((2, 5), (1, 2), True)
    """
    owner = _OWNER
    X = np.asarray(X)
    if X.ndim != 2:
        raise ValueError(f"{owner}: X must be 2-D (n_samples, n_features), got shape "
                         f"{X.shape}.")
    if X.dtype.kind not in "fiub":
        raise TypeError(f"{owner}: X must be numeric, got dtype {X.dtype}.")
    out_dtype = np.float32 if X.dtype == np.float32 else np.float64
    X = X.astype(np.float64, copy=False)
    if not np.all(np.isfinite(X)):
        raise ValueError(f"{owner}: X contains NaN or infinity; remove or impute them first.")
    y = np.asarray(y)
    if y.ndim != 1 or y.shape[0] != X.shape[0]:
        raise ValueError(f"{owner}: y must be 1-D with one label per row of X; got shape "
                         f"{y.shape} for X of shape {X.shape}.")
    n_components = check_int(n_components, "n_components", owner, lower=1)
    xi = check_scalar(xi, "xi", owner, lower=0.0)
    alpha_code = check_scalar(alpha_code, "alpha_code", owner, lower=0.0)
    alpha_dict = check_scalar(alpha_dict, "alpha_dict", owner, lower=0.0)
    nu = check_scalar(l2_reg, "l2_reg", owner, lower=0.0)
    max_iter = check_int(max_iter, "max_iter", owner, lower=1)
    tol = check_scalar(tol, "tol", owner, lower=0.0)
    step_decay = check_scalar(step_decay, "step_decay", owner, lower=0.0)
    if isinstance(step_size, str):
        if step_size != "auto":
            raise ValueError(f"{owner}: step_size must be 'auto' or a positive float, got "
                             f"{step_size!r}.")
        eta = 1.0
    else:
        eta = check_scalar(step_size, "step_size", owner, lower=0.0, lower_inclusive=False)
    if isinstance(block_scale, str):
        if block_scale != "auto":
            raise ValueError(f"{owner}: block_scale must be 'auto' or a positive float, got "
                             f"{block_scale!r}.")
    else:
        block_scale = check_scalar(block_scale, "block_scale", owner, lower=0.0,
                                   lower_inclusive=False)
    _check_solver_options(mode, solver, alpha_code, alpha_dict, positive_code, positive_dict,
                          xi)
    if warm_start_iter is None:
        warm_start_iter = min(20, max_iter)
    warm_start_iter = check_int(warm_start_iter, "warm_start_iter", owner, lower=0)
    if init not in ("auto", "svd", "supervised"):
        raise ValueError(f"{owner}: init must be 'auto', 'svd' or 'supervised', got {init!r}.")
    dict_idx, aux_idx = _split_features(aux_features, X.shape[1])
    _check_feature_rank(mode, alpha_code, n_components, dict_idx.size)
    classes, yidx = np.unique(y, return_inverse=True)
    if classes.size < 2:
        raise ValueError(f"{owner}: y has {classes.size} class; a classifier needs samples of "
                         "at least 2 classes.")

    data = _Data(X[:, dict_idx], X[:, aux_idx], yidx.ravel(), classes.size, xi, nu,
                 alpha_code, alpha_dict, bool(positive_code), bool(positive_dict))
    name = f"{owner} (solver={solver!r})"
    if callback is not None and not callable(callback):
        raise TypeError(f"{owner}: callback must be callable or None, got {callback!r}.")
    # overflow is caught by the monitor (roll back to the last finite iterate), not warned
    with np.errstate(over="ignore", invalid="ignore"):
        state, init_name = _init_factors(data, mode, n_components, random_state, init)
        info = {"init": init_name}
        if solver == "bcd":
            mon = LoopMonitor(name, max_iter=max_iter, tol=tol, callback=callback,
                              verbose=verbose, criterion="relative objective change",
                              hint="if the objective oscillates, lower step_size", x0=state[0])
            state, _ = _bcd(data, mode, state, max_iter=max_iter, tol=tol, eta=eta,
                            step_decay=step_decay, mon=mon)
        else:
            n_warm = 0
            if warm_start_iter:
                state, n_warm = _bcd(data, mode, state, max_iter=warm_start_iter, tol=tol,
                                     eta=min(eta, 1.0), step_decay=0.0)
            mon = LoopMonitor(name, max_iter=max_iter, tol=tol, callback=callback,
                              verbose=verbose, criterion="relative objective change",
                              hint="if the objective oscillates, lower step_size",
                              keep_finite=False, x0=())
            state, lp_info = _lpgd(data, mode, n_components, state, eta=eta,
                                   step_decay=step_decay, block_scale=block_scale, mon=mon)
            info.update(lp_info, n_iter_warm_start=n_warm)
    D, C, beta, gam = state
    info.update(coef=beta.astype(out_dtype), intercept=gam[:, 0].astype(out_dtype),
                aux_coef=gam[:, 1:].astype(out_dtype), classes=classes,
                codes=C.astype(out_dtype), dict_features=dict_idx, aux_features=aux_idx,
                objective_kind="factorized" if solver == "bcd" else "lifted")
    D_out = np.ascontiguousarray(D, dtype=out_dtype)
    # the factors kept by the loops are the last finite ones; the monitor's ``x`` (the
    # lifted iterate for "lpgd") is replaced by the dictionary
    res = mon.result(D_out, stacklevel=2, **info)
    fields = res._fields()
    fields["x"] = D_out
    return type(res)(**fields)
