"""Pruning criteria: which weights of a network to keep.

A criterion turns the weights of a network (a list of 2-D arrays shaped like
scikit-learn's ``coefs_``, ``(n_in, n_out)``) into boolean masks (True = kept) with
:meth:`PruningCriterion.select`. Counts are exact: the top-k selections use a partial
sort with a deterministic tie-break (among equal scores the lower flat index, in
row-major order, wins), so the realised density equals the target within one weight
per layer (within one weight in total for a global selection).
"""

from __future__ import annotations

import numbers
import re

import numpy as np

from ..backends import dispatch
from ..utils._params import ParamsMixin
from ..utils.validation import check_scalar
from ._allocation import ALLOCATIONS, _ceil_count, _check_density, layer_counts

SCOPES = ("global", "layer", "erk")
GROUP_BY = ("neuron_out", "neuron_in", "weight")


# ----------------------------------------------------------------------------- helpers
def _topk_mask(scores, k):
    """Boolean mask of the ``k`` largest entries of the 1-D ``scores``.

    Ties at the threshold go to the lower index, so the result is deterministic and has
    exactly ``min(max(k, 0), scores.size)`` True entries.
    """
    n = scores.size
    mask = np.zeros(n, dtype=bool)
    if k <= 0:
        return mask
    if k >= n:
        mask[:] = True
        return mask
    tau = np.partition(scores, n - k)[n - k]  # the k-th largest score
    np.greater(scores, tau, out=mask)
    need = k - int(np.count_nonzero(mask))
    if need > 0:
        mask[np.flatnonzero(scores == tau)[:need]] = True
    return mask


def _check_layers(coefs, owner):
    """``coefs`` as a list of finite 2-D float arrays (not copied, never modified)."""
    if isinstance(coefs, np.ndarray) or not hasattr(coefs, "__len__"):
        raise TypeError(f"{owner}: coefs must be a list of 2-D arrays (one per layer).")
    out = []
    for i, w in enumerate(coefs):
        w = np.asarray(w)
        if w.ndim != 2:
            raise ValueError(
                f"{owner}: coefs[{i}] must be a 2-D array (n_in, n_out), got ndim={w.ndim}.")
        if not (np.issubdtype(w.dtype, np.floating) or np.issubdtype(w.dtype, np.integer)):
            raise TypeError(f"{owner}: coefs[{i}] must hold real numbers, got {w.dtype}.")
        if w.size == 0:
            raise ValueError(f"{owner}: coefs[{i}] is empty.")
        if not np.isfinite(w).all():
            raise ValueError(
                f"{owner}: coefs[{i}] contains NaN or infinity; pruning needs finite weights.")
        out.append(w)
    if not out:
        raise ValueError(f"{owner}: coefs must contain at least one layer.")
    return out


def _check_prunable(prunable, n_layers, owner):
    if prunable is None:
        return [True] * n_layers
    prunable = [bool(p) for p in prunable]
    if len(prunable) != n_layers:
        raise ValueError(
            f"{owner}: prunable must have one entry per layer ({n_layers}), got {len(prunable)}.")
    return prunable


def _check_like(arrays, coefs, name, owner, *, as_bool=False):
    """Optional per-layer arrays (masks, grads) with the shapes of ``coefs``."""
    if arrays is None:
        return None
    if len(arrays) != len(coefs):
        raise ValueError(
            f"{owner}: {name} must have one array per layer ({len(coefs)}), got {len(arrays)}.")
    out = []
    for i, (a, w) in enumerate(zip(arrays, coefs)):
        a = np.asarray(a)
        if a.shape != w.shape:
            raise ValueError(
                f"{owner}: {name}[{i}] has shape {a.shape}, expected {w.shape} like coefs[{i}].")
        if as_bool:
            if a.dtype != bool:
                if not np.isin(a, (0, 1)).all():
                    raise ValueError(f"{owner}: {name}[{i}] must be boolean (True = kept).")
                a = a.astype(bool)
        elif not np.isfinite(a).all():
            raise ValueError(f"{owner}: {name}[{i}] contains NaN or infinity.")
        out.append(a)
    return out


def _scores(w, mask):
    """Magnitudes as float64, entries outside ``mask`` below every kept entry."""
    s = np.abs(w, dtype=np.float64).ravel()
    if mask is not None:
        s[~mask.ravel()] = -1.0  # already pruned: chosen only if nothing else is left
    return s


