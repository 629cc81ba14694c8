"""Online (mini-batch) dictionary learning: ``dict_learning_online`` and
``MiniBatchDictionaryLearning`` (Mairal, Bach, Ponce and Sapiro 2010)."""

from __future__ import annotations

import dataclasses
import math
import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval

from .._core.loop import LoopMonitor, all_finite, resolve_verbose, warn_not_converged
from .._core.progress import progress
from ..backends import _kinds, array_namespace, asarray_on, device, dispatch, is_numpy_namespace
from ..exceptions import ConvergenceWarning
from ..penalties import get_penalty
from ..utils.estimator import check_fitted_namespace
from ..utils.parallel import effective_n_jobs
from ._dict_common import (
    COMMON_CONSTRAINTS,
    BaseDictionaryLearning,
    check_array_api_coder,
    check_callback,
    check_dict_init,
    check_int_param,
    check_n_components,
    check_real_param,
    check_X,
    coder_note,
    encode_codes,
    fix_atoms,
    function_coding_spec,
    lead_signs,
    mirror_coding_spec,
)
from ._dict_update import DEAD_TOL, bcd_sweep, dictionary_kernel

_CRITERION = ("dictionary change per atom ||V_t - V_{t-1}||_F / n_components (tol), or "
              "no improvement of the smoothed batch cost (max_no_improvement)")


def _forgetting_factor(step, b):
    """``beta`` of Mairal et al.'s schedule for the (0-based) ``step`` and batch size ``b``.

    ``theta = (step + 1) b`` while ``step < b - 1``, then ``b^2 + step + 1 - b``;
    ``beta = (theta + 1 - b) / (theta + 1)`` (scikit-learn's choice, spec 3.1).
    """
    theta = (step + 1) * b if step < b - 1 else b * b + step + 1 - b
    return (theta + 1.0 - b) / (theta + 1.0)


def _init_dictionary(X, k, dict_init, rng, owner):
    """``dict_init``, else scikit-learn's ``S V^T`` of the top singular triplets of ``X``.

    scikit-learn uses a randomized SVD; when ``n_features`` is small next to the number
    of atoms (8x8 patches: 64 features, 100 atoms) the exact one from the eigenvectors of
    ``X^T X`` is both cheaper (``n f^2`` flops against ~``16 n f (k + 10)``) and exact.
    Rows beyond the rank are zero (they are resampled). Signs as ``svd_flip`` on ``V``.
    Arrays of other array-API namespaces always get the exact one, in their namespace.
    """
    n, f = X.shape
    if dict_init is not None:
        return check_dict_init(dict_init, k, f, X.dtype, owner, like=X)
    xp = array_namespace(X)
    if not is_numpy_namespace(xp):
        return _init_dictionary_array_api(xp, X, k)
    if f <= 16 * (k + 10):
        X64 = X.astype(np.float64, copy=False)
        w, V = np.linalg.eigh(X64.T @ X64)
        order = np.argsort(w)[::-1][:min(n, f, k)]
        S = np.sqrt(np.maximum(w[order], 0.0))
        Vt = V[:, order].T
        Vt *= lead_signs(Vt, 1)[:, None]
    else:
        from sklearn.utils.extmath import randomized_svd

        _, S, Vt = randomized_svd(X, k, random_state=rng)
    D = S[:, None] * Vt
    if D.shape[0] < k:
        D = np.vstack([D, np.zeros((k - D.shape[0], f), dtype=D.dtype)])
    return np.ascontiguousarray(D[:k], dtype=X.dtype)


def _init_dictionary_array_api(xp, X, k):
    """The exact ``S V^T`` of :func:`_init_dictionary` in the namespace ``xp``."""
    n, f = X.shape
    X64 = xp.astype(X, xp.float64)
    w, V = xp.linalg.eigh(X64.T @ X64)
    order = xp.flip(xp.argsort(w))[:min(n, f, k)]
    S = xp.sqrt(xp.clip(xp.take(w, order), min=0.0))
    Vt = xp.take(V, order, axis=1).T
    Vt = Vt * lead_signs(Vt, 1)[:, None]  # svd_flip's signs
    D = S[:, None] * Vt
    if D.shape[0] < k:
        D = xp.concat([D, xp.zeros((k - D.shape[0], f), dtype=D.dtype, device=device(X))])
    return xp.astype(D, X.dtype)


class _EarlyStopping:
    """scikit-learn's rule: EWA of the batch cost, and the change of the dictionary."""

    def __init__(self, n_samples, batch_size, n_components, tol, max_no_improvement):
        self.n_samples, self.batch_size = n_samples, batch_size
        self.n_components = n_components
        self.tol, self.max_no_improvement = tol, max_no_improvement
        self.ewa = self.ewa_min = None
        self.no_improvement = 0
        self.dict_change = float("inf")

    def __call__(self, step, cost, b, D, D_old):
        """``step`` counts from 1 in this fit; returns the stopping reason or None."""
        if step <= min(100, self.n_samples / b):
            return None  # ignore the first steps (bad initial costs)
        if self.ewa is None:
            self.ewa = cost
        else:
            w = min(b / (self.n_samples + 1), 1.0)
            self.ewa = self.ewa * (1.0 - w) + cost * w
        if isinstance(D, np.ndarray):
            self.dict_change = float(np.linalg.norm(D - D_old)) / self.n_components
        else:  # one synchronisation
            xp = array_namespace(D)
            self.dict_change = float(xp.linalg.vector_norm(D - D_old)) / self.n_components
        if self.tol > 0 and self.dict_change <= self.tol:
            return "tol"
        if self.ewa_min is None or self.ewa < self.ewa_min:
            self.no_improvement, self.ewa_min = 0, self.ewa
        else:
            self.no_improvement += 1
        if self.max_no_improvement is not None \
                and self.no_improvement >= self.max_no_improvement:
            return "max_no_improvement"
        return None


