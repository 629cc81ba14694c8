"""Dictionary (atom) updates of dictionary learning, as plain functions.

Layout (scikit-learn's): data ``X`` of shape (n_samples, n_features), codes ``C`` of shape
(n_samples, n_components), dictionary ``D`` of shape (n_components, n_features) with atoms
as rows, ``X ~ C @ D``. Each atom is kept in the unit ball ``||D_k||_2 <= 1``.

* :func:`update_dict_bcd` -- block coordinate descent on the sufficient statistics
  ``A = C^T C`` and ``B = X^T C`` (Mairal et al. 2010): one exact, projected minimisation
  per atom. It never increases ``1/2 ||X - C D||_F^2`` for fixed codes.
* :func:`update_dict_mod` -- method of optimal directions (Engan et al. 1999): the least
  squares dictionary, atoms then normalised and the codes rescaled to keep ``C @ D``.
* :func:`update_dict_ksvd` -- approximate K-SVD (Rubinstein et al. 2008): per atom, one
  power step of the rank-1 approximation of the residual restricted to the samples that
  use the atom; updates the non-zero codes as well.
* :func:`resample_dead_atoms` -- replace unused atoms by a random data row plus 1% noise.

The BCD sweep and the online statistics are registered kernels (ops ``dict_bcd_sweep`` and
``dict_stats_update`` in :mod:`sparsopt.backends`), Numba by default, with NumPy references.

Array API: :func:`update_dict_bcd`, :func:`update_dict_mod` and :func:`resample_dead_atoms`
also take arrays of any array-API namespace (CuPy, ``array_api_strict``, PyTorch) and
keep them there: the kernels' references are namespace-generic, the least squares of MOD
use the standard's ``linalg`` extension, and the resampling draws its random numbers on the
host (the same stream as for NumPy) and moves them to the device as one small array per
resampling. :func:`update_dict_ksvd` (data-dependent supports) runs on NumPy only.
"""

from __future__ import annotations

import math

import numpy as np
from sklearn.utils import check_random_state

from ..backends import (
    array_namespace,
    asarray_on,
    device,
    host_only_error,
    is_numpy_namespace,
    kernel_for,
)

DEAD_TOL = 1e-6  # A[k, k] below this: the atom is unused (scikit-learn's and SPAMS' threshold)


_OPS = {"bcd": "dict_bcd_sweep", "stats": "dict_stats_update"}


def dictionary_kernel(engine=None, name="bcd", like=None):
    """Registered kernel ``name`` ("bcd" or "stats") for ``engine`` and the arrays ``like``.

    ``like=None``: host (NumPy) arrays; an array of another namespace gets the kernel that
    runs on it (the namespace-generic reference, or a CuPy kernel where registered).

    Public inside the package: the batch and online learners look the kernels up here,
    through :func:`sparsopt.backends.kernel_for`, never import them.

    ``None`` follows :func:`sparsopt.get_config`; resolved once per loop so that the
    per-batch calls skip the dispatcher.
    """
    op = _OPS[name]
    return kernel_for(op, _PROBE if like is None else like, engine=engine)


_PROBE = np.empty(0)


# ----------------------------------------------------------------------------- helpers
def _check_2d(a, name, fn):
    a = np.asarray(a)
    if a.ndim != 2:
        raise ValueError(f"{fn}: {name} must be 2-D, got shape {a.shape}.")
    return a