def _check_random_state(random_state):
    """A ``RandomState`` (scikit-learn's rules), or a ``numpy.random.Generator`` as is."""
    if isinstance(random_state, np.random.Generator):
        return random_state
    from sklearn.utils import check_random_state

    return check_random_state(random_state)


# ----------------------------------------------------------------------------- base
class PruningCriterion(ParamsMixin):
    """Base class of pruning criteria.

    A criterion stores its parameters unchanged in ``__init__`` (scikit-learn style:
    :func:`~sklearn.base.clone`, ``get_params``/``set_params`` and ``repr`` work);
    they are checked by ``_validate``, which :meth:`select` calls.
    Subclasses implement ``_select(coefs, density, masks, grads, random_state)`` on
    the prunable layers only (inputs already validated) and return their masks.

    Examples
    --------
    >>> import numpy as np
    >>> from sparsopt.pruning import PruningCriterion
    >>> class KeepPositive(PruningCriterion):
    ...     def _select(self, coefs, density, masks, grads, random_state):
    ...         return [w > 0 for w in coefs]
    >>> KeepPositive().select([np.array([[1.0, -1.0]])], 0.5)
    [array([[ True, False]])]
    """

    #: whether ``select`` uses its ``density`` argument
    _uses_density = True

    def select(self, coefs, density, *, prunable=None, masks=None, grads=None,
               random_state=None):
        """Masks of the weights to keep.

        Parameters
        ----------
        coefs : list of ndarray of shape (n_in, n_out)
            Layer weights (scikit-learn's ``coefs_``); never modified.
        density : float in (0, 1]
            Target density over the prunable layers (kept / size). Ignored (and may
            be None) where the structure fixes it: :class:`NMCriterion`, and
            :class:`GroupEnvelope` with ``k`` set.
        prunable : list of bool or None, default=None
            Which layers may be pruned (None: all, the output layer included).
            Non-prunable layers get all-True masks.
        masks : list of ndarray of bool or None, default=None
            Current masks. Magnitude criteria rank the weights outside them last, so
            pruned weights stay pruned while the density decreases.
        grads : list of ndarray or None, default=None
            Dense gradients (checked for shape; used by gradient-based criteria).
        random_state : int, RandomState or Generator instance or None, default=None
            Seed of the random criteria.

        Returns
        -------
        masks : list of ndarray of bool of shape (n_in, n_out)
            New masks (True = kept), one per layer.
        """
        self._validate()
        owner = f"{type(self).__name__}.select"
        coefs = _check_layers(coefs, owner)
        prunable = _check_prunable(prunable, len(coefs), owner)
        masks = _check_like(masks, coefs, "masks", owner, as_bool=True)
        grads = _check_like(grads, coefs, "grads", owner)
        if self._uses_density or density is not None:
            density = _check_density(density, owner)
        out = [np.ones(w.shape, dtype=bool) for w in coefs]
        idx = [i for i, p in enumerate(prunable) if p]
        if not idx:
            return out
        new = self._select([coefs[i] for i in idx], density,
                           None if masks is None else [masks[i] for i in idx],
                           None if grads is None else [grads[i] for i in idx],
                           random_state)
        for i, m in zip(idx, new):
            out[i] = m
        return out

    def _select(self, coefs, density, masks, grads, random_state):  # pragma: no cover
        raise NotImplementedError


