"""Distances between a learned dictionary and a ground-truth one (atoms as rows)."""

from __future__ import annotations

import numpy as np

from ..utils.validation import check_array, check_scalar


def _two_dictionaries(components, true_components, owner):
    C = check_array(components, "components", owner, ndim=2).astype(np.float64, copy=False)
    T = check_array(true_components, "true_components", owner, ndim=2).astype(np.float64,
                                                                              copy=False)
    if C.shape[1] != T.shape[1]:
        raise ValueError(
            f"{owner}: components has {C.shape[1]} features (columns) but true_components "
            f"has {T.shape[1]}; both take atoms as rows, shape (n_components, n_features) "
            "(transpose a dictionary whose atoms are columns)."
        )
    return C, T


def _check_orthonormal_rows(M, name, atol, owner):
    err = float(np.max(np.abs(M @ M.T - np.eye(M.shape[0]))))
    if not err <= atol:
        raise ValueError(
            f"{owner}: the rows of {name} must be orthonormal (max |{name} @ {name}.T - I| = "
            f"{err:.2e} > atol = {atol:.1e}). This metric is defined for orthogonal "
            "dictionaries; use atom_matching_error or atom_recovery_rate for general ones."
        )


def dictionary_recovery_error(components, true_components, *, atol=1e-4):
    r"""Recovery error of an orthogonal dictionary, up to signs and permutation of atoms.

    .. math:: \mathrm{err} = \left| \frac{\| C\, D^T \|_4^4}{N} - 1 \right| ,

    where ``C`` is ``components`` and ``D`` is ``true_components`` (both with atoms as
    rows, scikit-learn's ``components_`` layout, ``N`` atoms) and ``||.||_4^4`` is the
    sum of the entries to the 4th power. ``M = C D^T`` holds the inner products of
    learned and true atoms; it is orthogonal, so each row has unit l2 norm and
    ``||M||_4^4 <= N`` with equality exactly when ``M`` is a signed permutation. The error
    is therefore 0 iff ``components`` equals ``true_components`` up to the order and signs
    of the atoms, invariant to both, and at most 1.

    With fewer learned atoms ``k`` than true ones, ``M`` is ``k x m`` and the error is
    ``| ||M||_4^4 / k - 1 |``: 0 iff every learned atom is, up to sign, one of the true
    atoms.

    This is the metric of the l4-maximization and online orthogonal dictionary learning
    papers, written there for the demixing matrix ``A`` (rows are atoms) and a true
    dictionary ``D0`` with atoms as *columns*: ``err(A) = | ||A D0||_4^4 / N - 1 |``. Pass
    ``true_components = D0.T``.

    Parameters
    ----------
    components : array-like of shape (n_components, n_features)
        Learned dictionary, atoms as rows, with orthonormal rows (typically square).
    true_components : array-like of shape (n_true_components, n_features)
        Ground-truth dictionary in the same layout, orthonormal rows;
        ``n_components <= n_true_components <= n_features`` (usually all equal).
    atol : float, default=1e-4
        Tolerance of the orthonormality check ``max |C C^T - I| <= atol`` applied to both
        inputs (a row of norm ``1 + delta`` shifts the error by about ``4 delta``).

    Returns
    -------
    error : float
        In [0, 1] (up to rounding): 0 for a perfect recovery; a Haar-random orthogonal
        guess has expected error ``1 - 3/(N + 2)``.

    Raises
    ------
    ValueError
        If the shapes differ, an input contains NaN/inf, or the rows are not orthonormal.

    References
    ----------
    .. [1] Y. Zhai, Z. Yang, Z. Liao, J. Wright and Y. Ma, "Complete dictionary learning
       via l4-norm maximization over the orthogonal group", J. Mach. Learn. Res. 21, 2020.
    .. [2] Y. Xue and V. K. N. Lau, "Online orthogonal dictionary learning based on
       Frank-Wolfe method", arXiv:2103.01484, 2021.

    Examples
    --------
    >>> import numpy as np
    >>> from sparsopt.metrics import dictionary_recovery_error
    >>> D = np.linalg.qr(np.random.default_rng(0).normal(size=(4, 4)))[0]
    >>> signed_permutation = -D[[2, 0, 3, 1]]
    >>> dictionary_recovery_error(signed_permutation, D) < 1e-12
    True
    >>> round(dictionary_recovery_error(np.eye(4), np.eye(4)[::-1]), 6)
    0.0
    """
    owner = "dictionary_recovery_error"
    atol = check_scalar(atol, "atol", owner, lower=0.0)
    C, T = _two_dictionaries(components, true_components, owner)
    for name, M in (("components", C), ("true_components", T)):
        if M.shape[0] > M.shape[1]:
            raise ValueError(f"{owner}: {name} has shape {M.shape}: an orthogonal dictionary "
                             "has at most n_features atoms (atoms must be rows).")
    if C.shape[0] > T.shape[0]:
        raise ValueError(f"{owner}: components has {C.shape[0]} atoms but true_components "
                         f"only {T.shape[0]}; expected the same shape (n_components, "
                         "n_features), or fewer learned atoms.")
    _check_orthonormal_rows(C, "components", atol, owner)
    _check_orthonormal_rows(T, "true_components", atol, owner)
    M = C @ T.T
    return float(abs(np.sum(M ** 4) / C.shape[0] - 1.0))