def resample_dead_atoms(dictionary, X, dead, *, random_state=None, noise=0.01, positive=False):
    """Replace the atoms ``dead`` by random rows of ``X`` plus small noise (in place).

    Each new atom is a data row chosen uniformly at random, plus Gaussian noise of standard
    deviation ``noise * std(row)`` (``noise`` if the row is flat, so that the coder is not
    handed two identical atoms), clipped at zero if ``positive``, scaled to unit norm.

    Parameters
    ----------
    dictionary : ndarray of shape (n_components, n_features)
        Atoms as rows; modified in place.
    X : ndarray of shape (n_samples, n_features)
        Data rows to draw from.
    dead : array-like of int or bool
        Indices (or a mask) of the atoms to replace.
    random_state : int, RandomState instance or None, default=None
        Seed of the draws.
    noise : float, default=0.01
        Relative noise level.
    positive : bool, default=False
        Non-negative atoms.

    Returns
    -------
    dead : ndarray of int
        The indices of the replaced atoms (an integer array of the input's namespace for
        non-NumPy inputs).

    Notes
    -----
    Arrays of other array-API namespaces are updated in their namespace: the random
    numbers are drawn on the host from ``random_state`` (the same draws, in the same order,
    as for NumPy arrays), and moved to the device as one small array (row indices and
    standard normals) per call; one host synchronisation reads the number of dead atoms.
    With ``positive``, a second synchronisation checks the rare fallback (a clipped atom
    that is zero), which then replays the draws atom by atom as the NumPy path does.

    Examples
    --------
    >>> import numpy as np
    >>> from sparsopt.decomposition._dict_update import resample_dead_atoms
    >>> D = np.eye(3)
    >>> X = np.arange(12.0).reshape(4, 3)
    >>> resample_dead_atoms(D, X, [1], random_state=0)
    array([1])
    >>> bool(np.isclose(np.linalg.norm(D[1]), 1.0))
    True
    """
    xp = array_namespace(dictionary, X, None if isinstance(dead, np.ndarray) else dead)
    if not is_numpy_namespace(xp):
        return _resample_generic(xp, dictionary, X, dead, check_random_state(random_state),
                                 noise, positive)
    dead = np.asarray(dead)
    if dead.dtype == bool:
        dead = np.flatnonzero(dead)
    dead = dead.astype(np.intp, copy=False)
    if dead.size == 0:
        return dead
    rng = check_random_state(random_state)
    X = np.asarray(X)
    for k in dead:
        row = X[rng.randint(X.shape[0])].astype(np.float64)
        level = noise * (float(row.std()) or 1.0)
        new = row + rng.normal(0.0, level, size=row.shape[0])
        if positive:
            new = np.maximum(new, 0.0)
            if not np.any(new > 0.0):
                new = np.abs(row) + np.abs(rng.normal(0.0, level, size=row.shape[0]))
        norm = float(np.linalg.norm(new))
        dictionary[k] = new / norm if norm > 0.0 else 1.0 / math.sqrt(new.shape[0])
    return dead


def _dead_mask(xp, dead, k, like):
    """``dead`` (a mask or indices, host or namespace array) as a boolean mask of ``xp``."""
    if isinstance(dead, (list, tuple, np.ndarray)):
        dead = np.asarray(dead)
        if dead.dtype != bool:
            mask = np.zeros(k, dtype=bool)
            mask[dead.astype(np.intp)] = True
            dead = mask
        return asarray_on(dead, like, dtype=xp.bool)
    if dead.dtype == xp.bool:
        return dead
    rows = xp.arange(k, dtype=dead.dtype, device=device(dead))
    return xp.any(rows[:, None] == dead[None, :], axis=1)


def zero_dead_codes(code, dead):
    """``code`` with the columns of the atoms ``dead`` (indices) set to zero: in place for
    NumPy, a new array of the namespace otherwise (a mask, no integer indexing)."""
    if isinstance(code, np.ndarray):
        code[:, dead] = 0
        return code
    if not dead.shape[0]:
        return code
    xp = array_namespace(code, dead)
    mask = _dead_mask(xp, dead, code.shape[1], code)
    return xp.where(mask[None, :], xp.zeros_like(code), code)


