"""scikit-learn's spellings of the decomposition module, mapped onto sparsopt's in one place.

scikit-learn names a sparse coder by an ``algorithm`` string (``sparse_encode``,
``SparseCoder.transform_algorithm``, ``DictionaryLearning.transform_algorithm``) or a
``fit_algorithm``/``method`` (``"lars"``, ``"cd"``: the coder of the dictionary
learners' fit); sparsopt names it by ``penalty``, ``alpha`` and ``solver``. This module is
the one translation table:

=============== ====================================================================
scikit-learn    sparsopt
=============== ====================================================================
``lasso_lars``  ``penalty="l1", alpha=alpha, solver="lars"`` (exact homotopy)
``lasso_cd``    ``penalty="l1", alpha=alpha, solver="cd"`` (warm start from ``init``)
``omp``         ``solver="omp", n_nonzero_coefs=k``
``lars``        least-angle regression stopped at ``k`` active atoms (:func:`lar_codes`)
``threshold``   soft thresholding of ``X D^T`` at ``alpha`` (the l1 prox, one step)
``fista``       ``penalty="l1", alpha=alpha, solver="fista"`` (sparsopt's extension)
=============== ====================================================================

``"fista"`` is not one of scikit-learn's names: it is the coder that also runs on
array-API arrays (CuPy, ...) in their namespace, as ``"threshold"`` does; the other
algorithms run on NumPy arrays only and raise ``TypeError`` for such arrays.

with scikit-learn's defaults: ``alpha=None`` is 1.0 and ``n_nonzero_coefs=None`` is
``int(min(max(n_features / 10, 1), n_components))``. scikit-learn's lasso coders divide
``alpha`` by ``n_features`` and solve a mean-scaled Lasso, which is the per-signal sum
``1/2 ||x - c D||^2 + alpha ||c||_1`` that sparsopt solves with ``alpha`` as given: the
same ``alpha`` gives the same codes.

Each estimator or function has two sets of names: sparsopt's (``penalty``, ``solver``...)
and scikit-learn's (``algorithm``, ``transform_algorithm``...). Setting both is an error
(:func:`check_one_spelling`); setting neither gives scikit-learn's default behaviour.
"""

from __future__ import annotations

import numpy as np

from ..penalties import get_penalty

__all__ = ["SK_ALGORITHMS", "SK_FIT_ALGORITHMS", "check_one_spelling", "sk_default_k",
           "sk_encode", "lar_codes", "split_codes", "unsplit_codes"]

SK_ALGORITHMS = ("lasso_lars", "lasso_cd", "lars", "omp", "threshold")
#: sparsopt's extension of the ``algorithm`` names: the l1 codes by batched FISTA
EXT_ALGORITHMS = ("fista",)
#: the ``algorithm`` names that run on any array-API namespace
ARRAY_API_ALGORITHMS = ("fista", "threshold")
SK_FIT_ALGORITHMS = ("lars", "cd")  # DictionaryLearning.fit_algorithm, dict_learning.method
# the coder of scikit-learn's dictionary-learning fit: "lars" -> Lasso by LARS, "cd" -> CD
FIT_ALGORITHM_TO_SOLVER = {"lars": "lars", "cd": "cd"}


def check_one_spelling(owner, native, sklearn):
    """Raise if parameters of both spellings are set.

    ``native`` and ``sklearn`` map a parameter name to whether the user set it. Returns
    ``"native"`` if a native name is set, ``"sklearn"`` otherwise (also when none is).
    """
    nat = [name for name, is_set in native.items() if is_set]
    sk = [name for name, is_set in sklearn.items() if is_set]
    if nat and sk:
        raise ValueError(
            f"{owner}: {', '.join(nat)} (sparsopt's spelling) and {', '.join(sk)} "
            "(scikit-learn's spelling) both choose the sparse coder; set one of them "
            "(see the 'coming from scikit-learn' table of the user guide).")
    return "native" if nat else "sklearn"


def sk_default_k(n_features, n_components):
    """scikit-learn's ``n_nonzero_coefs`` when None: 10% of the features, within [1, k]."""
    return int(min(max(n_features / 10, 1), n_components))


def check_sk_algorithm(algorithm, positive, owner, name="algorithm"):
    if algorithm not in SK_ALGORITHMS + EXT_ALGORITHMS:
        raise ValueError(f"{owner}: {name} must be one of {SK_ALGORITHMS + EXT_ALGORITHMS}, "
                         f"got {algorithm!r}.")
    if positive and algorithm in ("omp", "lars"):
        raise ValueError(f"{owner}: positive codes are not supported by {name}="
                         f"{algorithm!r} (as in scikit-learn); use 'lasso_lars', 'lasso_cd' "
                         "or 'threshold'.")