class _LarsBuffers:
    """Work arrays of the direct l1 homotopy call (one set per fit, reused by every batch).

    The specialised kernel is used for the l1 penalty (also under ``+ Positive()``) with
    the ``"lars"`` coder on one thread; the choice reads the penalty's kernel spec.
    """

    def __init__(self, spec, n_rows, k, dtype):
        pen = get_penalty(spec.penalty, alpha=spec.alpha, positive=spec.positive)
        ok = spec.solver == "lars" and effective_n_jobs(spec.n_jobs) == 1
        if ok:
            ps = pen.spec(solver="lars")
            ok = (ps.kind == _kinds.KIND_L1 and ps.upper == np.inf
                  and ps.lower in (0.0, -np.inf))
        self.ok = ok
        self.alpha = float(ps.params[0]) if ok else 0.0
        self.positive = bool(ok and ps.lower == 0.0)
        self.C = np.empty((n_rows, k), dtype=dtype)
        self.B = np.empty((n_rows, k), dtype=dtype)
        self.n_steps = np.zeros(n_rows, dtype=np.int64)
        self.status = np.zeros(n_rows, dtype=np.int64)
        self.quad = np.empty(n_rows, dtype=np.float64)


def _encode_batch(Xb, D, G, spec, buf):
    """Codes of a mini-batch and their summed objective; ``(codes, objective, n_warn)``.

    For l1 with the homotopy (the default) the compiled path kernel is called directly on
    preallocated buffers, which is what :func:`~sparsopt.solvers.coding.lars` does minus its
    per-call validation and bookkeeping (a third of the time of a 256-sample batch).
    Rows whose path does not finish exactly (status != 0) are recomputed through
    :func:`sparsopt.solvers.encode`, which finishes them by coordinate descent, so the
    codes are those of ``encode`` in every case.
    """
    if buf is None or not buf.ok:
        return encode_codes(Xb, D, spec, gram=G, with_objective=True)
    b = Xb.shape[0]
    Bm, C = buf.B[:b], buf.C[:b]
    np.dot(Xb, D.T, out=Bm)
    status, quad = buf.status[:b], buf.quad[:b]
    dispatch("lars_gram", G, Bm, C, buf.alpha, buf.positive, spec.max_iter,
             buf.n_steps[:b], status, quad)
    fit = 0.5 * np.einsum("ij,ij->i", Xb, Xb, dtype=np.float64) + quad
    bad = np.flatnonzero(status)
    n_warn = 0
    if bad.size:
        Cb, obj_bad, n_warn = encode_codes(np.ascontiguousarray(Xb[bad]), D, spec, gram=G,
                                      with_objective=True)
        C[bad] = Cb
        fit[bad] = 0.0
    else:
        obj_bad = 0.0
    l1 = buf.alpha * float(np.abs(C).sum(dtype=np.float64))
    if bad.size:
        l1 -= buf.alpha * float(np.abs(C[bad]).sum(dtype=np.float64))
    return C, float(np.maximum(fit, 0.0).sum()) + l1 + obj_bad, n_warn


def _minibatch_steps(X, starts, batch_size, D, A, Bt, step0, spec, positive_dict, rng,
                     history, stopper=None, monitor=None, current=None, max_steps=None,
                     bar=None):
    """Run the mini-batches ``X[s:s + batch_size]`` for ``s`` in ``starts``, in place.

    ``A`` (k, k) and ``Bt`` (k, f) are the sufficient statistics ``sum beta C^T C / b`` and
    ``sum beta C^T X / b``; ``history`` receives the mean objective of each batch (codes
    against the dictionary before its update). With a ``monitor`` (a
    :class:`~sparsopt._core.loop.LoopMonitor`) each mini-batch is one check (early
    stopping, callback, finiteness); ``current`` holds what the callback sees in
    ``state.info``; ``bar`` (a :func:`~sparsopt._core.progress.progress` reporter) gets
    one unit per mini-batch. Returns ``(steps_done, coder_warnings, n_resampled)``.

    Arrays of another array-API namespace stay there: the coder is the batched FISTA of
    :func:`sparsopt.solvers.encode` on the namespace arrays, the statistics and the atoms
    are updated by the namespace-generic kernels, and the host sees only the scalars of
    the stopping tests (the batch cost, the dictionary change, the number of dead atoms).
    """
    k, f = D.shape
    host = isinstance(D, np.ndarray)
    if host:
        u = np.empty(f, dtype=np.float64)
        D_old = np.empty_like(D) if stopper is not None else None
        idx = np.empty(k, dtype=np.int64)
        stats = dictionary_kernel(None, "stats")
        buf = _LarsBuffers(spec, batch_size, k, D.dtype)
    else:
        xp = array_namespace(D)
        u = idx = buf = None
        D_old = xp.empty_like(D) if stopper is not None else None
        stats = dictionary_kernel(None, "stats", like=D)
    n_warn = n_res = done = 0
    for start in starts:
        if max_steps is not None and done >= max_steps:
            break
        Xb = X[start:min(start + batch_size, X.shape[0]), :]
        b = Xb.shape[0]
        step = step0 + done
        C, obj, w = _encode_batch(Xb, D, D @ D.T, spec, buf)
        n_warn += w
        cost = obj / b
        beta = _forgetting_factor(step, b)
        stats(A, Bt, C, Xb, beta, 1.0 / b, idx)
        if D_old is not None:
            D_old[...] = D
        dead = bcd_sweep(D, A, Bt, Xb, positive_dict, spec.scale_invariant, rng, DEAD_TOL,
                           None, u)
        n_res += int(dead.shape[0])
        history.append(cost)
        done += 1
        if bar is not None:
            bar.update(1, objective=cost)
        if monitor is None:
            continue
        reason = stopper(done, cost, b, D, D_old)
        current.update(batch_cost=cost, ewa_cost=stopper.ewa, inner_stats=(A, Bt.T),
                       objective_history=history)
        crit = stopper.dict_change if stopper.tol > 0 else np.inf
        if monitor.check(step + 1, D, crit if np.isfinite(cost) else np.nan, cost):
            break
        if reason == "max_no_improvement":  # scikit-learn's second rule: a converged fit
            monitor.converged, monitor.stopped_by = True, reason
            break
    return done, n_warn, n_res


