"""Batch dictionary learning: the native :func:`learn_dictionary` (a SolverResult), the
scikit-learn mirror :func:`dict_learning` and the ``DictionaryLearning`` estimator.

What the batch and the online learners share lives in :mod:`._dict_common`.
"""

from __future__ import annotations

import dataclasses
import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval

from .._core.loop import LoopMonitor, all_finite, resolve_verbose, warn_not_converged
from .._core.progress import progress
from ..backends import (
    array_namespace,
    asarray_on,
    device,
    errstate,
    host_only_error,
    is_numpy_namespace,
)
from ..exceptions import ConvergenceWarning
from ..utils.validation import check_array
from ._dict_common import (
    COMMON_CONSTRAINTS,
    UPDATES,
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
    mirror_coding_spec,
    objective_per_sample,
    svd_init,
)
from ._dict_update import (
    DEAD_TOL,
    bcd_sweep,
    update_dict_ksvd,
    update_dict_mod,
    zero_dead_codes,
)

_CRITERION = "relative decrease of the objective |E_prev - E| / E"


def _batch_fit(X, k, spec, *, update, max_iter, tol, dict_init, code_init, positive_dict,
               callback, verbose, rng, owner):
    """The alternating loop shared by :func:`learn_dictionary` and :func:`dict_learning`.

    ``max_iter`` may be 0 (scikit-learn's functions allow it): the initial dictionary is
    returned. Returns a SolverResult (``x``: the dictionary; ``info["codes"]``...).
    """
    n, f = X.shape
    dtype = X.dtype
    xp = array_namespace(X)
    host = is_numpy_namespace(xp)
    if not host and update == "ksvd":
        raise host_only_error(f"{owner}: update='ksvd'", xp, reason="data-dependent supports",
                              alternative="use update='bcd' or 'mod', which run in the "
                                          "arrays' namespace")
    code = None
    if dict_init is not None:
        D = check_dict_init(dict_init, k, f, dtype, owner, like=X)
    else:
        D, code = svd_init(X, k)
    if code_init is not None:
        if host or isinstance(code_init, np.ndarray) or not hasattr(code_init, "shape"):
            code = check_array(code_init, "code_init", owner, ndim=2)
        else:
            code = code_init
        if tuple(code.shape) != (n, k):
            raise ValueError(f"{owner}: code_init must have shape (n_samples, n_components) "
                             f"= {(n, k)}, got {tuple(code.shape)}.")
    if code is not None:
        code = (np.array(code, dtype=dtype, order="C", copy=True) if host
                else asarray_on(code, X) if isinstance(code, np.ndarray)
                else xp.asarray(code, dtype=dtype, copy=True))
    norms = fix_atoms(D, X, rng, spec, positive_dict)
    if norms is not None and code is not None:
        code *= norms.astype(dtype) if host else xp.astype(norms, dtype)  # keep code @ D

    current = {}

    def monitor_callback(state):
        # the codes go to the callback, not into every history record
        return callback(dataclasses.replace(state, info={**state.info, **current}))

    level = resolve_verbose(verbose)
    # verbose >= 1: a progress bar (tqdm, else plain lines); >= 2: the loop's own lines too
    mon = LoopMonitor(owner, max_iter=max(max_iter, 1), tol=tol,
                      callback=None if callback is None else monitor_callback,
                      verbose=level if level >= 2 else 0, criterion=_CRITERION, x0=D)
    history = []
    n_resampled = coder_warnings = 0
    it = 0
    last_code = code
    prev_cost = None
    bar = progress(total=max_iter, desc=owner, verbose=level)
    for it in range(1, max_iter + 1):
        G = D @ D.T
        code, _, n_warn = encode_codes(X, D, spec, gram=G, init=code)
        coder_warnings += n_warn
        if update == "bcd":
            A = code.T @ code
            Bt = code.T @ X
            dead = bcd_sweep(D, A, Bt, X, positive_dict, spec.scale_invariant, rng,
                               DEAD_TOL, None)
            code = zero_dead_codes(code, dead)
        elif update == "mod":
            D, dead = update_dict_mod(X, code, random_state=rng)
        else:
            dead = update_dict_ksvd(X, D, code, random_state=rng)
        n_resampled += int(dead.shape[0])
        with errstate(xp, over="ignore", invalid="ignore"):
            per = objective_per_sample(X, code, D, spec)
            cost = float(np.sum(per)) if host else float(xp.sum(per))
            rel = (np.inf if prev_cost is None else
                   abs(prev_cost - cost) / max(abs(cost), np.finfo(np.float64).tiny))
        if not np.isfinite(cost):
            rel = np.nan  # the monitor rolls back to the last finite dictionary
        current.update(codes=code, objective_history=history + [cost])
        bar.update(1, objective=cost)
        if mon.check(it, D, rel, cost):
            if mon.stopped_by != "nonfinite":
                history.append(cost)
                last_code = code
            break
        history.append(cost)
        last_code = code
        prev_cost = cost
    bar.close()
    if max_iter == 0:
        mon.stopped_by = "max_iter"
    note = coder_note(spec, coder_warnings, it)
    warn_max_iter = mon.stopped_by == "max_iter" and max_iter > 0 and tol > 0
    if warn_max_iter:
        warn_not_converged(owner, _CRITERION, mon.stop_crit, tol, max_iter, note, stacklevel=3)
    elif note:
        warnings.warn(f"{owner}: {note}.", ConvergenceWarning, stacklevel=3)
    if last_code is None:  # max_iter == 0 without an initial code
        last_code = (np.zeros((n, k), dtype=dtype) if host
                     else xp.zeros((n, k), dtype=dtype, device=device(X)))
    if not all_finite(last_code):  # pragma: no cover
        raise FloatingPointError(f"{owner}: non-finite codes; check the scaling of X.")
    return mon.result(D, warn=False, stacklevel=3, codes=last_code,
                      objective_history=np.asarray(history), n_resampled=n_resampled,
                      coder_warnings=coder_warnings, coding_solver=spec.solver, update=update)


