"""Penalties ``alpha * pen(x)`` with values and proximal operators.

Every penalty follows one convention: the objective is ``loss(x) + value(x)``
(``value`` includes ``alpha``) and ``prox(t, step) = argmin_x 1/2 ||x - t||^2 +
step * value(x)``.
"""

from ._base import GroupSpec, Penalty, PenaltySpec
from .constraints import Box, Constrained, Positive
from .group import WGSEF, GroupL21, KSupport, ksupport_squared, make_groups
from .separable import CEL0, L0, L1, MCP, SCAD, ElasticNet, Log, Lq

_NAMES = {
    "l1": L1,
    "lasso": L1,
    "l0": L0,
    "lq": Lq,
    "l1/2": lambda alpha=1.0, **kw: Lq(alpha=alpha, q=0.5, **kw),
    "lhalf": lambda alpha=1.0, **kw: Lq(alpha=alpha, q=0.5, **kw),
    "l2/3": lambda alpha=1.0, **kw: Lq(alpha=alpha, q=2.0 / 3.0, **kw),
    "cel0": CEL0,
    "mcp": MCP,
    "scad": SCAD,
    "log": Log,
    "elasticnet": ElasticNet,
    "group_l21": GroupL21,
    "ksupport": KSupport,
    "wgsef": WGSEF,
}
_CONSTRAINTS = {"positive": Positive, "box": Box}


def get_penalty(penalty, alpha=1.0, *, positive=False, **params):
    """Build a penalty from a name, or validate a penalty object.

    Parameters
    ----------
    penalty : str or Penalty
        One of ``"l1"``, ``"l0"``, ``"lq"``, ``"l1/2"``, ``"l2/3"``, ``"cel0"``,
        ``"mcp"``, ``"scad"``, ``"log"``, ``"elasticnet"``, ``"group_l21"``,
        ``"ksupport"``, ``"wgsef"``, ``"positive"``, ``"box"`` (case-insensitive),
        or an instance of :class:`Penalty` (returned unchanged; ``alpha`` and
        ``params`` are then ignored).
    alpha : float, default=1.0
        Regularization strength used when ``penalty`` is a name (ignored by the
        constraints ``"positive"`` and ``"box"``).
    positive : bool, default=False
        Add the constraint ``x >= 0`` (``penalty + Positive()``). This is the one place
        where the ``positive=`` spelling of scikit-learn's estimators becomes a
        constraint; solvers take constrained penalties and have no such flag.
    **params
        Other constructor parameters (``q``, ``gamma``, ``a``, ``k``, ``groups``...).

    Returns
    -------
    penalty : Penalty

    Examples
    --------
    >>> from sparsopt.penalties import get_penalty
    >>> get_penalty("mcp", alpha=0.1, gamma=4.0)
    MCP(alpha=0.1, gamma=4.0)
    >>> get_penalty("l1", alpha=0.5, positive=True)
    Constrained(constraint=Positive(), penalty=L1(alpha=0.5))
    """
    pen = None
    if isinstance(penalty, Penalty):
        pen = penalty
    elif isinstance(penalty, str):
        key = penalty.strip().lower()
        if key in _NAMES:
            pen = _NAMES[key](alpha=alpha, **params)
        elif key in _CONSTRAINTS:
            pen = _CONSTRAINTS[key](**params)
    if pen is None:
        names = sorted(_NAMES) + sorted(_CONSTRAINTS)
        raise ValueError(
            f"Unknown penalty {penalty!r}. Pass a sparsopt.penalties.Penalty instance or one "
            f"of {names}."
        )
    if positive and not (isinstance(pen, (Box, Constrained)) and pen._bounds()[0] >= 0.0):
        pen = pen + Positive()
    return pen


__all__ = [
    "Box",
    "CEL0",
    "Constrained",
    "ElasticNet",
    "GroupL21",
    "GroupSpec",
    "KSupport",
    "L0",
    "L1",
    "Log",
    "Lq",
    "MCP",
    "Penalty",
    "PenaltySpec",
    "Positive",
    "SCAD",
    "WGSEF",
    "get_penalty",
    "ksupport_squared",
    "make_groups",
]