# ----------------------------------------------------------------------------- magnitude
class MagnitudeCriterion(PruningCriterion):
    """Keep the weights of largest magnitude.

    Parameters
    ----------
    scope : {"global", "layer", "erk"}, default="global"
        ``"global"``: one threshold over all prunable layers (top
        ``round(density * total)`` weights overall; at high sparsity it may nearly
        empty a small layer, see ``min_layer_density``). ``"layer"``: each layer keeps
        its own top ``density`` fraction. ``"erk"``: each layer keeps its top
        fraction given by the Erdős–Rényi-Kernel allocation
        (:func:`~sparsopt.pruning.layer_densities`).
    min_layer_density : float in [0, 1], default=0.0
        Every prunable layer keeps at least ``ceil(min_layer_density * size)``
        weights (for ``"global"``, these are reserved first and the rest is chosen
        globally); a ``min_layer_density`` above the ``density`` given to
        :meth:`select` acts as that density.

    References
    ----------
    .. [1] S. Han, J. Pool, J. Tran and W. J. Dally, "Learning both weights and
       connections for efficient neural networks", NeurIPS 2015.
    .. [2] J. Frankle and M. Carbin, "The lottery ticket hypothesis: finding sparse,
       trainable neural networks", ICLR 2019 (global magnitude pruning).

    Examples
    --------
    >>> import numpy as np
    >>> from sparsopt.pruning import MagnitudeCriterion
    >>> coefs = [np.array([[0.1, -2.0], [3.0, 0.2]]), np.array([[0.5], [-0.05]])]
    >>> masks = MagnitudeCriterion(scope="global").select(coefs, 0.5)
    >>> [m.astype(int).tolist() for m in masks]
    [[[0, 1], [1, 0]], [[1], [0]]]
    """

    def __init__(self, scope="global", min_layer_density=0.0):
        self.scope = scope
        self.min_layer_density = min_layer_density

    def _validate(self):
        name = type(self).__name__
        if self.scope not in SCOPES:
            raise ValueError(f"{name}: scope must be one of {SCOPES}, got {self.scope!r}.")
        check_scalar(self.min_layer_density, "min_layer_density", name, lower=0.0, upper=1.0)

    def _select(self, coefs, density, masks, grads, random_state):
        mld = min(float(self.min_layer_density), density)
        sizes = [w.size for w in coefs]
        floors = [_ceil_count(mld, s) if mld > 0 else 0 for s in sizes]
        scores = [_scores(w, None if masks is None else masks[i]) for i, w in enumerate(coefs)]
        if self.scope == "global":
            k = max(int(round(density * sum(sizes))), sum(floors))
            if any(floors):
                for i, s in enumerate(scores):
                    reserved = _topk_mask(s, floors[i])
                    s[reserved] = np.inf  # picked first by the global selection
            flat = _topk_mask(np.concatenate(scores), k)
            bounds = np.cumsum([0] + sizes)
            return [flat[bounds[i]:bounds[i + 1]].reshape(w.shape) for i, w in enumerate(coefs)]
        allocation = "uniform" if self.scope == "layer" else "erk"
        counts = layer_counts([w.shape for w in coefs], density, allocation=allocation)
        return [_topk_mask(s, max(c, f)).reshape(w.shape)
                for s, c, f, w in zip(scores, counts, floors, coefs)]


# ----------------------------------------------------------------------------- random
class RandomCriterion(PruningCriterion):
    """Keep weights chosen at random (pruning at initialisation).

    Parameters
    ----------
    allocation : {"uniform", "er", "erk"}, default="uniform"
        Per-layer densities (see :func:`~sparsopt.pruning.layer_densities`).
    power : float, default=1.0
        Exponent of the ER/ERK scores.
    exact : bool, default=True
        True: each layer keeps exactly its count (from
        :func:`~sparsopt.pruning.layer_counts`), chosen without replacement.
        False: each weight is kept independently with its layer's density
        (Bernoulli, as in Liu et al.'s code), so the realised density is only
        close to the target.

    References
    ----------
    .. [1] S. Liu et al., "The unreasonable effectiveness of random pruning: return
       of the most naive baseline for sparse training", ICLR 2022.

    Examples
    --------
    >>> import numpy as np
    >>> from sparsopt.pruning import RandomCriterion
    >>> coefs = [np.zeros((64, 256)), np.zeros((256, 128)), np.zeros((128, 10))]
    >>> masks = RandomCriterion(allocation="erk").select(coefs, 0.1, random_state=0)
    >>> [int(m.sum()) for m in masks]
    [1917, 2300, 826]
    """

    def __init__(self, allocation="uniform", power=1.0, exact=True):
        self.allocation = allocation
        self.power = power
        self.exact = exact

    def _validate(self):
        name = type(self).__name__
        if self.allocation not in ALLOCATIONS:
            raise ValueError(
                f"{name}: allocation must be one of {ALLOCATIONS}, got {self.allocation!r}.")
        check_scalar(self.power, "power", name, lower=0.0)
        if not isinstance(self.exact, (bool, np.bool_)):
            raise TypeError(f"{name}: exact must be a bool, got {self.exact!r}.")

    def _select(self, coefs, density, masks, grads, random_state):
        rng = _check_random_state(random_state)
        shapes = [w.shape for w in coefs]
        if self.exact:
            counts = layer_counts(shapes, density, allocation=self.allocation, power=self.power)
            out = []
            for shape, c in zip(shapes, counts):
                size = shape[0] * shape[1]
                m = np.zeros(size, dtype=bool)
                m[rng.choice(size, c, replace=False)] = True
                out.append(m.reshape(shape))
            return out
        from ._allocation import layer_densities

        dens = layer_densities(shapes, density, allocation=self.allocation, power=self.power)
        return [rng.random(shape) < d for shape, d in zip(shapes, dens)]