def _resample_generic(xp, D, X, dead, rng, noise, positive):
    """:func:`resample_dead_atoms` in the namespace ``xp`` (no transfer to the host)."""
    k, f = D.shape
    mask = _dead_mask(xp, dead, k, D)
    n_dead = int(xp.sum(xp.astype(mask, xp.int64)))  # one synchronisation
    if n_dead == 0:  # the common case: no data-dependent nonzero
        return xp.zeros(0, dtype=xp.int64, device=device(D))
    idx = xp.nonzero(mask)[0]
    if X is None or X.shape[0] == 0:
        return idx
    n = X.shape[0]
    f64 = xp.float64
    state = rng.get_state() if positive else None
    rows = np.empty(n_dead, dtype=np.int64)
    gauss = np.empty((n_dead, f))
    for i in range(n_dead):  # the NumPy draws: randint, normal(0, level) = level * N(0, 1)
        rows[i] = rng.randint(n)
        gauss[i] = rng.normal(0.0, 1.0, size=f)
    R = xp.astype(xp.take(X, asarray_on(rows, X, dtype=xp.int64), axis=0), f64)
    std = xp.std(R, axis=1)
    level = noise * xp.where(std != 0.0, std, xp.ones_like(std))  # float(std) or 1.0
    new = R + level[:, None] * asarray_on(gauss, R)
    if positive:
        new = xp.clip(new, min=0.0)
        if not bool(xp.all(xp.any(new > 0.0, axis=1))):  # a zero atom: replay atom by atom
            rng.set_state(state)
            new = _resample_positive_sequential(xp, X, rng, n_dead, noise)
    nrm = xp.linalg.vector_norm(new, axis=1)
    ok = nrm > 0.0
    new = xp.where(ok[:, None], new / xp.where(ok, nrm, xp.ones_like(nrm))[:, None],
                   xp.full_like(new, 1.0 / math.sqrt(f)))
    # scatter: the atom j gets the rank(j)-th new row (dead atoms in increasing order)
    rank = xp.cumulative_sum(xp.astype(mask, xp.int64)) - 1
    G = xp.take(xp.astype(new, D.dtype), xp.clip(rank, min=0), axis=0)
    D[...] = xp.where(mask[:, None], G, D)
    return idx


def _resample_positive_sequential(xp, X, rng, n_dead, noise):
    """The positive resampling atom by atom (the NumPy path's draws, in its order)."""
    f = X.shape[1]
    out = []
    for _ in range(n_dead):
        row = xp.astype(X[rng.randint(X.shape[0]), :], xp.float64)
        level = noise * (float(xp.std(row)) or 1.0)
        new = xp.clip(row + asarray_on(rng.normal(0.0, level, size=f), row), min=0.0)
        if not bool(xp.any(new > 0.0)):
            new = xp.abs(row) + asarray_on(np.abs(rng.normal(0.0, level, size=f)), row)
        out.append(new)
    return xp.stack(out)


