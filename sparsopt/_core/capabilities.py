"""Capability checks: a solver states what it needs from a penalty or a loss."""


def require(obj, needed, *, solver):
    """Raise ``TypeError`` if ``obj`` lacks any capability in ``needed``.

    Parameters
    ----------
    obj : Penalty or Loss
        Object with a ``capabilities`` frozenset.
    needed : set of str
        Capabilities the solver uses (e.g. ``{"prox"}``, or ``{"spec"}`` for a
        coordinate-wise kernel, see :meth:`sparsopt.penalties.Penalty.spec`).
    solver : str
        Solver name for the message.

    Examples
    --------
    >>> from sparsopt.penalties import GroupL21
    >>> from sparsopt._core.capabilities import require
    >>> require(GroupL21(), {"spec"}, solver="cd")
    Traceback (most recent call last):
    ...
    TypeError: cd needs spec from its penalty, but GroupL21 provides only ['prox', 'value'].
    """
    have = getattr(obj, "capabilities", frozenset())
    missing = set(needed) - set(have)
    if missing:
        kind = "penalty" if hasattr(obj, "prox") else "loss"
        raise TypeError(
            f"{solver} needs {', '.join(sorted(missing))} from its {kind}, but "
            f"{type(obj).__name__} provides only {sorted(have)}."
        )