# ----------------------------------------------------------------------------- N:M
class NMCriterion(PruningCriterion):
    """N:M fine-grained structured sparsity: ``n`` kept in every ``m`` consecutive weights.

    Groups are ``m`` consecutive weights along axis 0 (the input axis of
    ``coefs_[l]`` of shape ``(n_in, n_out)``, as a PyTorch ``Linear`` weight
    ``(out, in)`` grouped row-major). In each group the ``n`` largest magnitudes are
    kept (ties: the lower index). The ``density`` passed to :meth:`select` is
    ignored: the realised density is ``n / m`` on every compatible layer.

    Parameters
    ----------
    n : int, default=2
        Weights kept per group (``1 <= n <= m``).
    m : int, default=4
        Group length.
    skip_incompatible : bool, default=True
        Layers with ``n_in % m != 0`` are left dense; False raises ``ValueError``.

    References
    ----------
    .. [1] A. Zhou et al., "Learning N:M fine-grained structured sparse neural
       networks from scratch", ICLR 2021.

    Examples
    --------
    >>> import numpy as np
    >>> from sparsopt.pruning import NMCriterion
    >>> w = np.array([[0.1], [-3.0], [0.2], [2.0], [1.0], [0.0], [0.0], [-1.0]])
    >>> NMCriterion(n=2, m=4).select([w], None)[0].ravel().astype(int)
    array([0, 1, 0, 1, 1, 0, 0, 1])
    """

    _uses_density = False

    def __init__(self, n=2, m=4, skip_incompatible=True):
        self.n = n
        self.m = m
        self.skip_incompatible = skip_incompatible

    def _validate(self):
        name = type(self).__name__
        for pname in ("m", "n"):
            v = getattr(self, pname)
            if isinstance(v, bool) or not isinstance(v, numbers.Integral):
                raise TypeError(f"{name}: {pname} must be an integer, got {v!r}.")
            if v < 1:
                raise ValueError(f"{name}: {pname} must be >= 1, got {v!r}.")
        if self.n > self.m:
            raise ValueError(f"{name}: n must be <= m (n={self.n}, m={self.m}).")

    def _select(self, coefs, density, masks, grads, random_state):
        n, m = int(self.n), int(self.m)
        out = []
        for i, w in enumerate(coefs):
            if w.shape[0] % m:
                if not self.skip_incompatible:
                    raise ValueError(
                        f"{type(self).__name__}: layer {i} has n_in={w.shape[0]}, not a "
                        f"multiple of m={m}; pass skip_incompatible=True to keep it dense or "
                        "mark it non-prunable.")
                out.append(np.ones(w.shape, dtype=bool))
                continue
            w = np.ascontiguousarray(w, dtype=w.dtype if w.dtype in (np.float32, np.float64)
                                     else np.float64)
            out.append(dispatch("nm_mask", w, n, m))
        return out


# ----------------------------------------------------------------------------- groups
def _layer_groups(shape, group_by):
    """How a layer ``(n_in, n_out)`` maps to a flat vector and contiguous groups.

    Returns ``(transpose, group_size)``: the layer flattened as ``W.T.ravel()`` when
    ``transpose`` (columns = output neurons contiguous) else ``W.ravel()``, cut into
    groups of ``group_size`` consecutive entries.
    """
    n_in, n_out = shape
    if group_by == "neuron_out":
        return True, n_in
    if group_by == "neuron_in":
        return False, n_out
    return False, 1