def update_dict_bcd(dictionary, A, B, *, X=None, positive=False, unit_norm=False,
                    random_state=None, dead_tol=DEAD_TOL, engine=None):
    r"""One block-coordinate-descent sweep over the atoms, from the sufficient statistics.

    With ``A = C^T C`` and ``B = X^T C``, each atom in turn is set to the minimiser of
    ``1/2 ||X - C D||_F^2`` over that atom inside the unit ball (the quadratic is isotropic
    in one atom, so the projection of the unconstrained minimiser is exact):

    .. math::
        D_k \leftarrow \Pi\big(D_k + (B_{:,k} - D^T A_{:,k}) / A_{kk}\big),
        \qquad \Pi(v) = v / \max(\|v\|_2, 1)

    (with ``v`` clipped at zero first if ``positive``). For fixed codes the data term never
    increases. With ``unit_norm`` every updated atom is scaled to norm one (the exact
    minimiser on the unit sphere, same direction), the right constraint when the coding
    penalty is scale invariant (l0, OMP), where atoms of smaller norm would only bias
    the atom selection. Atoms with ``A[k, k] < dead_tol`` (unused) are replaced first by
    :func:`resample_dead_atoms` when ``X`` is given, else left as they are.

    The statistics may be averaged over any sample weights (the online algorithm uses
    ``A = sum_t beta_t C_t^T C_t / b``); only their ratio matters.

    Parameters
    ----------
    dictionary : ndarray of shape (n_components, n_features)
        C-contiguous; updated in place.
    A : ndarray of shape (n_components, n_components)
        ``C^T C`` (symmetric).
    B : ndarray of shape (n_features, n_components)
        ``X^T C``.
    X : ndarray of shape (n_samples, n_features), default=None
        Rows to resample dead atoms from (``None``: dead atoms are not touched).
    positive : bool, default=False
        Non-negative atoms.
    unit_norm : bool, default=False
        Project on the unit sphere instead of the unit ball.
    random_state : int, RandomState instance or None, default=None
        Seed of the resampling.
    dead_tol : float, default=1e-6
        Threshold on ``A[k, k]`` below which an atom is dead.
    engine : {"auto", "numba", "numpy"}, default=None
        Compiled kernel or its NumPy reference.

    Returns
    -------
    dead : ndarray of int
        Indices of the resampled atoms (their codes should be set to zero).

    References
    ----------
    .. [1] J. Mairal, F. Bach, J. Ponce and G. Sapiro, "Online learning for matrix
       factorization and sparse coding", JMLR 11, 2010 (Algorithm 2).

    Examples
    --------
    >>> import numpy as np
    >>> from sparsopt.decomposition._dict_update import update_dict_bcd
    >>> rng = np.random.default_rng(0)
    >>> C, D0 = rng.normal(size=(50, 3)), rng.normal(size=(3, 4))
    >>> D0 /= np.linalg.norm(D0, axis=1, keepdims=True)
    >>> X = C @ D0
    >>> D = np.ascontiguousarray(rng.normal(size=(3, 4)))
    >>> for _ in range(200):
    ...     _ = update_dict_bcd(D, C.T @ C, X.T @ C)
    >>> bool(np.allclose(D, D0, atol=1e-6))
    True
    """
    fn = "update_dict_bcd"
    D = dictionary
    xp = array_namespace(D, A, B, X)
    if not is_numpy_namespace(xp):
        if getattr(D, "ndim", None) != 2 or isinstance(D, np.ndarray):
            raise ValueError(f"{fn}: dictionary must be a 2-D array of the inputs' namespace "
                             "(it is updated in place).")
        k, f = D.shape
        if A.ndim != 2 or A.shape != (k, k):
            raise ValueError(f"{fn}: A must have shape {(k, k)}, got {tuple(A.shape)}.")
        if B.ndim != 2 or B.shape != (f, k):
            raise ValueError(f"{fn}: B must have shape {(f, k)} (X^T C), got "
                             f"{tuple(B.shape)}.")
        return bcd_sweep(D, xp.astype(A, D.dtype), xp.astype(B.T, D.dtype), X, positive,
                         unit_norm, random_state, dead_tol, engine)
    if not (isinstance(D, np.ndarray) and D.ndim == 2 and D.flags.c_contiguous
            and D.flags.writeable):
        raise ValueError(f"{fn}: dictionary must be a writeable C-contiguous 2-D ndarray "
                         "(it is updated in place).")
    k, f = D.shape
    A = _check_2d(A, "A", fn)
    B = _check_2d(B, "B", fn)
    if A.shape != (k, k):
        raise ValueError(f"{fn}: A must have shape {(k, k)}, got {A.shape}.")
    if B.shape != (f, k):
        raise ValueError(f"{fn}: B must have shape {(f, k)} (X^T C), got {B.shape}.")
    return bcd_sweep(D, np.ascontiguousarray(A, dtype=D.dtype),
                       np.ascontiguousarray(B.T, dtype=D.dtype), X, positive, unit_norm,
                       random_state, dead_tol, engine)