def _abs_cosines(C, T, owner):
    """``|cos|`` between every true atom (rows) and every learned atom (columns)."""
    t_norm = np.linalg.norm(T, axis=1)
    if np.any(t_norm == 0):
        raise ValueError(f"{owner}: true_components has an all-zero atom (row "
                         f"{int(np.flatnonzero(t_norm == 0)[0])}); atoms must be non-zero.")
    c_norm = np.linalg.norm(C, axis=1)
    c_norm[c_norm == 0] = 1.0  # a zero learned atom matches nothing (cosine 0)
    cos = np.abs((T / t_norm[:, None]) @ (C / c_norm[:, None]).T)
    return np.minimum(cos, 1.0)


def atom_matching_error(components, true_components):
    """Mean over true atoms of ``1 - max |cosine|`` with the closest learned atom.

    For every true atom ``d`` the closest learned atom (in absolute cosine, so the sign
    and scale of atoms do not matter) is found, and ``1 - |cos(d, c)|`` is averaged over
    the true atoms. Works for any dictionaries, complete or overcomplete, with any
    numbers of atoms; a learned atom may serve several true atoms (no one-to-one
    assignment).

    Parameters
    ----------
    components : array-like of shape (n_components, n_features)
        Learned dictionary, atoms as rows (scikit-learn's ``components_``). All-zero
        atoms match nothing.
    true_components : array-like of shape (n_true_components, n_features)
        Ground-truth dictionary, atoms as rows, non-zero.

    Returns
    -------
    error : float
        In [0, 1]: 0 iff every true atom is a learned atom up to sign and scale.

    Raises
    ------
    ValueError
        If the numbers of features differ, an input contains NaN/inf, or a true atom is
        zero.

    See Also
    --------
    atom_recovery_rate : fraction of true atoms recovered above a cosine threshold.

    References
    ----------
    .. [1] M. Aharon, M. Elad and A. Bruckstein, "K-SVD: an algorithm for designing
       overcomplete dictionaries for sparse representation", IEEE Trans. Signal
       Process. 54(11), 2006 (the atom-matching evaluation of synthetic experiments).

    Examples
    --------
    >>> import numpy as np
    >>> from sparsopt.metrics import atom_matching_error
    >>> true = np.array([[1.0, 0.0], [0.0, 1.0]])
    >>> learned = np.array([[0.0, -2.0], [1.0, 0.0], [1.0, 1.0]])
    >>> atom_matching_error(learned, true)
    0.0
    >>> round(atom_matching_error(np.array([[1.0, 1.0]]), true), 4)
    0.2929
    """
    owner = "atom_matching_error"
    C, T = _two_dictionaries(components, true_components, owner)
    best = _abs_cosines(C, T, owner).max(axis=1)
    return float(np.mean(1.0 - best))


def atom_recovery_rate(components, true_components, *, threshold=0.99):
    """Fraction of true atoms recovered: closest learned atom has ``|cosine| >= threshold``.

    The standard success measure of synthetic dictionary learning experiments (K-SVD's
    evaluation counts an atom as recovered when ``1 - |d^T c| < 0.01`` for unit atoms,
    i.e. ``threshold=0.99``). Sign and scale of atoms do not matter; a learned atom may
    recover several true atoms (no one-to-one assignment).

    Parameters
    ----------
    components : array-like of shape (n_components, n_features)
        Learned dictionary, atoms as rows. All-zero atoms recover nothing.
    true_components : array-like of shape (n_true_components, n_features)
        Ground-truth dictionary, atoms as rows, non-zero.
    threshold : float, default=0.99
        Minimum absolute cosine, in (0, 1].

    Returns
    -------
    rate : float
        In [0, 1]: the fraction of rows of ``true_components`` recovered.

    Raises
    ------
    ValueError
        If the numbers of features differ, an input contains NaN/inf, a true atom is
        zero, or ``threshold`` is outside (0, 1].

    See Also
    --------
    atom_matching_error : the mean ``1 - max |cosine|``.

    References
    ----------
    .. [1] M. Aharon, M. Elad and A. Bruckstein, "K-SVD: an algorithm for designing
       overcomplete dictionaries for sparse representation", IEEE Trans. Signal
       Process. 54(11), 2006.

    Examples
    --------
    >>> import numpy as np
    >>> from sparsopt.metrics import atom_recovery_rate
    >>> true = np.eye(3)
    >>> learned = np.array([[0.0, 3.0, 0.0], [-1.0, 0.05, 0.0]])
    >>> atom_recovery_rate(learned, true)  # atoms 0 and 1 found, atom 2 missing
    0.6666666666666666
    """
    owner = "atom_recovery_rate"
    threshold = check_scalar(threshold, "threshold", owner, lower=0.0, lower_inclusive=False,
                             upper=1.0)
    C, T = _two_dictionaries(components, true_components, owner)
    best = _abs_cosines(C, T, owner).max(axis=1)
    # tiny slack so that exact matches computed with rounding count at threshold=1
    return float(np.mean(best >= threshold - 1e-12))