def _online_fit(X, k, spec, *, batch_size, max_iter, shuffle, tol, max_no_improvement,
                dict_init, positive_dict, callback, verbose, rng, owner):
    """The fit of the online learner; returns a SolverResult (``x``: the dictionary)."""
    n, f = X.shape
    D = _init_dictionary(X, k, dict_init, rng, owner)
    fix_atoms(D, X, rng, spec, positive_dict)
    b = min(batch_size, n)
    xp = array_namespace(X)
    if is_numpy_namespace(xp):
        A = np.zeros((k, k), dtype=X.dtype)
        B = np.zeros((f, k), dtype=X.dtype, order="F")  # B = X^T C; B.T is C-contiguous
        Bt = B.T
        Xs = X[rng.permutation(n)] if shuffle else X
    else:  # the permutation is drawn on the host (same draws) and moved once
        A = xp.zeros((k, k), dtype=X.dtype, device=device(X))
        Bt = xp.zeros((k, f), dtype=X.dtype, device=device(X))
        Xs = (xp.take(X, asarray_on(rng.permutation(n), X, dtype=xp.int64), axis=0)
              if shuffle else X)
    per_epoch = math.ceil(n / b)
    n_steps = max_iter * per_epoch
    starts = (s for _ in range(max_iter) for s in range(0, n, b))
    stopper = _EarlyStopping(n, b, k, tol, max_no_improvement)
    current = {}

    def monitor_callback(state):
        # the batch statistics go to the callback, not into every history record
        return callback(dataclasses.replace(state, info={**state.info, **current}))

    level = resolve_verbose(verbose)
    # verbose >= 1: a progress bar over the mini-batches; >= 2: the loop's lines too
    mon = LoopMonitor(owner, max_iter=max(n_steps, 1), tol=tol,
                      callback=None if callback is None else monitor_callback,
                      verbose=level if level >= 2 else 0, criterion=_CRITERION, x0=D)
    history = []
    with progress(total=n_steps, desc=owner, verbose=level) as bar:
        done, n_warn, n_res = _minibatch_steps(
            Xs, starts, b, D, A, Bt, 0, spec, positive_dict, rng, history, stopper=stopper,
            monitor=mon, current=current, max_steps=n_steps, bar=bar)
    B = Bt.T
    note = coder_note(spec, n_warn, done, "mini-batches")
    if mon.stopped_by == "max_iter" and n_steps > 0 and (tol > 0
                                                         or max_no_improvement is not None):
        hint = (f"max_iter counts epochs: {max_iter} epochs = {n_steps} mini-batches"
                + (f"; {note}" if note else ""))
        warn_not_converged(owner, _CRITERION, stopper.dict_change, tol, n_steps, hint,
                           stacklevel=3)
    elif note:
        warnings.warn(f"{owner}: {note}.", ConvergenceWarning, stacklevel=3)
    if mon.stopped_by == "nonfinite":
        A = B = None  # the statistics belong to the non-finite step
    res = mon.result(D, warn=False, stacklevel=3, objective_history=np.asarray(history),
                     n_steps=done, n_epochs=math.ceil(done / per_epoch) if per_epoch else 0,
                     ewa_cost=stopper.ewa, inner_stats=(A, B), coder_warnings=n_warn,
                     n_resampled=n_res, coding_solver=spec.solver, batch_size=b)
    return res


def _validate_online(X, n_components, alpha, batch_size, max_iter, tol, max_no_improvement,
                     callback, owner):
    X = check_X(X, owner)
    k = check_n_components(n_components, X.shape[1], owner)
    batch_size = check_int_param(batch_size, "batch_size", owner, 1)
    max_iter = check_int_param(max_iter, "max_iter", owner, 0)
    tol = check_real_param(tol, "tol", owner)
    if max_no_improvement is not None:
        max_no_improvement = check_int_param(max_no_improvement, "max_no_improvement", owner,
                                             1)
    alpha = check_real_param(alpha, "alpha", owner)
    check_callback(callback, owner)
    return X, k, batch_size, max_iter, tol, max_no_improvement, alpha