def _check_update(update, positive_dict, owner, name):
    if update not in UPDATES:
        raise ValueError(f"{owner}: {name} must be one of {UPDATES}, got {update!r}.")
    if positive_dict and update != "bcd":
        raise ValueError(f"{owner}: positive_dict=True is supported by {name}='bcd' only, "
                         f"got {name}={update!r}.")


def _validate_batch(X, n_components, alpha, update, update_name, positive_dict, max_iter,
                    tol, owner):
    """The checks :func:`learn_dictionary` and :func:`dict_learning` share, in their order
    (the coder and the callback come after: :func:`function_coding_spec`,
    :func:`check_callback`)."""
    X = check_X(X, owner)
    k = check_n_components(n_components, X.shape[1], owner)
    _check_update(update, positive_dict, owner, update_name)
    max_iter = check_int_param(max_iter, "max_iter", owner, 0)
    tol = check_real_param(tol, "tol", owner)
    alpha = check_real_param(alpha, "alpha", owner)
    return X, k, max_iter, tol, alpha


# ----------------------------------------------------------------------------- natives
def learn_dictionary(X, n_components=None, *, penalty="l1", alpha=1.0, update="bcd",
                     coding_solver="auto", n_nonzero_coefs=None, max_iter=100, tol=1e-8,
                     dict_init=None, code_init=None, positive_dict=False,
                     coding_max_iter=1000, coding_tol=1e-6, n_jobs=None, random_state=None,
                     callback=None, verbose=None):
    r"""Batch dictionary learning by alternating sparse coding and atom updates.

    Solves (scikit-learn's model and scaling, so the objectives are comparable)

    .. math::
        \min_{U, V} \tfrac12 \|X - U V\|_F^2 + \mathrm{pen}(U)
        \quad \text{s.t.} \quad \|V_k\|_2 \le 1,

    with codes ``U`` of shape (n_samples, n_components) and atoms ``V`` (the dictionary)
    of shape (n_components, n_features). Each iteration codes every sample with
    :func:`sparsopt.solvers.encode` (any penalty and coder it supports: the exact
    homotopy for l1, coordinate descent for l0, MCP, SCAD, l1/2..., FISTA for CEL0, OMP
    or IHT for a fixed number of non-zeros: the "beyond l1" dictionary loop), then
    updates the atoms with ``update``.

    With l1 codes from the exact coder and ``update="bcd"`` both steps are exact block
    minimisations, so the objective never increases.

    Objective: the per-signal sum ``sum_i 1/2 ||x_i - u_i V||^2 + pen(u_i)`` (the data
    term only for a fixed number of non-zeros), recorded after each atom update.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Data. float32 stays float32.
    n_components : int, default=None
        Number of atoms; ``None``: ``n_features``.
    penalty : str or Penalty, default="l1"
        Penalty of the codes (built with :func:`~sparsopt.penalties.get_penalty`);
        ``"cel0"`` gets the current atom norms at every coding step. Non-negative codes:
        ``L1(alpha) + Positive()`` (or ``get_penalty("l1", alpha, positive=True)``).
    alpha : float, default=1.0
        Strength of the penalty when ``penalty`` is a name (scikit-learn's ``alpha``).
    update : {"bcd", "mod", "ksvd"}, default="bcd"
        Atom update rule: block coordinate descent on ``A = U^T U``, ``B = X^T U`` (one
        sweep per iteration, as scikit-learn; unused atoms are resampled), the method of
        optimal directions (least squares, then unit atoms; rescales the codes) or
        approximate K-SVD (one rank-1 power step per atom; also updates the non-zero
        codes).
    coding_solver : {"auto", "lars", "cd", "fista", "ista", "lca", "iht", "omp"}, default="auto"
        Sparse coder (``"auto"``: OMP if ``n_nonzero_coefs`` is set, the exact homotopy
        ``"lars"`` for l1, coordinate descent for other separable penalties, FISTA for
        CEL0 and group penalties). Iterative coders are warm-started from the previous
        codes.
    n_nonzero_coefs : int, default=None
        Number of non-zeros per code for ``"omp"``/``"iht"``. The objective is then
        the data term only, and, as for ``penalty="l0"``, atoms are kept at unit norm
        (the penalty is scale invariant).
    max_iter : int, default=100
        Hard cap on the iterations (coding + update).
    tol : float, default=1e-8
        Stop when ``|E_{t-1} - E_t| <= tol * E_t`` for the objective ``E``; ``0`` runs
        exactly ``max_iter`` iterations (and does not warn).
    dict_init : array-like of shape (n_components, n_features), default=None
        Initial dictionary; default: scikit-learn's SVD initialisation ``V = S V^T`` of
        ``X = U S V^T`` (first ``n_components`` rows; missing ones drawn from the data).
    code_init : array-like of shape (n_samples, n_components), default=None
        Warm start of the first coding step (iterative coders); default: ``U`` of the
        SVD when the dictionary comes from the SVD.
    positive_dict : bool, default=False
        Non-negative atoms (``update="bcd"`` only).
    coding_max_iter : int, default=1000
        ``max_iter`` of the coder.
    coding_tol : float, default=1e-6
        ``tol`` of the coder.
    n_jobs : int or None, default=None
        Threads of the coder (over blocks of samples).
    random_state : int, RandomState instance or None, default=None
        Seed of the resampling of unused atoms.
    callback : callable, default=None
        ``callback(state)`` after every iteration with a
        :class:`~sparsopt.solvers.SolverState`: ``x`` is the dictionary, ``objective``
        the objective, ``stop_crit`` its relative decrease, ``info["codes"]`` the codes
        and ``info["objective_history"]`` the objectives so far. Returning True stops
        (``converged=False``, ``stopped_by == "callback"``). Do not modify the arrays.
    verbose : int, bool or None, default=None
        Progress when > 0 (a tqdm bar when tqdm is installed, else plain lines, with the
        objective); > 1 also prints one line per iteration; ``None`` reads
        :func:`sparsopt.get_config`.

    Returns
    -------
    result : SolverResult
        ``x``: the learned atoms (rows), dtype of ``X``; ``history``: one record per
        iteration with its ``objective``; ``info``: ``codes`` (codes of the last
        iteration, before its atom update, as scikit-learn), ``objective_history``,
        ``n_resampled`` (resampling events: an atom that stays unused is counted at every
        step), ``coder_warnings``, ``coding_solver``, ``update``, ``stopped_by``.

    Warns
    -----
    ConvergenceWarning
        Once, if ``max_iter`` iterations did not reach ``tol > 0`` (or the coder did not
        converge at some iteration).
    NonFiniteIterateWarning
        If the objective became NaN or infinite: the last finite dictionary is returned.

    See Also
    --------
    dict_learning : scikit-learn's function (returns ``(code, dictionary, errors)``).
    DictionaryLearning : the estimator.
    learn_dictionary_online : the online (mini-batch) algorithm, for large data.

    References
    ----------
    .. [1] J. Mairal, F. Bach, J. Ponce and G. Sapiro, "Online learning for matrix
       factorization and sparse coding", JMLR 11, 2010.
    .. [2] K. Engan, S. O. Aase and J. H. Husoy, "Method of optimal directions for frame
       design", ICASSP 1999.
    .. [3] R. Rubinstein, M. Zibulevsky and M. Elad, "Efficient implementation of the
       K-SVD algorithm using batch orthogonal matching pursuit", Technion CS-2008-08.
    .. [4] C. Rentzeperis, L. Calatroni, L. U. Perrinet and D. Prandi, "Beyond l1 sparse
       coding in V1", PLoS Comput. Biol. 19(9), 2023.

    Examples
    --------
    >>> import numpy as np
    >>> from sparsopt.datasets import make_sparse_coding_problem
    >>> from sparsopt.decomposition import learn_dictionary
    >>> X, D_true, _ = make_sparse_coding_problem(200, 16, 8, 2, noise=0.01)
    >>> res = learn_dictionary(X, 8, alpha=0.1, max_iter=100, tol=1e-3, random_state=0)
    >>> res.x.shape, res.info["codes"].shape, res.converged
    ((8, 16), (200, 8), True)
    >>> bool(np.all(np.diff(res.info["objective_history"]) <= 0))  # exact l1 codes + BCD
    True
    """
    owner = "learn_dictionary"
    X, k, max_iter, tol, alpha = _validate_batch(X, n_components, alpha, update, "update",
                                                 positive_dict, max_iter, tol, owner)
    spec = function_coding_spec(penalty, alpha, coding_solver, n_nonzero_coefs,
                                coding_max_iter, coding_tol, n_jobs, owner)
    check_array_api_coder(spec, X, owner, f"coding_solver={coding_solver!r}",
                          "coding_solver='fista'")
    check_callback(callback, owner)
    return _batch_fit(X, k, spec, update=update, max_iter=max_iter, tol=tol,
                      dict_init=dict_init, code_init=code_init, positive_dict=positive_dict,
                      callback=callback, verbose=verbose, rng=check_random_state(random_state),
                      owner=owner)