def bcd_sweep(D, A, Bt, X, positive, unit, random_state, dead_tol, engine, u=None):
    """:func:`update_dict_bcd` on validated arrays; ``Bt = C^T X`` of shape (k, f).

    Public inside the package (the batch and online learners call it once per step).
    Arrays of another namespace stay there: the dead atoms are a device mask, and one
    host synchronisation per call (the number of dead atoms) decides the resampling.
    """
    if not isinstance(D, np.ndarray):
        xp = array_namespace(D, A, Bt, X)
        skip = xp.linalg.diagonal(A) < dead_tol
        if X is not None and X.shape[0]:
            dead = resample_dead_atoms(D, X, skip, random_state=random_state,
                                       positive=positive)
        else:
            dead = xp.zeros(0, dtype=xp.int64, device=device(D))
        dictionary_kernel(engine, like=D)(D, A, Bt, skip, bool(positive), bool(unit), None)
        return dead
    diag = np.diagonal(A)
    skip = diag < dead_tol
    dead = np.flatnonzero(skip)
    if dead.size and X is not None and len(X):
        resample_dead_atoms(D, X, dead, random_state=random_state, positive=positive)
    if u is None:
        u = np.empty(D.shape[1], dtype=np.float64)
    dictionary_kernel(engine)(D, A, Bt, skip, bool(positive), bool(unit), u)
    return dead if X is not None else dead[:0]


def update_dict_mod(X, code, *, random_state=None, dead_tol=DEAD_TOL):
    r"""Method of optimal directions: least-squares dictionary, normalised atoms.

    Solves ``min_D ||X - C D||_F^2``, i.e. ``D = (C^T C)^{-1} C^T X``, over the used atoms
    (``A[k, k] >= dead_tol``; the others are resampled and their codes set to zero), then
    scales every atom to unit norm and multiplies its codes by the old norm, so that
    ``C @ D`` (the data fit) is unchanged by the normalisation. The penalty of the codes
    changes with that rescaling: MOD is not a descent method for a penalised objective.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Data.
    code : ndarray of shape (n_samples, n_components)
        Codes; rescaled in place (dead columns set to zero).
    random_state : int, RandomState instance or None, default=None
        Seed of the resampling of dead atoms.
    dead_tol : float, default=1e-6
        Threshold on ``(C^T C)[k, k]`` below which an atom is dead.

    Returns
    -------
    dictionary : ndarray of shape (n_components, n_features)
        Unit-norm atoms, dtype of ``X``.
    dead : ndarray of int
        Indices of the resampled atoms.

    Notes
    -----
    Arrays of other array-API namespaces stay in their namespace: the normal equations of
    the used atoms are solved with the standard's ``linalg`` (Cholesky to detect a
    singular system, then ``solve``; ``pinv`` for the minimum-norm solution when it is
    singular), with two host synchronisations (the singularity test and the number of
    dead atoms).

    References
    ----------
    .. [1] K. Engan, S. O. Aase and J. H. Husoy, "Method of optimal directions for frame
       design", ICASSP 1999.

    Examples
    --------
    >>> import numpy as np
    >>> from sparsopt.decomposition._dict_update import update_dict_mod
    >>> rng = np.random.default_rng(0)
    >>> C, D0 = rng.normal(size=(50, 3)), rng.normal(size=(3, 4))
    >>> X = C @ D0
    >>> D, dead = update_dict_mod(X, C)
    >>> bool(np.allclose(C @ D, X)), np.linalg.norm(D, axis=1).round(6).tolist()
    (True, [1.0, 1.0, 1.0])
    """
    fn = "update_dict_mod"
    xp = array_namespace(X, code)
    if not is_numpy_namespace(xp):
        return _mod_generic(xp, X, code, random_state, dead_tol, fn)
    import scipy.linalg

    X = _check_2d(X, "X", fn)
    code = _check_2d(code, "code", fn)
    if code.shape[0] != X.shape[0]:
        raise ValueError(f"{fn}: code has {code.shape[0]} rows, X has {X.shape[0]}.")
    dtype = X.dtype if X.dtype in (np.float32, np.float64) else np.float64
    k, f = code.shape[1], X.shape[1]
    C64 = code.astype(np.float64)
    A = C64.T @ C64
    Bt = C64.T @ X.astype(np.float64)
    used = np.diagonal(A) >= dead_tol
    D = np.zeros((k, f), dtype=np.float64)
    if used.any():
        Au, Bu = A[np.ix_(used, used)], Bt[used]
        try:
            D[used] = scipy.linalg.cho_solve(scipy.linalg.cho_factor(Au), Bu)
        except np.linalg.LinAlgError:  # singular C_used^T C_used: minimum-norm solution
            D[used] = np.linalg.lstsq(Au, Bu, rcond=None)[0]
    norms = np.linalg.norm(D, axis=1)
    dead_mask = ~used | ~(norms > 1e-12) | ~np.isfinite(norms)
    live = ~dead_mask
    D[live] /= norms[live, None]
    code[:, live] *= norms[live].astype(code.dtype)
    dead = np.flatnonzero(dead_mask)
    if dead.size:
        code[:, dead] = 0
        resample_dead_atoms(D, X, dead, random_state=random_state)
    return np.ascontiguousarray(D, dtype=dtype), dead


