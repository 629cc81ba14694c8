"""The bars test of probabilistic sparse coding (Földiák 1990; ProSper's barstest)."""

from __future__ import annotations

import numbers

import numpy as np
from sklearn.utils import check_random_state

__all__ = ["make_bars"]


def make_bars(n_samples, size=5, *, prior=None, amplitude=10.0, noise_std=None,
              model="binary", slab_mean=1.0, slab_std=1.0, random_state=None):
    """Images of superposed horizontal and vertical bars, with Gaussian noise.

    Draws ``x = W s + ε`` on ``size × size`` images with ``H = 2·size`` bars:
    component ``h < size`` is row ``h``, component ``size + h`` is column ``h``
    (value ``amplitude``). Each bar is on with probability ``prior``; with
    ``model="spike_and_slab"`` an active bar is scaled by ``z ~ N(slab_mean, slab_std²)``.

    Parameters
    ----------
    n_samples : int
        Number of images.
    size : int, default=5
        Image side (``n_features = size²``, ``n_components = 2·size``).
    prior : float or None, default=None
        Probability that a bar is on; ``None`` means ``2 / (2·size)`` (two bars on
        average).
    amplitude : float, default=10.0
        Bar height (ProSper's bars tests use 10).
    noise_std : float or None, default=None
        ``σ``; ``None`` means 2.0 for ``"binary"`` (BSC bars test) and 1.0 for
        ``"spike_and_slab"`` (GSC bars test).
    model : {"binary", "spike_and_slab"}, default="binary"
    slab_mean, slab_std : float, default=1.0
        Slab distribution of the spike-and-slab model.
    random_state : int, RandomState instance or None

    Returns
    -------
    X : ndarray of shape (n_samples, size*size)
    W_true : ndarray of shape (2*size, size*size)
        The bars (one per row).
    S_true : ndarray of shape (n_samples, 2*size)
        The latent causes (``s`` or ``s⊙z``).

    References
    ----------
    .. [1] P. Földiák, "Forming sparse representations by local anti-Hebbian learning",
       Biological Cybernetics 64, 1990.
    .. [2] G. Exarchakis et al., "ProSper", arXiv:1908.06843, 2019.

    Examples
    --------
    >>> from sparsopt.datasets import make_bars
    >>> X, W, S = make_bars(100, random_state=0)
    >>> X.shape, W.shape, S.shape
    ((100, 25), (10, 25), (100, 10))
    """
    if isinstance(n_samples, bool) or not isinstance(n_samples, numbers.Integral) \
            or n_samples < 1:
        raise ValueError(f"make_bars: n_samples must be an integer >= 1, got {n_samples!r}.")
    if isinstance(size, bool) or not isinstance(size, numbers.Integral) or size < 1:
        raise ValueError(f"make_bars: size must be an integer >= 1, got {size!r}.")
    if model not in ("binary", "spike_and_slab"):
        raise ValueError(f"make_bars: model must be 'binary' or 'spike_and_slab', "
                         f"got {model!r}.")
    H = 2 * size
    prior = 2.0 / H if prior is None else prior
    if not (isinstance(prior, numbers.Real) and 0.0 < prior < 1.0):
        raise ValueError(f"make_bars: prior must be in (0, 1), got {prior!r}.")
    if noise_std is None:
        noise_std = 2.0 if model == "binary" else 1.0
    if not (isinstance(noise_std, numbers.Real) and noise_std >= 0):
        raise ValueError(f"make_bars: noise_std must be >= 0, got {noise_std!r}.")
    rng = check_random_state(random_state)
    W = np.zeros((H, size, size))
    for h in range(size):
        W[h, h, :] = amplitude
        W[size + h, :, h] = amplitude
    W = W.reshape(H, size * size)
    S = (rng.random_sample((n_samples, H)) < prior).astype(np.float64)
    if model == "spike_and_slab":
        S = S * rng.normal(slab_mean, slab_std, size=S.shape)
    X = S @ W + noise_std * rng.standard_normal((n_samples, size * size))
    return X, W, S
