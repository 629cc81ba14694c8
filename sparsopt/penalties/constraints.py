"""Constraint penalties (indicator functions): value 0 inside the set, ``inf`` outside."""

from __future__ import annotations

import numpy as np

from ..backends import _kinds
from ._base import Penalty


class Box(Penalty):
    """Indicator of the box ``lower <= x_i <= upper``; its prox is clipping.

    Parameters
    ----------
    lower : float, default=-inf
        Lower bound.
    upper : float, default=inf
        Upper bound (``>= lower``).

    Examples
    --------
    >>> import numpy as np
    >>> from sparsopt.penalties import Box
    >>> Box(lower=0.0, upper=1.0).prox(np.array([-0.5, 0.3, 2.0]))
    array([0. , 0.3, 1. ])
    """

    def __init__(self, lower=-np.inf, upper=np.inf):
        self.lower = lower
        self.upper = upper
        self._validate()

    def _validate(self):
        name = type(self).__name__
        for key in ("lower", "upper"):
            v = getattr(self, key)
            if isinstance(v, bool) or not isinstance(v, (int, float, np.floating, np.integer)):
                raise TypeError(f"{name}: {key} must be a real number, got {v!r}.")
            if np.isnan(v):
                raise ValueError(f"{name}: {key} must not be NaN.")
        if self.lower > self.upper:
            raise ValueError(f"{name}: lower={self.lower} must be <= upper={self.upper}.")

    def _kernel_spec(self):
        return _kinds.KIND_BOX, (float(self.lower), float(self.upper))

    def _value_rows(self, x):
        inside = np.all((x >= self.lower) & (x <= self.upper), axis=1)
        return np.where(inside, 0.0, np.inf)

    def _prox(self, x, step, engine, out):
        return self._dispatch("prox_box", x, float(self.lower), float(self.upper),
                              out, engine=engine)


class Positive(Box):
    """Indicator of the non-negative orthant; its prox is ``max(x, 0)``.

    Examples
    --------
    >>> import numpy as np
    >>> from sparsopt.penalties import Positive
    >>> Positive().prox(np.array([-1.0, 2.0]))
    array([0., 2.])
    """

    def __init__(self):
        self._validate()

    lower = 0.0
    upper = np.inf