# ----------------------------------------------------------------------------- mirror
def dict_learning(X, n_components=None, *, alpha=1.0, max_iter=100, tol=1e-8, method=None,
                  n_jobs=None, dict_init=None, code_init=None, callback=None, verbose=None,
                  random_state=None, return_n_iter=False, positive_dict=False,
                  positive_code=False, method_max_iter=None, penalty=None, update="bcd",
                  coding_solver=None, n_nonzero_coefs=None, coding_max_iter=None,
                  coding_tol=1e-6):
    r"""Batch dictionary learning, with scikit-learn's signature and return values.

    The same algorithm as :func:`learn_dictionary` (see it for the model, the atom
    updates and the coders), spelled as :func:`sklearn.decomposition.dict_learning`:
    ``method`` (``"lars"``/``"cd"``: how the l1 codes are computed) and
    ``method_max_iter`` for the coder, ``positive_code`` for non-negative codes, and
    returning ``(code, dictionary, errors)`` (``+ n_iter`` with ``return_n_iter``). The
    sparsopt coder names (``penalty``, ``coding_solver``, ``n_nonzero_coefs``,
    ``coding_max_iter``) come after; mixing ``method`` with them (or
    ``method_max_iter`` with ``coding_max_iter``) raises ``ValueError``.
    Use :func:`learn_dictionary` for the full :class:`~sparsopt.solvers.SolverResult`.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Data. float32 stays float32.
    n_components : int, default=None
        Number of atoms; ``None``: ``n_features``.
    alpha : float, default=1.0
        Strength of the penalty (scikit-learn's ``alpha``, same scaling).
    max_iter : int, default=100
        Maximum number of iterations (0: the initial dictionary is returned).
    tol : float, default=1e-8
        Stop when ``|E_{t-1} - E_t| <= tol * E_t``; ``0`` runs exactly ``max_iter``
        iterations (and does not warn).
    method : {"lars", "cd"}, default=None
        scikit-learn's coder: the l1 codes by the exact homotopy (``"lars"``) or by
        coordinate descent (``"cd"``). ``None``: ``"lars"`` unless a sparsopt coder name
        (``penalty``, ``coding_solver``, ``n_nonzero_coefs``) is set.
    n_jobs : int or None, default=None
        Threads of the coder (over blocks of samples).
    dict_init : array-like of shape (n_components, n_features), default=None
        Initial dictionary; default: scikit-learn's SVD initialisation.
    code_init : array-like of shape (n_samples, n_components), default=None
        Warm start of the first coding step.
    callback : callable, default=None
        ``callback(state)`` with a :class:`~sparsopt.solvers.SolverState` after every
        iteration (see :func:`learn_dictionary`); True stops. (scikit-learn calls it
        with ``locals()`` every 5 iterations and ignores its return value.)
    verbose : int, bool or None, default=None
        Progress when > 0 (a tqdm bar when installed, else plain lines); > 1 adds one
        line per iteration; ``None`` reads :func:`sparsopt.get_config`.
    random_state : int, RandomState instance or None, default=None
        Seed of the resampling of unused atoms.
    return_n_iter : bool, default=False
        Also return the number of iterations (as scikit-learn).
    positive_dict : bool, default=False
        Non-negative atoms (``update="bcd"`` only).
    positive_code : bool, default=False
        Non-negative codes (the penalty gets ``+ Positive()``; not with OMP or IHT).
        Unlike scikit-learn, ``method="lars"`` accepts it (the non-negative homotopy).
    method_max_iter : int, default=None
        ``max_iter`` of the coder (scikit-learn's name of ``coding_max_iter``;
        ``None``: 1000).
    penalty : str or Penalty, default=None
        sparsopt's coder: the penalty of the codes (``None``: ``"l1"``); ``"cel0"`` gets
        the current atom norms at every coding step.
    update : {"bcd", "mod", "ksvd"}, default="bcd"
        Atom update (see :func:`learn_dictionary`; scikit-learn's is ``"bcd"``).
    coding_solver : {"auto", "lars", "cd", "fista", "ista", "lca", "iht", "omp"}, default=None
        sparsopt's coder (see :func:`learn_dictionary`; ``None``: ``"auto"``).
    n_nonzero_coefs : int, default=None
        Number of non-zeros per code for ``"omp"``/``"iht"``.
    coding_max_iter : int, default=None
        ``max_iter`` of the coder (``None``: 1000).
    coding_tol : float, default=1e-6
        ``tol`` of the coder.

    Returns
    -------
    code : ndarray of shape (n_samples, n_components)
        Codes of the last iteration (before its atom update, as scikit-learn).
    dictionary : ndarray of shape (n_components, n_features)
        The learned atoms (rows), dtype of ``X``.
    errors : list of float
        The objective after each iteration.
    n_iter : int
        Only if ``return_n_iter``.

    Warns
    -----
    ConvergenceWarning
        Once, if ``max_iter`` iterations did not reach ``tol > 0`` (or the coder did not
        converge at some iteration).

    See Also
    --------
    learn_dictionary : the native function (a SolverResult).
    DictionaryLearning : the estimator.
    dict_learning_online : the online (mini-batch) algorithm, for large data.

    Examples
    --------
    >>> import numpy as np
    >>> from sparsopt.datasets import make_sparse_coding_problem
    >>> from sparsopt.decomposition import dict_learning
    >>> X, D_true, _ = make_sparse_coding_problem(200, 16, 8, 2, noise=0.01)
    >>> code, D, errors = dict_learning(X, 8, alpha=0.1, max_iter=100, tol=1e-3,
    ...                                 random_state=0)
    >>> code.shape, D.shape, bool(np.all(np.diff(errors) <= 0))
    ((200, 8), (8, 16), True)
    """
    owner = "dict_learning"
    X, k, max_iter, tol, alpha = _validate_batch(X, n_components, alpha, update, "update",
                                                 positive_dict, max_iter, tol, owner)
    spec = mirror_coding_spec(owner, method, method_max_iter, penalty, alpha, coding_solver,
                              n_nonzero_coefs, coding_max_iter, coding_tol, n_jobs,
                              positive_code)
    check_array_api_coder(spec, X, owner, f"the coder ({spec.solver!r})",
                          "coding_solver='fista'")
    check_callback(callback, owner)
    res = _batch_fit(X, k, spec, update=update, max_iter=max_iter, tol=tol,
                     dict_init=dict_init, code_init=code_init, positive_dict=positive_dict,
                     callback=callback, verbose=verbose, rng=check_random_state(random_state),
                     owner=owner)
    out = (res.info["codes"], res.x, [float(e) for e in res.info["objective_history"]])
    return out + (res.n_iter,) if return_n_iter else out