def lar_codes(X, dictionary, n_nonzero_coefs, gram=None, cov=None):
    """Least-angle regression (LAR, no Lasso drops) of each row, stopped at ``k`` atoms.

    From ``c = 0``, the atom most correlated with the residual joins the active set, and
    the active codes move along the equiangular direction (``G_AA^{-1} s`` normalised)
    until another atom reaches the same absolute correlation (or the active atoms fit the
    signal); after ``k`` such moves the codes are returned. This is the algorithm that
    scikit-learn's ``sparse_encode(algorithm="lars")`` runs (its ``Lars`` estimator).

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    dictionary : ndarray of shape (n_components, n_features)
    n_nonzero_coefs : int
    gram : ndarray of shape (n_components, n_components), default=None
    cov : ndarray of shape (n_components, n_samples), default=None
        ``dictionary @ X.T``.

    Returns
    -------
    codes : ndarray of shape (n_samples, n_components), dtype of ``X``
    """
    D = np.asarray(dictionary, dtype=np.float64)
    G = D @ D.T if gram is None else np.asarray(gram, dtype=np.float64)
    Cv = (np.asarray(X, dtype=np.float64) @ D.T if cov is None
          else np.asarray(cov, dtype=np.float64).T)
    n, m = Cv.shape
    k = min(int(n_nonzero_coefs), m)
    out = np.zeros((n, m))
    tiny = np.finfo(np.float64).tiny
    for i in range(n):
        corr = Cv[i].copy()  # D (x - c D): the correlations with the residual
        code = out[i]
        active, signs = [], []
        inactive = np.ones(m, dtype=bool)
        grow = True  # False after a code crossed zero: the next move keeps the active set
        for _ in range(k):
            if not inactive.any():
                break
            j = int(np.flatnonzero(inactive)[np.argmax(np.abs(corr[inactive]))])
            big = float(np.abs(corr[j]))
            if big <= 1e3 * tiny:
                break
            if grow:
                active.append(j)
                signs.append(np.sign(corr[j]))
                inactive[j] = False
            s = np.asarray(signs)
            try:
                w = np.linalg.solve(G[np.ix_(active, active)], s)
            except np.linalg.LinAlgError:
                break
            q = float(s @ w)
            if not q > 0:
                break
            aa = 1.0 / np.sqrt(q)
            u = aa * w  # move of the active codes per unit step
            a = G[:, active] @ u  # change of every correlation per unit step
            gamma = big / aa  # the active atoms fit the signal
            if inactive.any():
                ci, ai = corr[inactive], a[inactive]
                with np.errstate(divide="ignore", invalid="ignore"):
                    cand = np.concatenate([(big - ci) / (aa - ai), (big + ci) / (aa + ai)])
                cand = cand[np.isfinite(cand) & (cand > 0)]
                if cand.size:
                    gamma = min(gamma, float(cand.min()))
            # a code that would cross zero flips its sign in the direction of the next
            # move, which adds no atom (scikit-learn's LAR does so)
            with np.errstate(divide="ignore", invalid="ignore"):
                z = -code[active] / u
            pos = z[np.isfinite(z) & (z > 0)]
            grow = True
            if pos.size and pos.min() < gamma:
                for idx in np.flatnonzero(z == pos.min()):
                    signs[idx] = -signs[idx]
                grow = False
            code[active] += gamma * u
            corr -= gamma * a
    return out.astype(np.asarray(X).dtype, copy=False)


def sk_encode(X, dictionary, algorithm, *, n_nonzero_coefs=None, alpha=None, max_iter=1000,
              init=None, gram=None, cov=None, positive=False, n_jobs=None, verbose=0,
              owner="sparse_encode", name="algorithm"):
    """Codes of ``X`` for a scikit-learn ``algorithm`` name (see the module's table)."""
    from ..backends import host_only_error, is_numpy_namespace, namespace_name
    from ..solvers import encode
    from ..solvers.coding._common import input_namespace

    check_sk_algorithm(algorithm, positive, owner, name)
    xp = input_namespace(X, dictionary, gram, cov, init)
    host = is_numpy_namespace(xp)
    if not host and algorithm not in ARRAY_API_ALGORITHMS:
        raise host_only_error(
            f"{owner}: {name}={algorithm!r}", xp,
            alternative=f"use {name}='fista' (the l1 codes by batched FISTA) or "
                        f"'threshold', which run on {namespace_name(xp)} arrays in their "
                        "namespace")
    if host:  # host data (lists...) as NumPy arrays; the other namespaces' stay as given
        X, dictionary = np.asarray(X), np.asarray(dictionary)
        cov = None if cov is None else np.asarray(cov)
    if X.dtype not in (xp.float32, xp.float64):  # integers: float64 codes
        X = xp.astype(X, xp.float64)
    D = xp.astype(dictionary, X.dtype, copy=False)
    if algorithm in ("omp", "lars"):  # NumPy only (refused above for other namespaces)
        k = sk_default_k(D.shape[1], D.shape[0]) if n_nonzero_coefs is None \
            else int(n_nonzero_coefs)
        if algorithm == "lars":
            return lar_codes(X, D, k, gram=gram, cov=cov)
        return encode(X, D, solver="omp", n_nonzero_coefs=k, gram=gram, n_jobs=n_jobs,
                      verbose=verbose).x
    pen = get_penalty("l1", alpha=1.0 if alpha is None else float(alpha),
                      positive=bool(positive))
    if algorithm == "threshold":
        C = (X @ D.T) if cov is None else xp.astype(cov, X.dtype, copy=False).T
        codes = pen.prox(C, 1.0)
        return np.ascontiguousarray(codes, dtype=X.dtype) if host else codes
    solver = {"fista": "fista", "lasso_lars": "lars", "lasso_cd": "cd"}[algorithm]
    extra = {"tol": 1e-8} if solver == "cd" else {}
    if solver != "lars":  # the homotopy always starts from zero
        extra["init"] = init
    return encode(X, D, penalty=pen, solver=solver, max_iter=max(int(max_iter), 1),
                  gram=gram, n_jobs=n_jobs, verbose=verbose, **extra).x


def split_codes(codes):
    """scikit-learn's ``split_sign``: ``[max(c, 0), -min(c, 0)]`` side by side."""
    if isinstance(codes, np.ndarray):
        return np.hstack([np.maximum(codes, 0), -np.minimum(codes, 0)])
    from ..backends import array_namespace

    xp = array_namespace(codes)
    return xp.concat([xp.maximum(codes, 0.0), -xp.minimum(codes, 0.0)], axis=1)


def unsplit_codes(codes):
    """Inverse of :func:`split_codes`."""
    k = codes.shape[1] // 2
    return codes[:, :k] - codes[:, k:]