def learn_dictionary_online(X, n_components=None, *, penalty="l1", alpha=1.0, batch_size=256,
                            max_iter=100, shuffle=True, tol=1e-3, max_no_improvement=10,
                            coding_solver="auto", n_nonzero_coefs=None, dict_init=None,
                            positive_dict=False, coding_max_iter=1000, coding_tol=1e-6,
                            n_jobs=None, random_state=None, callback=None, verbose=None):
    r"""Online dictionary learning (Mairal et al. 2010) over mini-batches.

    Same model as :func:`~sparsopt.decomposition.learn_dictionary`,
    ``min 1/2 ||X - U V||_F^2 + pen(U)`` with ``||V_k||_2 <= 1``, but the atoms are
    updated after every mini-batch of ``b`` samples from the averaged sufficient
    statistics

    .. math::
        A \leftarrow \beta_t A + C_t^T C_t / b, \qquad
        B \leftarrow \beta_t B + X_t^T C_t / b,

    with the forgetting factor ``beta_t = (theta + 1 - b) / (theta + 1)``,
    ``theta = (t + 1) b`` for ``t < b - 1`` and ``b^2 + t + 1 - b`` after (scikit-learn's
    schedule), by one block-coordinate-descent sweep (unused atoms, ``A[k, k] < 1e-6``,
    are replaced by a random row of the batch plus 1% noise). Codes come from
    :func:`sparsopt.solvers.encode` on the batch with its Gram matrix computed once: the
    exact compiled homotopy for l1 (no joblib, no per-sample Python loop), any other
    penalty or OMP otherwise. float32 data stay float32.

    Stops early (scikit-learn's rule) when the dictionary change per atom
    ``||V_t - V_{t-1}||_F / n_components`` is at most ``tol``, or when an exponentially
    weighted average of the batch cost (weight ``b / (n_samples + 1)``, started after
    ``min(100, n_samples / b)`` steps) has not improved for ``max_no_improvement`` steps.

    Objective: the mean per-signal objective ``1/2 ||x - u V||^2 + pen(u)`` of each
    mini-batch (its codes against the dictionary before the update).

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Data.
    n_components : int, default=None
        Number of atoms; ``None``: ``n_features``.
    penalty : str or Penalty, default="l1"
        Penalty of the codes; non-negative codes: ``L1(alpha) + Positive()``.
    alpha : float, default=1.0
        Its strength when ``penalty`` is a name (scikit-learn's ``alpha``).
    batch_size : int, default=256
        Samples per mini-batch (at most ``n_samples``).
    max_iter : int, default=100
        Hard cap on the epochs (passes over the data); 0 returns the initial dictionary.
    shuffle : bool, default=True
        Shuffle the samples (once) before cutting the batches.
    tol : float, default=1e-3
        Early stopping on the dictionary change per atom (0 disables).
    max_no_improvement : int or None, default=10
        Early stopping on the smoothed batch cost (``None`` disables).
    coding_solver : str, default="auto"
        Sparse coder (see :func:`~sparsopt.decomposition.learn_dictionary`).
    n_nonzero_coefs : int, default=None
        Non-zeros per code for OMP/IHT.
    dict_init : array-like of shape (n_components, n_features), default=None
        Initial dictionary; default: ``S V^T`` of an SVD of ``X`` (randomized unless
        ``n_features`` is small; missing atoms drawn from the data).
    positive_dict : bool, default=False
        Non-negative atoms.
    coding_max_iter : int, default=1000
        ``max_iter`` of the coder.
    coding_tol : float, default=1e-6
        ``tol`` of the coder.
    n_jobs : int or None, default=None
        Threads of the coder over blocks of the batch (worth it for large batches only).
    random_state : int, RandomState instance or None, default=None
        Seed of the initialisation, the shuffling and the resampling.
    callback : callable, default=None
        ``callback(state)`` after every mini-batch with a
        :class:`~sparsopt.solvers.SolverState`: ``iteration`` is the mini-batch count,
        ``x`` the dictionary, ``objective`` the batch cost, ``stop_crit`` the dictionary
        change per atom (``inf`` during the first steps), ``info``: ``batch_cost``,
        ``ewa_cost``, ``objective_history`` (the batch costs so far), ``inner_stats``
        ``(A, B)``. Returning True stops. Do not modify the arrays.
    verbose : int, bool or None, default=None
        Progress over the mini-batches when > 0 (a tqdm bar when installed, else plain
        lines, with the batch objective); > 1 adds one line per mini-batch; ``None``
        reads :func:`sparsopt.get_config`.

    Returns
    -------
    result : SolverResult
        ``x``: the atoms, dtype of ``X``; ``n_iter``: mini-batches processed;
        ``converged``: an early-stopping rule fired (``stopped_by`` ``"tol"`` or
        ``"max_no_improvement"``); ``info``: ``objective_history`` (batch costs),
        ``n_steps``, ``n_epochs``, ``ewa_cost``, ``inner_stats`` ``(A, B)``,
        ``coder_warnings``, ``n_resampled``, ``coding_solver``, ``batch_size``.

    Warns
    -----
    ConvergenceWarning
        Once, if ``max_iter`` epochs ran without meeting an enabled early-stopping
        criterion (or the coder did not converge on some batch).

    See Also
    --------
    dict_learning_online : scikit-learn's function (returns the dictionary, or the codes
        and the dictionary).
    MiniBatchDictionaryLearning : the estimator, with ``partial_fit``.

    References
    ----------
    .. [1] J. Mairal, F. Bach, J. Ponce and G. Sapiro, "Online learning for matrix
       factorization and sparse coding", JMLR 11, 2010.

    Examples
    --------
    >>> import numpy as np
    >>> from sparsopt.datasets import make_sparse_coding_problem
    >>> from sparsopt.decomposition import learn_dictionary_online
    >>> X, _, _ = make_sparse_coding_problem(500, 16, 12, 2, noise=0.01)
    >>> res = learn_dictionary_online(X, 12, alpha=0.1, batch_size=50, max_iter=3, tol=0,
    ...                               max_no_improvement=None, random_state=0)
    >>> res.x.shape, res.n_iter, bool(np.all(np.linalg.norm(res.x, axis=1) <= 1 + 1e-12))
    ((12, 16), 30, True)
    """
    owner = "learn_dictionary_online"
    X, k, batch_size, max_iter, tol, max_no_improvement, alpha = _validate_online(
        X, n_components, alpha, batch_size, max_iter, tol, max_no_improvement, callback,
        owner)
    spec = function_coding_spec(penalty, alpha, coding_solver, n_nonzero_coefs,
                                coding_max_iter, coding_tol, n_jobs, owner)
    check_array_api_coder(spec, X, owner, f"coding_solver={coding_solver!r}",
                          "coding_solver='fista'")
    return _online_fit(
        X, k, spec, batch_size=batch_size, max_iter=max_iter, shuffle=shuffle, tol=tol,
        max_no_improvement=max_no_improvement, dict_init=dict_init,
        positive_dict=positive_dict, callback=callback, verbose=verbose,
        rng=check_random_state(random_state), owner=owner)