# ----------------------------------------------------------------------------- estimator
class DictionaryLearning(BaseDictionaryLearning):
    """Dictionary learning: sparse codes with any penalty, BCD, MOD or K-SVD atom updates.

    Finds atoms ``V`` (``components_``) and sparse codes ``U`` minimising
    ``1/2 ||X - U V||_F^2 + alpha * pen(U)`` with ``||V_k||_2 <= 1`` (scikit-learn's
    model and scaling) by alternating :func:`~sparsopt.decomposition.sparse_encode` and
    an atom update; see :func:`dict_learning`. scikit-learn's parameter names keep
    their meanings (``fit_algorithm`` is the coder of the fit, ``transform_algorithm``
    that of :meth:`transform`, default ``"omp"``); sparsopt's coder names
    (``penalty``, ``coding_solver``, ``transform_penalty``...) come after them, and
    ``update`` chooses the atom update. A drop-in for
    :class:`sklearn.decomposition.DictionaryLearning` with the exact homotopy coder, the
    nonconvex penalties (l0, CEL0, MCP, SCAD, l1/2...), OMP/IHT at fixed sparsity, MOD and
    K-SVD updates. For large data use :class:`MiniBatchDictionaryLearning`.

    Parameters
    ----------
    n_components : int, default=None
        Number of atoms; ``None``: ``n_features``.
    alpha : float, default=1.0
        Strength of the penalty of the fit (scikit-learn's scaling).
    max_iter : int, default=1000
        Maximum number of iterations.
    tol : float, default=1e-8
        Tolerance on the relative decrease of the objective.
    fit_algorithm : {"lars", "cd", "fista"}, default=None
        scikit-learn's coder of the fit: the l1 codes by the exact homotopy
        (``"lars"``) or coordinate descent (``"cd"``), or (a sparsopt extension) by
        batched FISTA (``"fista"``, the coder that runs on array-API inputs such as
        CuPy arrays). ``None``: ``"lars"`` unless
        ``penalty``, ``coding_solver`` or ``n_nonzero_coefs`` is set (setting both
        spellings raises ``ValueError``). It is *not* the atom update: see ``update``.
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
    n_jobs : int or None, default=None
        Threads of the coder.
    code_init : array-like of shape (n_samples, n_components), default=None
        Warm start of the first coding step.
    dict_init : array-like of shape (n_components, n_features), default=None
        Initial dictionary (default: SVD of ``X``).
    callback : callable, default=None
        ``callback(state)`` after each iteration (see :func:`learn_dictionary`); True
        stops. (scikit-learn calls it with ``locals()`` every 5 iterations.)
    verbose : int, bool or None, default=None
        Progress when > 0 (a tqdm bar when installed, else plain lines, with the
        objective); > 1 adds one line per iteration; ``None`` reads
        :func:`sparsopt.get_config`.
    split_sign : bool, default=False
        :meth:`transform` returns ``[max(c, 0), -min(c, 0)]`` (``2 n_components``
        columns), as scikit-learn.
    random_state : int, RandomState instance or None, default=None
        Seed of the resampling of unused atoms.
    positive_code : bool, default=False
        Non-negative codes (unlike scikit-learn, also with ``fit_algorithm="lars"``).
    positive_dict : bool, default=False
        Non-negative atoms (``update="bcd"``).
    transform_max_iter : int, default=1000
        ``max_iter`` of the iterative coders (fit and transform, as scikit-learn).
    penalty : str or Penalty, default=None
        sparsopt's coder of the fit: the penalty of the codes (``None``: ``"l1"``).
    update : {"bcd", "mod", "ksvd"}, default="bcd"
        Atom update (see :func:`learn_dictionary`); scikit-learn's is ``"bcd"``.
    coding_solver : {"auto", "lars", "cd", "fista", "ista", "lca", "iht", "omp"}, \
default=None
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
    n_iter_ : int
        Iterations run.
    converged_ : bool
        Whether the tolerance was reached.
    objective_history_ : ndarray of shape (`n_iter_`,)
        Objective after each iteration.
    error_ : ndarray of shape (`n_iter_`,)
        Same as ``objective_history_`` (scikit-learn's name).
    code_ : ndarray of shape (n_samples, n_components)
        Codes of the last iteration of the fit (what :meth:`fit_transform` returns).
    n_features_in_ : int
        Number of features seen during ``fit``.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of the features, when ``X`` has string column names.

    Notes
    -----
    **Array API** (CuPy, PyTorch, ``array_api_strict``...): under
    ``sklearn.config_context(array_api_dispatch=True)``, :meth:`fit`,
    :meth:`fit_transform`, :meth:`transform`, :meth:`inverse_transform` and
    :meth:`score` take arrays of any array-API namespace and keep them there (fitted
    arrays in that namespace, on its device), with the FISTA coder
    (``fit_algorithm="fista"`` or ``coding_solver="fista"``/``"ista"``;
    ``transform_algorithm="fista"`` or ``transform_solver="fista"``) and
    ``update="bcd"`` or ``"mod"``; host-only coders and ``update="ksvd"`` raise
    ``TypeError`` naming the alternative. The initialisation is the standard's SVD in
    the namespace; the host reads one scalar per iteration (the objective).

    See Also
    --------
    MiniBatchDictionaryLearning : the online algorithm.
    sparsopt.decomposition.SparseCoder : coding with a fixed dictionary.

    References
    ----------
    .. [1] J. Mairal, F. Bach, J. Ponce and G. Sapiro, "Online learning for matrix
       factorization and sparse coding", JMLR 11, 2010.
    .. [2] C. Rentzeperis, L. Calatroni, L. U. Perrinet and D. Prandi, "Beyond l1 sparse
       coding in V1", PLoS Comput. Biol. 19(9), 2023.

    Examples
    --------
    >>> from sparsopt.datasets import make_sparse_coding_problem
    >>> from sparsopt.decomposition import DictionaryLearning
    >>> X, _, _ = make_sparse_coding_problem(100, 16, 8, 2, noise=0.01)
    >>> dl = DictionaryLearning(8, alpha=0.1, max_iter=100, tol=1e-3, random_state=0,
    ...                         transform_algorithm="lasso_lars")
    >>> codes = dl.fit_transform(X)
    >>> codes.shape, dl.components_.shape
    ((100, 8), (8, 16))
    """

    _parameter_constraints = {
        **COMMON_CONSTRAINTS,
        "max_iter": [Interval(Integral, 0, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "code_init": ["array-like", None],
    }

    def __init__(self, n_components=None, *, alpha=1.0, max_iter=1000, tol=1e-8,
                 fit_algorithm=None, transform_algorithm=None, transform_n_nonzero_coefs=None,
                 transform_alpha=None, n_jobs=None, code_init=None, dict_init=None,
                 callback=None, verbose=None, split_sign=False, random_state=None,
                 positive_code=False, positive_dict=False, transform_max_iter=1000,
                 penalty=None, update="bcd", coding_solver=None, n_nonzero_coefs=None,
                 transform_penalty=None, transform_solver=None):
        self.n_components = n_components
        self.alpha = alpha
        self.max_iter = max_iter
        self.tol = tol
        self.fit_algorithm = fit_algorithm
        self.transform_algorithm = transform_algorithm
        self.transform_n_nonzero_coefs = transform_n_nonzero_coefs
        self.transform_alpha = transform_alpha
        self.n_jobs = n_jobs
        self.code_init = code_init
        self.dict_init = dict_init
        self.callback = callback
        self.verbose = verbose
        self.split_sign = split_sign
        self.random_state = random_state
        self.positive_code = positive_code
        self.positive_dict = positive_dict
        self.transform_max_iter = transform_max_iter
        self.penalty = penalty
        self.update = update
        self.coding_solver = coding_solver
        self.n_nonzero_coefs = n_nonzero_coefs
        self.transform_penalty = transform_penalty
        self.transform_solver = transform_solver

    def fit(self, X, y=None):
        """Learn the dictionary from ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.
        y : Ignored
            Not used, present for API consistency.

        Returns
        -------
        self : DictionaryLearning
        """
        self._fit(X)
        return self

    def fit_transform(self, X, y=None):
        """Learn the dictionary and return the codes of the fit (as scikit-learn).

        The codes of the last iteration, from the fit's coder (``fit_algorithm`` or
        ``penalty``/``coding_solver``), not from the ``transform_*`` coder; without
        ``split_sign`` (as scikit-learn).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.
        y : Ignored
            Not used, present for API consistency.

        Returns
        -------
        codes : ndarray of shape (n_samples, n_components)
        """
        return self._fit(X).code_

    def _fit(self, X):
        self._validate_params()
        X = self._validate_input(X)
        penalty, coding_solver, n_nonzero_coefs = self._fit_coder()
        spec = self._fit_spec()  # errors name the estimator's parameters
        self._transform_spec(at_fit=True)  # bad transform_* parameters fail before the fit
        check_array_api_coder(spec, X, type(self).__name__, self._fit_coder_name(),
                              self._fit_coder_alternative())
        res = learn_dictionary(
            X, self.n_components, penalty=self._code_penalty(), alpha=self.alpha,
            update=self.update, coding_solver=coding_solver,
            n_nonzero_coefs=n_nonzero_coefs, max_iter=self.max_iter, tol=self.tol,
            dict_init=self.dict_init, code_init=self.code_init,
            positive_dict=self.positive_dict, coding_max_iter=self.transform_max_iter,
            callback=self.callback, verbose=self.verbose, random_state=self.random_state,
            n_jobs=self.n_jobs,
        )
        D = res.x
        self.components_ = D
        self.code_ = res.info["codes"]
        self.n_iter_ = int(res.n_iter)
        self.converged_ = bool(res.converged)
        history = np.asarray(res.info["objective_history"])
        # in the namespace of X (host floats moved once, after the loop)
        self.objective_history_ = (history if isinstance(X, np.ndarray)
                                   else asarray_on(history, X, dtype=array_namespace(X).float64))
        self.error_ = self.objective_history_
        return self

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.array_api_support = True  # with the FISTA coders and update="bcd"/"mod"
        return tags

    # n_features of the data used by scikit-learn's checks are small: keep fits tiny
    @classmethod
    def _test_params(cls, check_name):
        """Constructor parameters for scikit-learn's estimator checks (tests only)."""
        if check_name.startswith("check_array_api"):  # the coders that run on the device
            return {"n_components": 3, "alpha": 1.0, "max_iter": 20, "tol": 1e-8,
                    "fit_algorithm": "fista", "transform_algorithm": "fista",
                    "random_state": 0}
        return {"n_components": 3, "alpha": 1.0, "max_iter": 20, "tol": 1e-8,
                "transform_algorithm": "lasso_lars", "random_state": 0}