class GroupEnvelope(PruningCriterion):
    """Group selection with the weighted group sparse envelope function (WGSEF).

    Each prunable layer is cut into groups (``group_by``): the incoming weights of
    an output neuron (a column of ``coefs_[l]``), the outgoing weights of an input
    neuron (a row), or single weights. :meth:`select` keeps, in each layer, the
    ``k`` groups of largest ``sqrt(w_g) ||x_g||`` (a hard top-k projection) and
    :meth:`prox` applies the proximal operator of ``alpha * WGSEF_k`` (from
    :class:`sparsopt.penalties.WGSEF`) to each layer, for proximal training.

    Parameters
    ----------
    k : int, float in (0, 1] or None, default=0.1
        Groups kept per layer: an int is a number of groups, a float a fraction of
        the layer's groups (at least one), None the ``density`` given to
        :meth:`select` as that fraction (so a schedule can drive it).
    group_by : {"neuron_out", "neuron_in", "weight"}, default="neuron_out"
        Group structure.
    alpha : float, default=1e-4
        Strength of the envelope in :meth:`prox`.
    weights : {"size", "sqrt", "none"}, default="size"
        Group weights ``w_g``: the group size, its square root, or ones.

    See Also
    --------
    sparsopt.penalties.WGSEF : the envelope and its prox.

    References
    ----------
    .. [1] Y. Refael, I. Arbel and W. Huleihel, "A convex and linear-time
       regularizer for group sparsity (weighted group sparse envelope function)",
       arXiv:2212.12921.
    .. [2] A. Argyriou, R. Foygel and N. Srebro, "Sparse prediction with the
       k-support norm", NeurIPS 2012.

    Examples
    --------
    >>> import numpy as np
    >>> from sparsopt.pruning import GroupEnvelope
    >>> w = np.array([[1.0, 0.1, 2.0], [1.0, 0.1, -2.0]])
    >>> GroupEnvelope(k=1).select([w], None)[0].astype(int)
    array([[0, 0, 1],
           [0, 0, 1]])
    """

    def __init__(self, k=0.1, group_by="neuron_out", alpha=1e-4, weights="size"):
        self.k = k
        self.group_by = group_by
        self.alpha = alpha
        self.weights = weights

    @property
    def _uses_density(self):
        return self.k is None

    def _validate(self):
        name = type(self).__name__
        k = self.k
        if k is not None:
            if isinstance(k, bool) or not isinstance(k, numbers.Real):
                raise TypeError(f"{name}: k must be an int, a float in (0, 1] or None, got {k!r}.")
            if isinstance(k, numbers.Integral):
                if k < 1:
                    raise ValueError(f"{name}: k must be >= 1 as a number of groups, got {k!r}.")
            elif not (0.0 < float(k) <= 1.0):
                raise ValueError(f"{name}: k must be in (0, 1] as a fraction, got {k!r}.")
        if self.group_by not in GROUP_BY:
            raise ValueError(
                f"{name}: group_by must be one of {GROUP_BY}, got {self.group_by!r}.")
        check_scalar(self.alpha, "alpha", name, lower=0.0)
        if self.weights not in ("size", "sqrt", "none", None):
            raise ValueError(
                f"{name}: weights must be 'size', 'sqrt' or 'none', got {self.weights!r}.")

    def _n_keep(self, n_groups, density):
        k = density if self.k is None else self.k
        if isinstance(k, numbers.Integral):
            return min(int(k), n_groups)
        return max(1, _ceil_count(float(k), n_groups))

    def _group_weight(self, size):
        if self.weights == "size":
            return float(size)
        if self.weights == "sqrt":
            return float(np.sqrt(size))
        return 1.0

    def _select(self, coefs, density, masks, grads, random_state):
        out = []
        for w in coefs:
            transpose, gsize = _layer_groups(w.shape, self.group_by)
            flat = (w.T if transpose else w).astype(np.float64).reshape(-1, gsize)
            score = np.sqrt(self._group_weight(gsize)) * np.sqrt((flat * flat).sum(axis=1))
            keep = _topk_mask(score, self._n_keep(score.size, density))
            m = np.repeat(keep, gsize).reshape((w.shape[1], w.shape[0]) if transpose else w.shape)
            out.append(np.ascontiguousarray(m.T) if transpose else m)
        return out

    def _penalty(self, shape):
        """``(WGSEF, transpose, group_size)`` of a layer of this shape."""
        from ..penalties import WGSEF

        transpose, gsize = _layer_groups(shape, self.group_by)
        n_groups = shape[0] * shape[1] // gsize
        pen = WGSEF(alpha=float(self.alpha), k=self._n_keep(n_groups, None),
                    groups=gsize if gsize > 1 else None,
                    weights=np.full(n_groups, self._group_weight(gsize)))
        return pen, transpose

    @staticmethod
    def _flat(w, transpose):
        """The layer as one row vector whose groups are contiguous."""
        src = w.T if transpose else w
        dtype = np.float32 if w.dtype == np.float32 else np.float64
        return np.ascontiguousarray(src, dtype=dtype).reshape(1, -1)

    def value(self, coefs, *, prunable=None):
        """Penalty ``sum_l alpha * WGSEF_k(W_l)`` over the prunable layers.

        Parameters
        ----------
        coefs : list of ndarray of shape (n_in, n_out)
            Layer weights.
        prunable : list of bool or None, default=None
            Layers the penalty applies to (None: all).

        Returns
        -------
        value : float
            ``alpha / 2 * sum_g w_g ||x_g||^2`` exactly when every layer has at most
            ``k`` non-zero groups; larger otherwise (the convex envelope).
        """
        self._validate()
        owner = f"{type(self).__name__}.value"
        coefs = _check_layers(coefs, owner)
        prunable = _check_prunable(prunable, len(coefs), owner)
        if self.k is None:
            raise ValueError(f"{owner}: k must be set (not None) to evaluate the penalty.")
        total = 0.0
        for w, p in zip(coefs, prunable):
            if p:
                pen, transpose = self._penalty(w.shape)
                total += float(pen.value(self._flat(w, transpose), check_finite=False))
        return total

    def prox(self, coefs, step, *, prunable=None):
        """Proximal step of ``alpha * WGSEF_k`` on each prunable layer.

        Parameters
        ----------
        coefs : list of ndarray of shape (n_in, n_out)
            Layer weights (not modified).
        step : float
            Step size (> 0), e.g. the learning rate.
        prunable : list of bool or None, default=None
            Layers the penalty applies to (None: all); the others are returned as
            copies.

        Returns
        -------
        coefs : list of ndarray of shape (n_in, n_out)
            ``prox_{step * alpha * WGSEF_k}`` of each layer (float32 stays float32).
            It shrinks and may zero groups; it does not keep exactly ``k`` groups
            (use :meth:`select` for that).
        """
        self._validate()
        owner = f"{type(self).__name__}.prox"
        coefs = _check_layers(coefs, owner)
        prunable = _check_prunable(prunable, len(coefs), owner)
        step = check_scalar(step, "step", owner, lower=0.0, lower_inclusive=False)
        if self.k is None:
            raise ValueError(f"{owner}: k must be set (not None) to apply the prox.")
        out = []
        for w, p in zip(coefs, prunable):
            if not p or float(self.alpha) == 0.0:
                out.append(np.array(w, copy=True))
                continue
            pen, transpose = self._penalty(w.shape)
            z = pen.prox(self._flat(w, transpose), step, check_finite=False)
            z = z.reshape((w.shape[1], w.shape[0]) if transpose else w.shape)
            out.append(np.ascontiguousarray(z.T) if transpose else z)
        return out


