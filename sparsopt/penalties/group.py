"""Group penalties acting on the last axis: group lasso and group k-support (WGSEF)."""

from __future__ import annotations

import numbers

import numpy as np

from ..backends import array_namespace, device, is_numpy_namespace
from ._base import Penalty, _check_scalar


def make_groups(groups, n_features, owner="penalty"):
    """Normalize a group specification into CSR arrays ``(indptr, indices)``.

    Parameters
    ----------
    groups : int or sequence of sequences of int or None
        ``int``: contiguous groups of that size (the last one may be shorter);
        a sequence: explicit, disjoint lists of feature indices; ``None``: one
        group per feature.
    n_features : int
        Length of the last axis of the coefficients.
    owner : str
        Name used in error messages.

    Returns
    -------
    indptr : ndarray of shape (n_groups + 1,)
    indices : ndarray of shape (n_grouped_features,)

    Examples
    --------
    >>> from sparsopt.penalties import make_groups
    >>> make_groups(2, 5)
    (array([0, 2, 4, 5]), array([0, 1, 2, 3, 4]))
    """
    if groups is None:
        return np.arange(n_features + 1, dtype=np.int64), np.arange(n_features, dtype=np.int64)
    if isinstance(groups, numbers.Integral) and not isinstance(groups, bool):
        if groups < 1:
            raise ValueError(f"{owner}: groups (a group size) must be >= 1, got {groups}.")
        starts = np.arange(0, n_features, groups, dtype=np.int64)
        indptr = np.append(starts, n_features).astype(np.int64)
        return indptr, np.arange(n_features, dtype=np.int64)
    try:
        lists = [np.asarray(g, dtype=np.int64).ravel() for g in groups]
    except (TypeError, ValueError) as exc:
        raise TypeError(
            f"{owner}: groups must be an int (group size) or a sequence of index lists."
        ) from exc
    if not lists:
        raise ValueError(f"{owner}: groups must contain at least one group.")
    if any(g.size == 0 for g in lists):
        raise ValueError(f"{owner}: every group must contain at least one feature index.")
    indices = np.concatenate(lists)
    if indices.min() < 0 or indices.max() >= n_features:
        raise ValueError(
            f"{owner}: group indices must lie in [0, {n_features}) for {n_features} features, "
            f"got range [{indices.min()}, {indices.max()}]."
        )
    if np.unique(indices).size != indices.size:
        raise ValueError(f"{owner}: groups must be disjoint (an index appears twice).")
    indptr = np.concatenate([[0], np.cumsum([g.size for g in lists])]).astype(np.int64)
    return indptr, indices