def dict_learning_online(X, n_components=2, *, alpha=1.0, max_iter=100, return_code=True,
                         dict_init=None, callback=None, batch_size=256, verbose=None,
                         shuffle=True, n_jobs=None, method=None, random_state=None,
                         positive_dict=False, positive_code=False, method_max_iter=None,
                         tol=1e-3, max_no_improvement=10, penalty=None, coding_solver=None,
                         n_nonzero_coefs=None, coding_max_iter=None, coding_tol=1e-6):
    r"""Online dictionary learning, with scikit-learn's return values.

    The algorithm of :func:`learn_dictionary_online` (see it for the model, the
    forgetting schedule and the early stopping), spelled as
    :func:`sklearn.decomposition.dict_learning_online` (its signature, in its order, with
    ``n_components=2`` by default): ``method`` (``"lars"``/``"cd"``: how the l1 codes
    are computed) and ``method_max_iter`` for the coder, ``positive_code`` for
    non-negative codes; sparsopt's coder names (``penalty``, ``coding_solver``,
    ``n_nonzero_coefs``, ``coding_max_iter``) come last and cannot be mixed with
    ``method``/``method_max_iter`` (``ValueError``); and returning
    ``(code, dictionary)`` if ``return_code`` (the default, as scikit-learn; the codes
    of ``X`` against the final dictionary) else the dictionary. Use
    :func:`learn_dictionary_online` for the full :class:`~sparsopt.solvers.SolverResult`.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Data.
    n_components : int or None, default=2
        Number of atoms (scikit-learn's default); ``None``: ``n_features``.
    alpha : float, default=1.0
        Strength of the penalty (scikit-learn's ``alpha``, same scaling).
    max_iter : int, default=100
        Maximum number of epochs (passes over the data).
    return_code : bool, default=True
        Also return the codes of ``X`` against the final dictionary.
    dict_init : array-like of shape (n_components, n_features), default=None
        Initial dictionary; default: ``S V^T`` of an SVD of ``X``.
    callback : callable, default=None
        ``callback(state)`` with a :class:`~sparsopt.solvers.SolverState` after every
        mini-batch (see :func:`learn_dictionary_online`); True stops.
    batch_size : int, default=256
        Samples per mini-batch (at most ``n_samples``).
    verbose : int, bool or None, default=None
        Progress over the mini-batches when > 0 (a tqdm bar when installed, else plain
        lines, with the batch objective); > 1 adds one line per mini-batch; ``None``
        reads :func:`sparsopt.get_config`.
    shuffle : bool, default=True
        Shuffle the samples (once) before cutting the batches.
    n_jobs : int or None, default=None
        Threads of the coder.
    method : {"lars", "cd"}, default=None
        scikit-learn's coder: the l1 codes by the exact homotopy or coordinate descent;
        ``None``: ``"lars"`` unless a sparsopt coder name is set.
    random_state : int, RandomState instance or None, default=None
        Seed of the initialisation, the shuffling and the resampling.
    positive_dict : bool, default=False
        Non-negative atoms.
    positive_code : bool, default=False
        Non-negative codes (the penalty gets ``+ Positive()``; not with OMP/IHT).
    method_max_iter : int, default=None
        ``max_iter`` of the coder (scikit-learn's name of ``coding_max_iter``;
        ``None``: 1000).
    tol : float, default=1e-3
        Early stopping on the dictionary change per atom (0 disables).
    max_no_improvement : int or None, default=10
        Early stopping on the smoothed batch cost (``None`` disables).
    penalty : str or Penalty, default=None
        sparsopt's coder: the penalty of the codes (``None``: ``"l1"``).
    coding_solver : str, default=None
        sparsopt's coder (see :func:`~sparsopt.decomposition.learn_dictionary`;
        ``None``: ``"auto"``).
    n_nonzero_coefs : int, default=None
        Non-zeros per code for OMP/IHT.
    coding_max_iter : int, default=None
        ``max_iter`` of the coder (``None``: 1000).
    coding_tol : float, default=1e-6
        ``tol`` of the coder.

    Returns
    -------
    code : ndarray of shape (n_samples, n_components)
        Only if ``return_code``.
    dictionary : ndarray of shape (n_components, n_features)
        The atoms, dtype of ``X``.

    Warns
    -----
    ConvergenceWarning
        Once, if ``max_iter`` epochs ran without meeting an enabled early-stopping
        criterion (or the coder did not converge on some batch).

    See Also
    --------
    learn_dictionary_online : the native function (a SolverResult).
    MiniBatchDictionaryLearning : the estimator.

    Examples
    --------
    >>> import numpy as np
    >>> from sparsopt.datasets import make_sparse_coding_problem
    >>> from sparsopt.decomposition import dict_learning_online
    >>> X, _, _ = make_sparse_coding_problem(500, 16, 12, 2, noise=0.01)
    >>> D = dict_learning_online(X, 12, alpha=0.1, batch_size=50, max_iter=3, tol=0,
    ...                          max_no_improvement=None, random_state=0,
    ...                          return_code=False)
    >>> D.shape, bool(np.all(np.linalg.norm(D, axis=1) <= 1 + 1e-12))
    ((12, 16), True)
    """
    owner = "dict_learning_online"
    X, k, batch_size, max_iter, tol, max_no_improvement, alpha = _validate_online(
        X, n_components, alpha, batch_size, max_iter, tol, max_no_improvement, callback,
        owner)
    spec = mirror_coding_spec(owner, method, method_max_iter, penalty, alpha, coding_solver,
                              n_nonzero_coefs, coding_max_iter, coding_tol, n_jobs,
                              positive_code)
    check_array_api_coder(spec, X, owner, f"the coder ({spec.solver!r})",
                          "coding_solver='fista'")
    res = _online_fit(
        X, k, spec, batch_size=batch_size, max_iter=max_iter, shuffle=shuffle, tol=tol,
        max_no_improvement=max_no_improvement, dict_init=dict_init,
        positive_dict=positive_dict, callback=callback, verbose=verbose,
        rng=check_random_state(random_state), owner=owner)
    D = res.x
    if return_code:
        code, _, _ = encode_codes(X, D, spec)
        return code, D
    return D


