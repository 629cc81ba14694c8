"""Annealing schedules of truncated EM (ProSper's ``LinearAnnealing``)."""

from __future__ import annotations

import numbers

import numpy as np

__all__ = ["LinearAnnealing"]

_KEYS = ("temperature", "ncut_factor", "W_noise", "prior_noise", "noise_std_noise")


def _check_schedule(name, value):
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return [(0, float(value))]
    try:
        pts = [(p, float(v)) for p, v in value]
    except (TypeError, ValueError):
        raise ValueError(f"LinearAnnealing: {name} must be a number or a list of "
                         f"(position, value) pairs, got {value!r}.") from None
    if not pts:
        raise ValueError(f"LinearAnnealing: {name} must not be an empty list.")
    for p, _ in pts:
        if isinstance(p, bool) or not isinstance(p, numbers.Real):
            raise ValueError(f"LinearAnnealing: positions of {name} must be numbers, got {p!r}.")
    return pts


def _position(p, n_iter):
    """Iteration index of a schedule position: an ``int`` is an index, a ``float`` a
    fraction of ``n_iter``; a negative one counts from the end."""
    x = p * n_iter if isinstance(p, float) else p
    return n_iter + x if p < 0 else x


class LinearAnnealing:
    """Piecewise-linear schedules over the EM iterations (temperature, N_cut, noise).

    Each schedule is a number (constant) or a list of ``(position, value)`` points,
    linearly interpolated and held constant outside them. An ``int`` position is an
    iteration index, a ``float`` one a fraction of ``n_iter`` (``0.8`` = at 80 %), and a
    negative position counts from the end.

    Parameters
    ----------
    temperature : float or list of (position, value), default=1.0
        ``T``; the E-step anneals the log-joint by ``β = 1/T``.
    ncut_factor : float or list of (position, value), default=0.0
        ``c`` of the data truncation (BSC): the ``N_cut = ⌊N (1 - (1 - A(π)) c)⌋`` data
        points with the largest truncated evidence are kept (``c = 0`` keeps all).
    anneal_prior : bool, default=False
        BSC: whether ``β`` multiplies the prior term too (GSC always anneals the whole
        log-joint).
    W_noise, prior_noise, noise_std_noise : float or list of (position, value), default=0.0
        Standard deviations of Gaussian noise added to the parameters before each E-step
        (the prior and noise level are clipped back to their bounds).
    residual_from : int, float or None, default=None
        Position (as above) from which the E-step preselects by matching pursuit
        (``preselection="residual"`` of :func:`truncated_estep`) instead of singleton
        scores; ``None``: never. Singleton scores miss a weakly active unit next to a
        strongly active one, so the truncated posterior misses its state and the noise
        variance comes out biased upwards (GSC bars: ``σ²`` 1.08-1.18 instead of 1, even
        started at the ground truth). Matching pursuit needs components that already
        differ from each other, hence a switch late in the run.

    References
    ----------
    .. [1] G. Exarchakis et al., "ProSper", arXiv:1908.06843, 2019.

    Examples
    --------
    >>> from sparsopt.decomposition import LinearAnnealing
    >>> a = LinearAnnealing(temperature=[(0, 5.0), (0.8, 1.0)])
    >>> a(0, 100)["temperature"], a(40, 100)["temperature"], a(90, 100)["temperature"]
    (5.0, 3.0, 1.0)
    >>> LinearAnnealing(residual_from=0.8)(85, 100)["preselection"]
    'residual'
    """

    def __init__(self, temperature=1.0, ncut_factor=0.0, *, anneal_prior=False, W_noise=0.0,
                 prior_noise=0.0, noise_std_noise=0.0, residual_from=None):
        self.temperature = temperature
        self.ncut_factor = ncut_factor
        self.anneal_prior = anneal_prior
        self.W_noise = W_noise
        self.prior_noise = prior_noise
        self.noise_std_noise = noise_std_noise
        self.residual_from = residual_from
        for key in _KEYS:
            _check_schedule(key, getattr(self, key))
        if residual_from is not None and (isinstance(residual_from, bool)
                                          or not isinstance(residual_from, numbers.Real)):
            raise ValueError(f"LinearAnnealing: residual_from must be None or a position "
                             f"(int or float), got {residual_from!r}.")

    @classmethod
    def default(cls, model="bsc"):
        """ProSper's bars-test schedule: BSC ``T`` 5 → 1 at 80 % and ``c`` 0 → 1 at 2/3;
        GSC ``T`` 4 → 1 at 80 % and the same ``c`` (which the reference code ignores for
        GSC; :func:`gsc_em` applies it unless ``prosper_compat``). GSC also switches to
        residual preselection at 80 % (``residual_from=0.8``, not in the reference code),
        which removes the upward bias of ``σ²`` (see ``residual_from``)."""
        if model == "gsc":
            return cls(temperature=[(0, 4.0), (0.8, 1.0)], ncut_factor=[(0, 0.0), (2 / 3, 1.0)],
                       residual_from=0.8)
        return cls(temperature=[(0, 5.0), (0.8, 1.0)], ncut_factor=[(0, 0.0), (2 / 3, 1.0)])

    def __repr__(self):
        args = ", ".join(f"{k}={getattr(self, k)!r}"
                         for k in _KEYS + ("anneal_prior", "residual_from"))
        return f"LinearAnnealing({args})"

    def __call__(self, iteration, n_iter):
        """Values at ``iteration`` (0-based) of a run of ``n_iter`` iterations.

        Returns
        -------
        values : dict
            ``temperature``, ``ncut_factor``, ``anneal_prior``, ``W_noise``,
            ``prior_noise``, ``noise_std_noise``, ``preselection``.
        """
        out = {"anneal_prior": bool(self.anneal_prior), "preselection": "singleton"}
        if self.residual_from is not None \
                and iteration >= _position(self.residual_from, n_iter):
            out["preselection"] = "residual"
        for key in _KEYS:
            pts = _check_schedule(key, getattr(self, key))
            if len(pts) == 1:  # a constant (np.interp's answer too, without its cost)
                out[key] = pts[0][1]
                continue
            xs = [_position(p, n_iter) for p, _ in pts]
            order = np.argsort(xs, kind="stable")
            out[key] = float(np.interp(iteration, np.asarray(xs, float)[order],
                                       np.array([v for _, v in pts])[order]))
        return out