def _mod_generic(xp, X, code, random_state, dead_tol, fn):
    """:func:`update_dict_mod` in the namespace ``xp``."""
    if X.ndim != 2 or code.ndim != 2:
        raise ValueError(f"{fn}: X and code must be 2-D, got shapes {tuple(X.shape)} and "
                         f"{tuple(code.shape)}.")
    if code.shape[0] != X.shape[0]:
        raise ValueError(f"{fn}: code has {code.shape[0]} rows, X has {X.shape[0]}.")
    dtype = X.dtype if X.dtype in (xp.float32, xp.float64) else xp.float64
    f64 = xp.float64
    k = code.shape[1]
    C64 = xp.astype(code, f64)
    A = C64.T @ C64
    Bt = C64.T @ xp.astype(X, f64)
    used = xp.linalg.diagonal(A) >= dead_tol
    u = xp.astype(used, f64)
    # the used block, with the identity on the unused atoms (whose right-hand side is 0):
    # the same solution as the system restricted to the used atoms
    eye = xp.eye(k, dtype=f64, device=device(A))
    M = A * (u[:, None] * u[None, :]) + eye * (1.0 - u)[None, :]
    R = Bt * u[:, None]
    try:
        xp.linalg.cholesky(M)
        D = xp.linalg.solve(M, R)
        ok = bool(xp.all(xp.isfinite(D)))  # some libraries return NaN instead of raising
    except Exception:  # noqa: BLE001 - the library's LinAlgError: a singular system
        ok = False
    if not ok:  # singular C_used^T C_used: minimum-norm solution
        D = xp.linalg.pinv(M) @ R
    norms = xp.linalg.vector_norm(D, axis=1)
    dead_mask = ~used | ~(norms > 1e-12) | ~xp.isfinite(norms)
    live = ~dead_mask
    scale = xp.where(live, norms, xp.ones_like(norms))
    D = xp.where(live[:, None], D / scale[:, None], D)
    code[...] = xp.where(dead_mask[None, :], xp.zeros_like(code),
                         code * xp.astype(scale, code.dtype)[None, :])
    dead = resample_dead_atoms(D, X, dead_mask, random_state=random_state)
    return xp.astype(D, dtype), dead