class MiniBatchDictionaryLearning(BaseDictionaryLearning):
    """Online dictionary learning over mini-batches, with ``partial_fit``.

    Learns atoms ``V`` (``components_``) for ``1/2 ||X - U V||_F^2 + alpha * pen(U)``,
    ``||V_k||_2 <= 1``, by the online algorithm of Mairal et al. (see
    :func:`dict_learning_online`): code a mini-batch, update the averaged sufficient
    statistics, one BCD sweep over the atoms. A drop-in for
    :class:`sklearn.decomposition.MiniBatchDictionaryLearning` (same model, scaling,
    forgetting schedule and early stopping) that codes each batch with the compiled exact
    homotopy (or any penalty/solver of :func:`~sparsopt.decomposition.sparse_encode`) and
    updates the atoms in a compiled kernel, float32 end to end. scikit-learn's names
    keep their meanings (``fit_algorithm``: the coder of the fit; ``transform_algorithm``:
    that of :meth:`transform`, default ``"omp"``); sparsopt's coder names come after.

    Parameters
    ----------
    n_components : int, default=None
        Number of atoms; ``None``: ``n_features``.
    alpha : float, default=1.0
        Strength of the penalty of the fit (scikit-learn's scaling).
    max_iter : int, default=1000
        Maximum number of epochs of :meth:`fit` (it usually stops early).
    fit_algorithm : {"lars", "cd", "fista"}, default=None
        scikit-learn's coder of the fit: the l1 codes by the exact homotopy
        (``"lars"``) or coordinate descent (``"cd"``), or (a sparsopt extension) by
        batched FISTA (``"fista"``, the coder that runs on array-API inputs such as
        CuPy arrays). ``None``: ``"lars"`` unless ``penalty``, ``coding_solver`` or
        ``n_nonzero_coefs`` is set (setting both spellings raises ``ValueError``). The
        atoms are always updated by block coordinate descent.
    n_jobs : int or None, default=None
        Threads of the coder.
    batch_size : int, default=256
        Samples per mini-batch.
    shuffle : bool, default=True
        Shuffle the samples (once per :meth:`fit`).
    dict_init : array-like of shape (n_components, n_features), default=None
        Initial dictionary (default: an SVD of the first data seen, randomized unless
        ``n_features`` is small).
    transform_algorithm : {"lasso_lars", "lasso_cd", "lars", "omp", "threshold", \
"fista"}, default=None
        scikit-learn's coder of :meth:`transform` (see
        :func:`~sparsopt.decomposition.sparse_encode`), or (a sparsopt extension)
        ``"fista"``: the l1 codes of ``transform_alpha`` by batched FISTA, which runs on
        array-API inputs. ``None``: scikit-learn's
        default ``"omp"``, except when the fit's coder is spelled the sparsopt way
        (``penalty``, ``coding_solver`` or ``n_nonzero_coefs`` set) or
        ``transform_penalty``/``transform_solver`` is set: then :meth:`transform` uses
        the sparsopt coder (each ``transform_*`` defaulting to its fit counterpart).
    transform_n_nonzero_coefs : int, default=None
        Non-zeros of :meth:`transform` for ``"omp"``/``"lars"`` (``None``:
        scikit-learn's ``int(n_features / 10)`` in ``[1, n_components]``; with the
        sparsopt coder, ``n_nonzero_coefs``).
    transform_alpha : float, default=None
        ``alpha`` of :meth:`transform`; ``None``: ``alpha`` (as scikit-learn).
    verbose : int, bool or None, default=None
        Progress over the mini-batches of :meth:`fit` when > 0 (a tqdm bar when
        installed, else plain lines); > 1 adds one line per mini-batch; ``None`` reads
        :func:`sparsopt.get_config`.
    split_sign : bool, default=False
        :meth:`transform` returns ``[max(c, 0), -min(c, 0)]`` (``2 n_components``
        columns), as scikit-learn.
    random_state : int, RandomState instance or None, default=None
        Seed of the initialisation, shuffling and resampling.
    positive_code : bool, default=False
        Non-negative codes (unlike scikit-learn, also with ``fit_algorithm="lars"``).
    positive_dict : bool, default=False
        Non-negative atoms.
    transform_max_iter : int, default=1000
        ``max_iter`` of the iterative coders (fit and transform, as scikit-learn).
    callback : callable, default=None
        ``callback(state)`` after every mini-batch of :meth:`fit` (see
        :func:`learn_dictionary_online`); True stops. (scikit-learn calls it with
        ``locals()``.)
    tol : float, default=1e-3
        Early stopping on the dictionary change per atom (0 disables).
    max_no_improvement : int or None, default=10
        Early stopping on the smoothed batch cost (``None`` disables).
    penalty : str or Penalty, default=None
        sparsopt's coder of the fit: the penalty of the codes (``None``: ``"l1"``).
    coding_solver : str, default=None
        sparsopt's coder of the fit (``None``: ``"auto"``).
    n_nonzero_coefs : int, default=None
        Non-zeros per code for OMP/IHT during the fit.
    transform_penalty : str or Penalty, default=None
        Penalty of :meth:`transform` (sparsopt's coder); ``None``: the fit's.
    transform_solver : str, default=None
        Solver of :meth:`transform` (sparsopt's coder); ``None``: the fit's, or
        ``"auto"`` when ``transform_penalty`` is set (the fit's solver may not solve it).

    Attributes
    ----------
    components_ : ndarray of shape (n_components, n_features)
        The atoms, dtype of the training data.
    inner_stats_ : tuple of ndarray
        ``(A, B)``: ``A`` of shape (n_components, n_components) and ``B = X^T C`` of shape
        (n_features, n_components), averaged as above; :meth:`partial_fit` continues
        from them.
    n_steps_ : int
        Mini-batches processed (across :meth:`partial_fit` calls).
    n_iter_ : int
        Epochs started by :meth:`fit`.
    objective_history_ : ndarray of shape (`n_steps_`,)
        Mean objective of each mini-batch (its codes against the dictionary before the
        update), appended to by :meth:`partial_fit`.
    converged_ : bool
        Whether :meth:`fit` stopped early on ``tol`` or ``max_no_improvement``.
    n_features_in_ : int
        Number of features seen during ``fit``.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of the features, when ``X`` has string column names.

    Notes
    -----
    **Array API** (CuPy, PyTorch, ``array_api_strict``...): under
    ``sklearn.config_context(array_api_dispatch=True)``, :meth:`fit`,
    :meth:`partial_fit`, :meth:`transform`, :meth:`inverse_transform` and :meth:`score`
    take arrays of any array-API namespace and keep them there (``components_``,
    ``inner_stats_`` and ``objective_history_`` are arrays of that namespace, on its
    device), with the FISTA coder: ``fit_algorithm="fista"`` (or
    ``coding_solver="fista"``/``"ista"``) and ``transform_algorithm="fista"`` (or
    ``transform_solver="fista"``). The host-only coders (``"lars"``, ``"cd"``, ``"omp"``,
    ``"threshold"``...) raise ``TypeError`` naming this alternative. The mini-batch loop
    stays on the device: the host reads only the scalars of the stopping tests (one
    synchronisation each per mini-batch) and draws the random numbers (the shuffling
    permutation, dead-atom resampling), moved to the device as small arrays; the
    initial dictionary is always the exact SVD (no randomized SVD), so the fit equals the
    NumPy fit with the same coder and seed up to rounding when ``n_features`` is small
    next to ``n_components`` (``n_features <= 16 (n_components + 10)``). ``n_jobs`` is
    not used for such arrays (the batch is coded as one block).

    See Also
    --------
    DictionaryLearning : the batch algorithm.

    References
    ----------
    .. [1] J. Mairal, F. Bach, J. Ponce and G. Sapiro, "Online learning for matrix
       factorization and sparse coding", JMLR 11, 2010.

    Examples
    --------
    >>> from sparsopt.datasets import make_sparse_coding_problem
    >>> from sparsopt.decomposition import MiniBatchDictionaryLearning
    >>> X, _, _ = make_sparse_coding_problem(400, 16, 12, 2, noise=0.01)
    >>> dl = MiniBatchDictionaryLearning(12, alpha=0.1, batch_size=40, max_iter=5,
    ...                                  transform_algorithm="lasso_lars",
    ...                                  random_state=0).fit(X)
    >>> dl.components_.shape, dl.transform(X[:3]).shape, dl.n_steps_ > 0
    ((12, 16), (3, 12), True)
    """

    _parameter_constraints = {
        **COMMON_CONSTRAINTS,
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "max_iter": [Interval(Integral, 0, None, closed="left")],
        "shuffle": ["boolean"],
        "tol": [Interval(Real, 0, None, closed="left")],
        "max_no_improvement": [Interval(Integral, 1, None, closed="left"), None],
    }

    def __init__(self, n_components=None, *, alpha=1.0, max_iter=1000, fit_algorithm=None,
                 n_jobs=None, batch_size=256, shuffle=True, dict_init=None,
                 transform_algorithm=None, transform_n_nonzero_coefs=None,
                 transform_alpha=None, verbose=None, split_sign=False, random_state=None,
                 positive_code=False, positive_dict=False, transform_max_iter=1000,
                 callback=None, tol=1e-3, max_no_improvement=10, penalty=None,
                 coding_solver=None, n_nonzero_coefs=None, transform_penalty=None,
                 transform_solver=None):
        self.n_components = n_components
        self.alpha = alpha
        self.max_iter = max_iter
        self.fit_algorithm = fit_algorithm
        self.n_jobs = n_jobs
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.dict_init = dict_init
        self.transform_algorithm = transform_algorithm
        self.transform_n_nonzero_coefs = transform_n_nonzero_coefs
        self.transform_alpha = transform_alpha
        self.verbose = verbose
        self.split_sign = split_sign
        self.random_state = random_state
        self.positive_code = positive_code
        self.positive_dict = positive_dict
        self.transform_max_iter = transform_max_iter
        self.callback = callback
        self.tol = tol
        self.max_no_improvement = max_no_improvement
        self.penalty = penalty
        self.coding_solver = coding_solver
        self.n_nonzero_coefs = n_nonzero_coefs
        self.transform_penalty = transform_penalty
        self.transform_solver = transform_solver

    def fit(self, X, y=None):
        """Learn the dictionary from ``X`` (resets any previous state).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.
        y : Ignored
            Not used, present for API consistency.

        Returns
        -------
        self : MiniBatchDictionaryLearning
        """
        self._validate_params()
        X = self._validate_input(X)
        if isinstance(X, np.ndarray):
            X = np.ascontiguousarray(X)
        _, coding_solver, n_nonzero_coefs = self._fit_coder()
        spec = self._fit_spec()  # errors name the estimator's parameters
        self._transform_spec(at_fit=True)  # bad transform_* parameters fail before the fit
        check_array_api_coder(spec, X, type(self).__name__, self._fit_coder_name(),
                              self._fit_coder_alternative())
        self._random_state = check_random_state(self.random_state)
        res = learn_dictionary_online(
            X, self.n_components, penalty=self._code_penalty(), alpha=self.alpha,
            batch_size=self.batch_size, max_iter=self.max_iter, shuffle=self.shuffle,
            tol=self.tol, max_no_improvement=self.max_no_improvement,
            coding_solver=coding_solver, n_nonzero_coefs=n_nonzero_coefs,
            dict_init=self.dict_init, positive_dict=self.positive_dict,
            coding_max_iter=self.transform_max_iter, n_jobs=self.n_jobs,
            random_state=self._random_state, callback=self.callback, verbose=self.verbose)
        D, (A, B), done = res.x, res.info["inner_stats"], res.info["n_steps"]
        self.components_ = D
        self.inner_stats_ = (A, B)
        self.n_steps_ = int(done)
        self.n_iter_ = int(res.info["n_epochs"])
        self.converged_ = bool(res.converged)
        self._set_history(list(res.info["objective_history"]), X)
        return self

    def _set_history(self, history, X):
        """``objective_history_`` from the host floats ``history``, in the namespace of
        ``X`` (moved once, after the loop); the host list is kept for partial_fit."""
        self._objective_history = history
        if isinstance(X, np.ndarray):
            self.objective_history_ = np.asarray(history)
        else:
            xp = array_namespace(X)
            self.objective_history_ = asarray_on(np.asarray(history, dtype=np.float64), X,
                                                 dtype=xp.float64)

    def partial_fit(self, X, y=None):
        """Update the model with the chunk ``X``, in mini-batches of ``batch_size``.

        The chunk is cut in order (no shuffling) into batches of ``batch_size`` samples
        (the last one may be smaller), each processed as in :meth:`fit`; the statistics
        ``inner_stats_`` and the step counter ``n_steps_`` (which drives the forgetting
        schedule) continue across calls, so feeding a data set in chunks that are
        multiples of ``batch_size`` gives the same model as one call with all of it. The
        first call initialises the dictionary (``dict_init``, else an SVD of the
        chunk). No early stopping, no ``callback``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            A chunk of data.
        y : Ignored
            Not used, present for API consistency.

        Returns
        -------
        self : MiniBatchDictionaryLearning
        """
        first = not hasattr(self, "components_")
        if first:
            self._validate_params()
        X = self._validate_input(X, reset=first)
        if not first:
            check_fitted_namespace(X, self, "components_", "partial_fit")
        xp = array_namespace(X)
        host = is_numpy_namespace(xp)
        if host:
            X = np.ascontiguousarray(X)
        owner = type(self).__name__
        spec = self._fit_spec()
        check_array_api_coder(spec, X, owner, self._fit_coder_name(),
                              self._fit_coder_alternative())
        if first:
            self._transform_spec(at_fit=True)
            k = check_n_components(self.n_components, X.shape[1], owner)
            self._random_state = check_random_state(self.random_state)
            D = _init_dictionary(X, k, self.dict_init, self._random_state, owner)
            fix_atoms(D, X, self._random_state, spec, self.positive_dict)
            if host:
                A = np.zeros((k, k), dtype=X.dtype)
                B = np.zeros((X.shape[1], k), dtype=X.dtype, order="F")
            else:
                A = xp.zeros((k, k), dtype=X.dtype, device=device(X))
                B = xp.zeros((k, X.shape[1]), dtype=X.dtype, device=device(X)).T
            self.n_steps_, self.n_iter_, self.converged_ = 0, 0, False
            history = []
        else:
            D = self.components_
            A, B = self.inner_stats_
            if D.dtype != X.dtype:  # keep the dtype of the first chunk
                X = X.astype(D.dtype) if host else xp.astype(X, D.dtype)
            history = list(getattr(self, "_objective_history", None)
                           or (self.objective_history_ if host else []))
        b = self.batch_size
        Bt = B.T if host else xp.asarray(B.T, copy=True)  # (k, f), updated in place
        done, n_warn, _ = _minibatch_steps(
            X, range(0, X.shape[0], b), b, D, A, Bt, self.n_steps_, spec,
            self.positive_dict, self._random_state, history)
        B = B if host else Bt.T
        if not all_finite(D):  # pragma: no cover - finite data give finite atoms
            raise FloatingPointError(f"{owner}.partial_fit: non-finite dictionary; check the "
                                     "scaling of X.")
        if n_warn:
            warnings.warn(f"{owner}.partial_fit: the sparse coder ({spec.solver}) did not "
                          f"converge in {n_warn} of {done} mini-batches; increase "
                          "transform_max_iter.", ConvergenceWarning, stacklevel=2)
        self.components_ = D
        self.inner_stats_ = (A, B)
        self.n_steps_ += done
        self._set_history(history, X)
        return self

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.array_api_support = True  # with the FISTA coders (see Notes)
        return tags

    @classmethod
    def _test_params(cls, check_name):
        """Constructor parameters for scikit-learn's estimator checks (tests only)."""
        if check_name.startswith("check_array_api"):  # the coders that run on the device
            return {"n_components": 3, "alpha": 0.1, "batch_size": 8, "max_iter": 3,
                    "fit_algorithm": "fista", "transform_algorithm": "fista",
                    "random_state": 0}
        return {"n_components": 3, "alpha": 0.1, "batch_size": 8, "max_iter": 3,
                "transform_algorithm": "lasso_lars", "random_state": 0}