class _GroupPenalty(Penalty):
    is_separable = False
    capabilities = frozenset({"value", "prox"})

    def _check_groups_param(self):
        g = self.groups
        if g is None or (isinstance(g, numbers.Integral) and not isinstance(g, bool)):
            if g is not None and g < 1:
                raise ValueError(f"{type(self).__name__}: groups must be >= 1, got {g}.")
            return
        if isinstance(g, (str, bytes)) or not hasattr(g, "__iter__"):
            raise TypeError(
                f"{type(self).__name__}: groups must be None, an int (group size) or a "
                f"sequence of index lists, got {g!r}."
            )

    def _structure(self, n_features):
        # keyed on the parameter objects too: assigning pen.groups/pen.weights rebuilds
        key = (n_features, id(self.groups), id(self.weights))
        cache = self.__dict__.setdefault("_struct_cache", {})
        if key not in cache:
            indptr, indices = make_groups(self.groups, n_features, type(self).__name__)
            sizes = np.diff(indptr).astype(np.float64)
            if self.weights is None:
                w = self._default_weights(sizes)
            else:
                w = np.asarray(self.weights, dtype=np.float64).ravel()
                if w.size != sizes.size:
                    raise ValueError(
                        f"{type(self).__name__}: weights has {w.size} entries for "
                        f"{sizes.size} groups."
                    )
                if not np.all(np.isfinite(w)) or np.any(w < 0):
                    raise ValueError(f"{type(self).__name__}: weights must be finite and >= 0.")
            cache.clear()
            cache[key] = (indptr, indices, np.ascontiguousarray(w))
        return cache[key]

    def set_params(self, **params):
        self.__dict__.pop("_struct_cache", None)
        return super().set_params(**params)

    def __getstate__(self):
        state = super().__getstate__()
        state.pop("_struct_cache", None)
        return state

    def _layout_kwargs(self, x):
        """``{"layout": ...}`` (see :meth:`_layout_on`) for the generic kernels of
        non-NumPy arrays with grouped features, ``{}`` otherwise."""
        if isinstance(x, np.ndarray) or self._structure(x.shape[-1])[1].size == 0:
            return {}
        return {"layout": self._layout_on(x)}

    def _structure_on(self, like):
        """``(indptr, indices, w)`` as arrays next to ``like`` (cached on its device)."""
        struct = self._structure(like.shape[-1])
        if isinstance(like, np.ndarray) or is_numpy_namespace(array_namespace(like)):
            return struct
        return tuple(
            self._on_device(name, like, struct, lambda i=i: struct[i], dt)
            for i, (name, dt) in enumerate(
                (("indptr", "int64"), ("indices", "int64"), ("weights", "float64")))
        )

    def _layout_on(self, like):
        """The padded group layout ``(feat, valid, member, gof, n_groups, size)`` of the
        namespace-generic kernels (their ``layout=``), built on ``like``'s device once
        (cached like the structure: rebuilt when the groups, weights or ``n_features``
        change)."""
        from ..backends._numpy.prox import _group_layout

        struct = self._structure(like.shape[-1])
        xp = array_namespace(like)

        def build():  # the largest group size from the host structure: no device sync
            indptr, indices, _ = self._structure_on(like)
            sizes = np.diff(struct[0])
            return _group_layout(xp, indptr, indices, like.shape[-1],
                                 int(sizes.max()) if sizes.size else 0)

        return self._device_cached("layout", xp, like, struct, build)

    def _group_norms(self, x):
        if not isinstance(x, np.ndarray):
            from ..backends._numpy.prox import _group_sqnorms

            xp = array_namespace(x)
            indptr, indices, w = self._structure_on(x)
            if indices.shape[0] == 0 or x.shape[0] == 0:
                return xp.zeros((x.shape[0], indptr.shape[0] - 1), dtype=xp.float64,
                                device=device(x)), w
            feat, valid, _, _, n_groups, size = self._layout_on(x)
            sq = _group_sqnorms(xp, xp.astype(x, xp.float64), feat, valid, n_groups, size)
            return xp.sqrt(sq), w
        indptr, indices, w = self._structure(x.shape[-1])
        norms = np.stack(
            [np.sqrt((x[:, indices[indptr[g] : indptr[g + 1]]] ** 2).sum(axis=1))
             for g in range(len(indptr) - 1)],
            axis=1,
        )
        return norms, w