def update_dict_ksvd(X, dictionary, code, *, random_state=None):
    r"""Approximate K-SVD: one rank-1 power step per atom on its restricted residual.

    For each atom ``k`` in turn, with ``I`` the samples whose code uses it
    (``code[:, k] != 0``: negative codes count) and ``R_I = X_I - C_I D + g d_k^T`` the
    residual without the atom (``g = C_I[:, k]``):

    .. math::
        d_k \leftarrow R_I^T g / \|R_I^T g\|_2, \qquad g \leftarrow R_I d_k

    (one step of the power method for the best rank-1 approximation of ``R_I``, which never
    increases ``||R_I - g d^T||_F``). The codes change on the support only, so sparsity is
    kept. Unused atoms (empty ``I``) are resampled. The residual is kept up to date, so a
    sweep costs ``O(nnz(C) n_features)`` plus one ``C @ D``.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Data.
    dictionary : ndarray of shape (n_components, n_features)
        Atoms as rows; updated in place.
    code : ndarray of shape (n_samples, n_components)
        Codes; updated in place on their support.
    random_state : int, RandomState instance or None, default=None
        Seed of the resampling of unused atoms.

    Returns
    -------
    dead : ndarray of int
        Indices of the resampled atoms.

    References
    ----------
    .. [1] R. Rubinstein, M. Zibulevsky and M. Elad, "Efficient implementation of the K-SVD
       algorithm using batch orthogonal matching pursuit", Technion CS-2008-08, 2008.
    .. [2] M. Aharon, M. Elad and A. Bruckstein, "K-SVD: an algorithm for designing
       overcomplete dictionaries for sparse representation", IEEE TSP 54(11), 2006.

    Examples
    --------
    >>> import numpy as np
    >>> from sparsopt.decomposition._dict_update import update_dict_ksvd
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(30, 5))
    >>> D = np.ascontiguousarray(np.eye(5)[:3])
    >>> C = X[:, :3].copy()
    >>> before = np.linalg.norm(X - C @ D)
    >>> _ = update_dict_ksvd(X, D, C)
    >>> bool(np.linalg.norm(X - C @ D) <= before)
    True
    """
    fn = "update_dict_ksvd"
    xp = array_namespace(X, dictionary, code)
    if not is_numpy_namespace(xp):
        raise host_only_error(
            fn, xp, reason="its per-atom supports have data-dependent sizes",
            alternative="use update_dict_bcd or update_dict_mod (update='bcd' or 'mod'), "
                        "which run in any array-API namespace")
    X = _check_2d(X, "X", fn)
    D = dictionary
    if not (isinstance(D, np.ndarray) and D.ndim == 2 and D.flags.writeable):
        raise ValueError(f"{fn}: dictionary must be a writeable 2-D ndarray.")
    code = _check_2d(code, "code", fn)
    if code.shape != (X.shape[0], D.shape[0]) or D.shape[1] != X.shape[1]:
        raise ValueError(f"{fn}: shapes do not match: X {X.shape}, dictionary {D.shape}, "
                         f"code {code.shape}.")
    R = X.astype(np.float64) - code.astype(np.float64) @ D.astype(np.float64)
    dead = []
    for k in range(D.shape[0]):
        idx = np.flatnonzero(code[:, k])  # the support: != 0, negative codes included
        if idx.size == 0:
            dead.append(k)
            continue
        g = code[idx, k].astype(np.float64)
        d = D[k].astype(np.float64)
        RI = R[idx]
        RI += np.outer(g, d)  # residual without atom k
        v = RI.T @ g
        nv = float(np.linalg.norm(v))
        if not nv > 0.0:  # pragma: no cover - RI orthogonal to g: keep the atom
            RI -= np.outer(g, d)
            continue
        d = v / nv
        g = RI @ d
        RI -= np.outer(g, d)
        R[idx] = RI
        D[k] = d
        code[idx, k] = g
    dead = np.asarray(dead, dtype=np.intp)
    if dead.size:
        resample_dead_atoms(D, X, dead, random_state=random_state)
    return dead