# ----------------------------------------------------------------------------- lookup
_NAMES = {
    "magnitude": lambda: MagnitudeCriterion(),
    "global": lambda: MagnitudeCriterion(scope="global"),
    "layer": lambda: MagnitudeCriterion(scope="layer"),
    "erk": lambda: MagnitudeCriterion(scope="erk"),
    "random": lambda: RandomCriterion(),
    "random_erk": lambda: RandomCriterion(allocation="erk"),
    "nm": lambda: NMCriterion(),
    "group": lambda: GroupEnvelope(),
}


def get_criterion(criterion):
    """A pruning criterion from a name or an instance.

    Parameters
    ----------
    criterion : str or PruningCriterion
        An instance (returned as is) or one of ``"magnitude"`` / ``"global"``
        (global magnitude), ``"layer"``, ``"erk"`` (magnitude with that scope),
        ``"random"``, ``"random_erk"``, ``"nm"`` (2:4), ``"N:M"`` such as ``"2:4"``,
        or ``"group"`` (:class:`GroupEnvelope`).

    Returns
    -------
    criterion : PruningCriterion

    Examples
    --------
    >>> from sparsopt.pruning import get_criterion
    >>> get_criterion("1:4")
    NMCriterion(m=4, n=1, skip_incompatible=True)
    >>> get_criterion("erk")
    MagnitudeCriterion(min_layer_density=0.0, scope='erk')
    """
    if isinstance(criterion, PruningCriterion):
        return criterion
    if isinstance(criterion, str):
        key = criterion.strip().lower()
        if key in _NAMES:
            return _NAMES[key]()
        match = re.fullmatch(r"(\d+)\s*:\s*(\d+)", key)
        if match:
            crit = NMCriterion(n=int(match.group(1)), m=int(match.group(2)))
            crit._validate()
            return crit
    names = sorted(_NAMES) + ["'N:M' (e.g. '2:4')"]
    raise ValueError(
        f"criterion must be a PruningCriterion instance or one of {names}, got {criterion!r}.")