class GroupL21(_GroupPenalty):
    """Group-lasso penalty ``alpha * sum_g w_g ||x_g||_2``; prox is block soft thresholding.

    Parameters
    ----------
    alpha : float, default=1.0
        Regularization strength (``>= 0``).
    groups : int or sequence of sequences of int, default=1
        Group size for contiguous groups, or explicit disjoint index lists. Features
        in no group are not penalized.
    weights : array-like of shape (n_groups,) or None, default=None
        Group weights; ``None`` uses ``sqrt(group size)`` (Yuan and Lin).

    References
    ----------
    .. [1] M. Yuan and Y. Lin, "Model selection and estimation in regression with
       grouped variables", J. R. Stat. Soc. B 68(1), 2006.

    Examples
    --------
    >>> import numpy as np
    >>> from sparsopt.penalties import GroupL21
    >>> GroupL21(alpha=1.0, groups=2, weights=[1.0, 1.0]).prox(np.array([3.0, 4.0, 0.3, 0.4]))
    array([2.4, 3.2, 0. , 0. ])
    """

    def __init__(self, alpha=1.0, groups=1, weights=None):
        self.alpha = alpha
        self.groups = groups
        self.weights = weights
        self._validate()

    def _validate(self):
        _check_scalar(self.alpha, "alpha", "GroupL21", lower=0.0)
        self._check_groups_param()

    @staticmethod
    def _default_weights(sizes):
        return np.sqrt(sizes)

    def _value_rows(self, x):
        norms, w = self._group_norms(x)
        return float(self.alpha) * (norms @ w)

    def _prox(self, x, step, engine, out):
        indptr, indices, w = self._structure_on(x)
        thresh = step * float(self.alpha) * w
        if isinstance(thresh, np.ndarray):
            thresh = np.ascontiguousarray(thresh)
        return self._dispatch("prox_group_l2", x, indptr, indices, thresh, out, engine=engine,
                              **self._layout_kwargs(x))

    def _group_spec(self, n_features):
        indptr, indices, w = self._structure(n_features)
        return indptr, indices, float(self.alpha) * w


def ksupport_squared(z, k):
    """Squared k-support norm of each row of ``z`` (non-negative entries).

    Uses the closed form of Argyriou, Foygel and Srebro (2012): with ``z`` sorted
    decreasingly and ``r`` the unique index in ``{0..k-1}`` such that
    ``z[k-r-2] > sum(z[k-r-1:]) / (r+1) >= z[k-r-1]`` (1-based in the paper),
    ``||z||^2 = sum_{i<k-r-1} z_i^2 + (sum_{i>=k-r-1} z_i)^2 / (r+1)``.
    """
    if not isinstance(z, np.ndarray):
        return _ksupport_squared_namespace(z, k)
    z = -np.sort(-np.abs(z), axis=1)
    m = z.shape[1]
    if k >= m:
        return (z * z).sum(axis=1)
    out = np.empty(z.shape[0])
    for i, row in enumerate(z):
        tails = np.cumsum(row[::-1])[::-1]  # tails[j] = sum(row[j:])
        best = None
        for r in range(k):
            j = k - r - 1  # first index of the averaged tail
            avg = tails[j] / (r + 1)
            left = row[j - 1] if j > 0 else np.inf
            if left > avg >= row[j]:
                best = (row[:j] ** 2).sum() + tails[j] ** 2 / (r + 1)
                break
        if best is None:  # ties at machine precision: the formula is continuous, use r=k-1
            best = tails[0] ** 2 / k
        out[i] = best
    return out


def _ksupport_squared_namespace(z, k):
    """:func:`ksupport_squared` of an array-API array: all rows at once, loop over ``r``."""
    xp = array_namespace(z)
    z = xp.flip(xp.sort(xp.abs(z), axis=1), axis=1)
    m = z.shape[1]
    if k >= m:
        return xp.sum(z * z, axis=1)
    tails = xp.flip(xp.cumulative_sum(xp.flip(z, axis=1), axis=1), axis=1)
    heads = xp.cumulative_sum(z * z, axis=1, include_initial=True)  # heads[:, j] = sum z[:j]^2
    best = tails[:, 0] ** 2 / k  # ties at machine precision: the formula is continuous
    found = xp.zeros(z.shape[0], dtype=xp.bool, device=device(z))
    for r in range(k):
        j = k - r - 1
        avg = tails[:, j] / (r + 1)
        cond = avg >= z[:, j]
        if j > 0:
            cond = cond & (z[:, j - 1] > avg)
        best = xp.where(cond & ~found, heads[:, j] + tails[:, j] ** 2 / (r + 1), best)
        found = found | cond
    return best


