"""Per-layer density allocation: uniform, Erdős–Rényi (ER) and Erdős–Rényi-Kernel (ERK).

A network's prunable layers have weights of shapes ``(n_in, n_out)`` (scikit-learn's
``coefs_``). Given a global density ``d`` (kept weights over all prunable weights),
:func:`layer_densities` says which fraction of each layer to keep and
:func:`layer_counts` turns those fractions into exact integer counts.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from ..utils.validation import check_scalar

ALLOCATIONS = ("uniform", "er", "erk")


def _check_density(density, owner):
    """``density`` as a float in ``(0, 1]`` (ValueError/TypeError naming it)."""
    if isinstance(density, bool) or not isinstance(density, numbers.Real):
        raise TypeError(f"{owner}: density must be a real number in (0, 1], got {density!r}.")
    d = float(density)
    if not (0.0 < d <= 1.0):  # also refuses NaN
        raise ValueError(f"{owner}: density must be in (0, 1], got {density!r}.")
    return d


def _check_shapes(shapes, owner):
    """``shapes`` as a list of ``(n_in, n_out)`` tuples of positive ints."""
    try:
        out = [tuple(int(s) for s in shape) for shape in shapes]
    except TypeError as exc:
        raise TypeError(f"{owner}: shapes must be a sequence of (n_in, n_out) pairs.") from exc
    if not out:
        raise ValueError(f"{owner}: shapes must contain at least one layer.")
    for i, shape in enumerate(out):
        if len(shape) != 2:
            raise ValueError(
                f"{owner}: shapes[{i}] must be a 2-D layer shape (n_in, n_out), got {shape}.")
        if min(shape) < 1:
            raise ValueError(f"{owner}: shapes[{i}] must have positive sizes, got {shape}.")
    return out


def _check_dense(dense, n_layers, owner):
    if dense is None:
        return [False] * n_layers
    dense = [bool(v) for v in dense]
    if len(dense) != n_layers:
        raise ValueError(
            f"{owner}: dense must have one entry per layer ({n_layers}), got {len(dense)}.")
    return dense


def _raw_scores(shapes, allocation, power):
    """Unnormalised ER/ERK densities ``((n_in + n_out) / (n_in n_out)) ** power``.

    For a 2-D (fully connected) layer the ER and ERK scores coincide: both are the sum
    over the product of the dimensions (ERK also counts kernel dimensions, which a dense
    layer does not have).
    """
    return np.array([((a + b) / (a * b)) ** power for a, b in shapes], dtype=np.float64)


def layer_densities(shapes, density, *, allocation="uniform", power=1.0, dense=None):
    """Density of each layer for a global density (uniform, ER or ERK allocation).

    Parameters
    ----------
    shapes : sequence of (int, int)
        Shapes ``(n_in, n_out)`` of the prunable layers.
    density : float in (0, 1]
        Global density: kept weights over all weights of these layers.
    allocation : {"uniform", "er", "erk"}, default="uniform"
        ``"uniform"``: every layer at ``density``. ``"erk"`` / ``"er"``: layer ``l``
        at ``eps * ((n_in + n_out) / (n_in * n_out)) ** power``, with ``eps`` solved so
        that the total equals ``density``; a layer whose density would exceed 1 is
        made dense and ``eps`` is solved again (repeated until none exceeds 1). For
        fully connected layers ER and ERK are the same rule.
    power : float, default=1.0
        Exponent of the ER/ERK score (``erk_power_scale`` of Liu et al.); 0 gives
        the uniform allocation.
    dense : sequence of bool or None, default=None
        Layers forced dense (density 1); the others share the remaining budget.

    Returns
    -------
    densities : list of float
        One density in ``(0, 1]`` per layer; ``sum(d_l * size_l) == density *
        sum(size_l)`` up to rounding.

    Raises
    ------
    ValueError
        If ``density`` is outside ``(0, 1]``, ``allocation`` is unknown, or the
        layers forced dense already exceed the budget.

    References
    ----------
    .. [1] D. C. Mocanu et al., "Scalable training of artificial neural networks
       with adaptive sparse connectivity inspired by network science", Nature
       Communications 9, 2018 (ER).
    .. [2] U. Evci et al., "Rigging the lottery: making all tickets winners",
       ICML 2020 (ERK).
    .. [3] S. Liu et al., "The unreasonable effectiveness of random pruning:
       return of the most naive baseline for sparse training", ICLR 2022.

    Examples
    --------
    >>> from sparsopt.pruning import layer_densities
    >>> d = layer_densities([(64, 256), (256, 128), (128, 10)], 0.10, allocation="erk")
    >>> [round(v, 3) for v in d]
    [0.117, 0.07, 0.646]
    """
    owner = "layer_densities"
    shapes = _check_shapes(shapes, owner)
    d = _check_density(density, owner)
    if allocation not in ALLOCATIONS:
        raise ValueError(f"{owner}: allocation must be one of {ALLOCATIONS}, got {allocation!r}.")
    power = check_scalar(power, "power", owner, lower=0.0)
    is_dense = _check_dense(dense, len(shapes), owner)
    sizes = np.array([a * b for a, b in shapes], dtype=np.float64)
    budget = d * sizes.sum()
    if allocation == "uniform":
        raw = np.ones(len(shapes))
    else:
        raw = _raw_scores(shapes, allocation, power)
    out = np.ones(len(shapes))
    while True:
        free = ~np.asarray(is_dense)
        if not free.any():
            break
        rest = budget - sizes[~free].sum()
        if rest <= 0:
            raise ValueError(
                f"{owner}: the layers forced dense hold more than density={density!r} of "
                "the weights; raise density or pass fewer dense layers.")
        eps = rest / float((raw[free] * sizes[free]).sum())
        dl = eps * raw
        over = free & (dl > 1.0)
        if not over.any():
            out[free] = dl[free]
            break
        # densify the layer(s) that overflow most, then solve again
        worst = np.flatnonzero(over & (dl == dl[over].max()))
        for i in worst:
            is_dense[i] = True
    return [float(min(v, 1.0)) for v in out]


def layer_counts(shapes, density, *, allocation="uniform", power=1.0, dense=None):
    """Exact integer numbers of kept weights per layer.

    The counts come from :func:`layer_densities` by largest remainders: each layer
    keeps ``floor(d_l * size_l)`` or one more, and the total is
    ``round(density * sum(size_l))``. A layer whose share is below one weight still
    keeps one (so no layer is emptied); only then can the total exceed the target,
    by at most one weight per such layer.

    Parameters
    ----------
    shapes : sequence of (int, int)
        Shapes ``(n_in, n_out)`` of the prunable layers.
    density : float in (0, 1]
        Global density.
    allocation : {"uniform", "er", "erk"}, default="uniform"
        See :func:`layer_densities`.
    power : float, default=1.0
        See :func:`layer_densities`.
    dense : sequence of bool or None, default=None
        See :func:`layer_densities`.

    Returns
    -------
    counts : list of int
        Kept weights per layer, ``1 <= counts[l] <= size_l`` and
        ``|counts[l] - d_l * size_l| < 1``.

    Examples
    --------
    >>> from sparsopt.pruning import layer_counts
    >>> layer_counts([(64, 256), (256, 128), (128, 10)], 0.10, allocation="erk")
    [1917, 2300, 826]
    >>> sum(_), round(0.10 * (64 * 256 + 256 * 128 + 128 * 10))
    (5043, 5043)
    """
    dens = layer_densities(shapes, density, allocation=allocation, power=power, dense=dense)
    shapes = _check_shapes(shapes, "layer_counts")
    sizes = np.array([a * b for a, b in shapes], dtype=np.int64)
    exact = np.array(dens) * sizes
    counts = np.minimum(np.floor(exact + 1e-9).astype(np.int64), sizes)
    target = min(int(round(float(density) * int(sizes.sum()))), int(sizes.sum()))
    short = target - int(counts.sum())
    if short > 0:
        frac = exact - counts
        frac[counts >= sizes] = -np.inf  # a full layer cannot take more
        order = np.argsort(-frac, kind="stable")  # ties: the earlier layer first
        for i in order[:short]:
            if frac[i] > -np.inf:
                counts[i] += 1
    counts = np.maximum(counts, 1)
    return [int(c) for c in counts]


def _ceil_count(fraction, size):
    """``ceil(fraction * size)`` robust to rounding (``0.5 * 4`` is 2, not 3)."""
    return int(min(size, math.ceil(fraction * size - 1e-9)))
