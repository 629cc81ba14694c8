"""Constraint penalties (indicator functions): value 0 inside the set, ``inf`` outside."""

from __future__ import annotations

import numpy as np

from ..backends import _kinds, array_namespace, device
from ._base import Penalty, _as_float_array


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

    def _bounds(self):
        return float(self.lower), float(self.upper)

    def _value_rows(self, x):
        xp = array_namespace(x)
        inside = xp.all((x >= float(self.lower)) & (x <= float(self.upper)), axis=1)
        return xp.where(inside, xp.zeros(inside.shape, dtype=xp.float64, device=device(x)), np.inf)

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


class Constrained(Penalty):
    """A penalty under a box constraint: ``penalty.value(x) + indicator(lower <= x <= upper)``.

    Built by adding a constraint to a penalty, ``L1(0.1) + Positive()``; every solver that
    takes a penalty takes this one, so no solver needs a ``positive=`` flag. The prox is
    exact:

    * orthant constraints (``Positive()``, or ``Box(-inf, 0)``) with any penalty that is
      even and non-decreasing in ``|x|`` (all of sparsopt's): ``prox(t) =
      penalty.prox(max(t, 0))`` (the separable kernels clip ``prox(t)`` at 0, which is
      the same);
    * any other box with a convex separable penalty: ``clip(penalty.prox(t), lower, upper)``
      (exact for a convex function of one variable).

    Other combinations (a non-convex penalty or a group penalty under a box with a finite
    non-zero bound) have no such closed form and are refused.

    Parameters
    ----------
    penalty : Penalty
        The penalty (not a constraint).
    constraint : Box, default=Positive()
        The box.

    Examples
    --------
    >>> import numpy as np
    >>> from sparsopt.penalties import L1, Positive
    >>> pen = L1(alpha=1.0) + Positive()
    >>> pen
    Constrained(constraint=Positive(), penalty=L1(alpha=1.0))
    >>> pen.prox(np.array([-3.0, 0.5, 3.0]))
    array([0., 0., 2.])
    """

    def __init__(self, penalty=None, constraint=None):
        self.penalty = penalty
        self.constraint = constraint
        self._validate()

    def _box(self):
        return Positive() if self.constraint is None else self.constraint

    def _validate(self):
        pen, box = self.penalty, self._box()
        if not isinstance(pen, Penalty) or isinstance(pen, (Box, Constrained)):
            raise TypeError(f"Constrained: penalty must be a penalty that is not a constraint, "
                            f"got {pen!r}.")
        if not isinstance(box, Box):
            raise TypeError(f"Constrained: constraint must be a Box or Positive, got {box!r}.")
        lo, hi = float(box.lower), float(box.upper)
        orthant = (lo == 0.0 and hi == np.inf) or (lo == -np.inf and hi == 0.0)
        if not orthant and not (pen.is_convex and pen.is_separable):
            raise ValueError(
                f"Constrained: {type(pen).__name__} under Box({lo}, {hi}) has no exact prox "
                "here; a non-convex or group penalty takes an orthant constraint only "
                "(Positive() or Box(-inf, 0))."
            )
        self._orthant = orthant
        # what solvers read: the inner penalty's nature, the box's bounds
        self.is_convex = pen.is_convex
        self.is_separable = pen.is_separable
        self.capabilities = pen.capabilities

    def _kernel_spec(self):
        spec = getattr(self.penalty, "_kernel_spec", None)
        return None if spec is None else spec()

    def spec(self, solver="this solver"):  # noqa: D102
        if getattr(self.penalty, "_kernel_spec", None) is None or not self.is_separable:
            return self.penalty.spec(solver)  # raises the one error
        return super().spec(solver)

    spec.__doc__ = Penalty.spec.__doc__

    def _bounds(self):
        box = self._box()
        return float(box.lower), float(box.upper)

    def group_spec(self, n_features, solver="this solver"):  # noqa: D102
        if self._group_spec is not None and self._bounds() != (0.0, np.inf):
            raise TypeError(f"{solver}: a group penalty takes the constraint Positive() only.")
        return Penalty.group_spec(self, n_features, solver)

    group_spec.__doc__ = Penalty.group_spec.__doc__

    @property
    def _group_spec(self):
        return getattr(self.penalty, "_group_spec", None)

    def check_step(self, step):
        return self.penalty.check_step(step)

    def _value_rows(self, x):
        return self.penalty._value_rows(x) + self._box()._value_rows(x)

    def prox(self, x, step=1.0, engine=None, out=None, check_finite=True):  # noqa: D102
        lo, hi = self._bounds()
        x = _as_float_array(x)
        if check_finite:
            self._check_finite(x, "prox")
        if self._orthant:
            xp = np if isinstance(x, np.ndarray) else array_namespace(x)
            t = xp.maximum(x, 0.0) if lo == 0.0 else xp.minimum(x, 0.0)
            return self.penalty.prox(t, step, engine=engine, out=out, check_finite=False)
        z = self.penalty.prox(x, step, engine=engine, out=out, check_finite=False)
        if isinstance(z, np.ndarray):
            np.clip(z, lo, hi, out=z)
        else:
            z[...] = array_namespace(z).clip(z, lo, hi)
        return z

    prox.__doc__ = Penalty.prox.__doc__