class KSupport(_GroupPenalty):
    """Squared (group) k-support norm: the sparse envelope function.

    ``value(x) = alpha / 2 * ||(sqrt(w_g) ||x_g||_2)_g||_{k-sp}^2``, the convex
    envelope of ``1/2 sum_g w_g ||x_g||^2`` restricted to at most ``k`` non-zero
    groups. With ``groups=None`` and unit weights it is the squared k-support norm
    of Argyriou et al.; with groups and weights it is the weighted group sparse
    envelope function (WGSEF) of Refael et al. ``k = 1`` gives ``alpha/2 ||x||_1^2``.

    The prox is exact and costs O(m log m) for m groups. It is a shrinkage, not a
    hard selector: it may return more than ``k`` non-zero groups.

    Parameters
    ----------
    alpha : float, default=1.0
        Regularization strength (``>= 0``).
    k : int, default=1
        Target number of non-zero groups (``>= 1``).
    groups : int or sequence of sequences of int or None, default=None
        ``None``: every feature is its own group; otherwise as in :class:`GroupL21`.
    weights : array-like of shape (n_groups,) or None, default=None
        Group weights ``w_g``; ``None`` means all ones.

    References
    ----------
    .. [1] A. Argyriou, R. Foygel and N. Srebro, "Sparse prediction with the
       k-support norm", NeurIPS 2012.
    .. [2] Y. Refael, I. Arbel and W. Huleihel, "A convex and linear-time
       regularizer for group sparsity (weighted group sparse envelope function)",
       arXiv:2212.12921.

    Examples
    --------
    >>> import numpy as np
    >>> from sparsopt.penalties import KSupport
    >>> x = np.array([3.0, -1.0, 0.5])
    >>> float(KSupport(alpha=2.0, k=1).value(x))  # = ||x||_1^2 for alpha=2, k=1
    20.25
    >>> KSupport(alpha=0.1, k=1).prox(x).round(3)
    array([ 2.654, -0.654,  0.154])
    """

    def __init__(self, alpha=1.0, k=1, groups=None, weights=None):
        self.alpha = alpha
        self.k = k
        self.groups = groups
        self.weights = weights
        self._validate()

    def _validate(self):
        name = type(self).__name__
        _check_scalar(self.alpha, "alpha", name, lower=0.0)
        if isinstance(self.k, bool) or not isinstance(self.k, numbers.Integral) or self.k < 1:
            raise ValueError(f"{name}: k must be an integer >= 1, got {self.k!r}.")
        self._check_groups_param()

    @staticmethod
    def _default_weights(sizes):
        return np.ones_like(sizes)

    def _value_rows(self, x):
        norms, w = self._group_norms(x)
        xp = array_namespace(norms)
        return 0.5 * float(self.alpha) * ksupport_squared(norms * xp.sqrt(w), int(self.k))

    def _prox(self, x, step, engine, out):
        if np.any(self._structure(x.shape[-1])[2] <= 0):
            raise ValueError(f"{type(self).__name__}: weights must be > 0.")
        indptr, indices, w = self._structure_on(x)
        lam = step * float(self.alpha)
        if lam == 0.0:
            out[...] = x
            return out
        return self._dispatch("prox_ksupport", x, indptr, indices, w, int(self.k), lam,
                              out, engine=engine, **self._layout_kwargs(x))


class WGSEF(KSupport):
    """Weighted group sparse envelope function (alias of :class:`KSupport` with groups).

    See :class:`KSupport` for the definition, parameters and prox.

    Parameters
    ----------
    alpha : float, default=1.0
        Regularization strength.
    k : int, default=1
        Number of groups to keep.
    groups : int or sequence of sequences of int or None, default=None
        Group structure.
    weights : array-like of shape (n_groups,) or None, default=None
        Group weights (``None``: ones).

    References
    ----------
    .. [1] Y. Refael, I. Arbel and W. Huleihel, arXiv:2212.12921.

    Examples
    --------
    >>> import numpy as np
    >>> from sparsopt.penalties import WGSEF
    >>> pen = WGSEF(alpha=0.5, k=1, groups=[[0, 1], [2, 3]])
    >>> pen.prox(np.array([3.0, 4.0, 0.3, 0.4])).round(3)
    array([2.   , 2.667, 0.   , 0.   ])
    """
