"""Pruning schedules: when to prune, and to which density.

A schedule's :meth:`~PruningSchedule.plan` lists :class:`PruneEvent` s over a run of
``n_steps`` optimizer steps. ``event.step`` counts optimizer steps: 0 is before the
first step (at initialisation), ``n_steps`` after the last. A training loop prunes to
``event.density`` *before* optimizer step ``event.step`` (after the last step when
``event.step == n_steps``) and then, if ``event.rewind`` is set, resets the surviving
weights to their values at initialisation (``"init"``) or at step ``rewind`` (int).
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

from ..utils._params import ParamsMixin
from ..utils.validation import check_scalar
from ._allocation import _check_density


@dataclass(frozen=True)
class PruneEvent:
    """One pruning event of a schedule.

    Attributes
    ----------
    step : int
        Optimizer step before which to prune (0: at initialisation; ``n_steps``:
        after the last step).
    density : float
        Target density of the prunable layers after this event.
    rewind : None, "init" or int
        After pruning, reset the surviving weights to their values at
        initialisation (``"init"``) or at that optimizer step; None keeps them.

    Examples
    --------
    >>> from sparsopt.pruning import PruneEvent
    >>> PruneEvent(step=0, density=0.1)
    PruneEvent(step=0, density=0.1, rewind=None)
    """

    step: int
    density: float
    rewind: object = None


def _check_n_steps(n_steps, owner):
    if isinstance(n_steps, bool) or not isinstance(n_steps, numbers.Integral) or n_steps < 0:
        raise ValueError(f"{owner}: n_steps must be an integer >= 0, got {n_steps!r}.")
    return int(n_steps)


def _to_step(value, n_steps, name, owner):
    """A float in [0, 1] is a fraction of ``n_steps``; an int >= 0 is a step (clipped)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{owner}: {name} must be a float fraction or an int step, got {value!r}.")
    if isinstance(value, numbers.Integral):
        if value < 0:
            raise ValueError(f"{owner}: {name} must be >= 0 as a step, got {value!r}.")
        return min(int(value), n_steps)
    v = check_scalar(value, name, owner, lower=0.0, upper=1.0)
    return int(round(v * n_steps))


def _check_position(value, name, owner):
    """Validate a begin/end parameter (float fraction in [0, 1] or int step >= 0)."""
    _to_step(value, 0, name, owner)


def _check_rewind(rewind, owner):
    if rewind is None or rewind == "init":
        return
    if isinstance(rewind, bool) or not isinstance(rewind, numbers.Integral) or rewind < 0:
        raise ValueError(f"{owner}: rewind must be None, 'init' or an int step >= 0, "
                         f"got {rewind!r}.")


class PruningSchedule(ParamsMixin):
    """Base class of pruning schedules.

    Parameters are stored unchanged in ``__init__`` and checked by ``_validate``,
    which :meth:`plan` calls; subclasses implement ``_plan(n_steps, density,
    initial_density)`` on validated arguments.

    Examples
    --------
    >>> from sparsopt.pruning import PruneEvent, PruningSchedule
    >>> class Halfway(PruningSchedule):
    ...     def _plan(self, n_steps, density, initial_density):
    ...         return [PruneEvent(n_steps // 2, density)]
    >>> Halfway().plan(10, 0.2)
    [PruneEvent(step=5, density=0.2, rewind=None)]
    """

    def plan(self, n_steps, density, *, initial_density=1.0):
        """The pruning events of a run of ``n_steps`` optimizer steps.

        Parameters
        ----------
        n_steps : int
            Number of optimizer steps of the run.
        density : float in (0, 1]
            Final target density.
        initial_density : float in (0, 1], default=1.0
            Density of the network when the run starts (1: dense).

        Returns
        -------
        events : list of PruneEvent
            Sorted by step; the last one is at ``density``.
        """
        self._validate()
        owner = f"{type(self).__name__}.plan"
        n_steps = _check_n_steps(n_steps, owner)
        density = _check_density(density, owner)
        initial_density = check_scalar(initial_density, "initial_density", owner, lower=0.0,
                                       lower_inclusive=False, upper=1.0)
        return self._plan(n_steps, density, initial_density)

    def _plan(self, n_steps, density, initial_density):  # pragma: no cover
        raise NotImplementedError


class OneShot(PruningSchedule):
    """Prune once, to the target density.

    Parameters
    ----------
    at : "init", "end", float in [0, 1] or int, default="end"
        When: at initialisation (pruning before training), after the last step
        (then fine-tune separately), a fraction of the run, or an optimizer step.

    References
    ----------
    .. [1] S. Han, J. Pool, J. Tran and W. J. Dally, "Learning both weights and
       connections for efficient neural networks", NeurIPS 2015.

    Examples
    --------
    >>> from sparsopt.pruning import OneShot
    >>> OneShot(at=0.5).plan(100, 0.1)
    [PruneEvent(step=50, density=0.1, rewind=None)]
    """

    def __init__(self, at="end"):
        self.at = at

    def _validate(self):
        if self.at not in ("init", "end"):
            _check_position(self.at, "at", type(self).__name__)

    def _plan(self, n_steps, density, initial_density):
        if self.at == "init":
            step = 0
        elif self.at == "end":
            step = n_steps
        else:
            step = _to_step(self.at, n_steps, "at", type(self).__name__)
        return [PruneEvent(step, density, None)]


class Iterative(PruningSchedule):
    """Iterative magnitude pruning: ``n_rounds`` prunings at geometric densities.

    Round ``r = 1..n_rounds`` happens at the fraction
    ``begin + (end - begin) * r / (n_rounds + 1)`` of the run (evenly spaced,
    strictly inside ``(begin, end)``, so training continues after every round) and
    prunes to ``initial_density * (density / initial_density) ** (r / n_rounds)``:
    every round removes the same fraction ``1 - (density / initial_density) **
    (1 / n_rounds)`` of the remaining weights.

    Parameters
    ----------
    n_rounds : int, default=3
        Number of pruning rounds.
    rewind : None, "init" or int, default=None
        After each round, reset the surviving weights to their initial values
        (lottery ticket) or to their values at that optimizer step (late
        rewinding); None fine-tunes from the current weights.
    begin, end : float in [0, 1] or int, default=0.0 and 1.0
        Window of the rounds (fractions of the run, or steps).

    References
    ----------
    .. [1] J. Frankle and M. Carbin, "The lottery ticket hypothesis: finding
       sparse, trainable neural networks", ICLR 2019.
    .. [2] J. Frankle, G. K. Dziugaite, D. M. Roy and M. Carbin, "Linear mode
       connectivity and the lottery ticket hypothesis", ICML 2020 (rewinding).

    Examples
    --------
    >>> from sparsopt.pruning import Iterative
    >>> for e in Iterative(n_rounds=2, rewind="init").plan(300, 0.25):
    ...     print(e)
    PruneEvent(step=100, density=0.5, rewind='init')
    PruneEvent(step=200, density=0.25, rewind='init')
    """

    def __init__(self, n_rounds=3, rewind=None, begin=0.0, end=1.0):
        self.n_rounds = n_rounds
        self.rewind = rewind
        self.begin = begin
        self.end = end

    def _validate(self):
        name = type(self).__name__
        r = self.n_rounds
        if isinstance(r, bool) or not isinstance(r, numbers.Integral) or r < 1:
            raise ValueError(f"{name}: n_rounds must be an integer >= 1, got {r!r}.")
        _check_rewind(self.rewind, name)
        _check_position(self.begin, "begin", name)
        _check_position(self.end, "end", name)

    def _plan(self, n_steps, density, initial_density):
        name = type(self).__name__
        b = _to_step(self.begin, n_steps, "begin", name)
        e = _to_step(self.end, n_steps, "end", name)
        if e < b:
            raise ValueError(f"{name}: end must not come before begin "
                             f"(begin={self.begin!r}, end={self.end!r}).")
        n = int(self.n_rounds)
        ratio = density / initial_density
        events = []
        for r in range(1, n + 1):
            step = b + int(round((e - b) * r / (n + 1)))
            d = density if r == n else initial_density * ratio ** (r / n)
            events.append(PruneEvent(step, float(d), self.rewind))
        return events


class PolynomialDecay(PruningSchedule):
    """Gradual pruning (Zhu & Gupta): density decays polynomially from ``initial_density``.

    An event every ``frequency`` steps from ``begin`` to ``end`` (the last one at
    ``end`` exactly), at density
    ``d_t = density + (initial_density - density) * (1 - (t - begin) / (end - begin)) ** power``
    (the sparsity form ``s_t = s_f + (s_i - s_f)(1 - (t - t_0) / (n dt))^3`` of the
    paper), so the last event is at ``density``.

    Parameters
    ----------
    initial_density : float in (0, 1], default=1.0
        Density at ``begin`` (1: dense-to-sparse; < 1 for a sparse start). It
        replaces the ``initial_density`` of :meth:`plan`.
    begin, end : float in [0, 1] or int, default=0.1 and 0.6
        Window of the decay: floats are fractions of the run, ints optimizer steps.
    power : float, default=3
        Exponent (3: cubic).
    frequency : int, default=100
        Steps between two events.

    References
    ----------
    .. [1] M. Zhu and S. Gupta, "To prune, or not to prune: exploring the efficacy
       of pruning for model compression", ICLR Workshop 2018 (arXiv:1710.01878).

    Examples
    --------
    >>> from sparsopt.pruning import PolynomialDecay
    >>> sched = PolynomialDecay(begin=0, end=300, frequency=100)
    >>> [(e.step, round(e.density, 3)) for e in sched.plan(1000, 0.1)]
    [(0, 1.0), (100, 0.367), (200, 0.133), (300, 0.1)]
    """

    def __init__(self, initial_density=1.0, begin=0.1, end=0.6, power=3, frequency=100):
        self.initial_density = initial_density
        self.begin = begin
        self.end = end
        self.power = power
        self.frequency = frequency

    def _validate(self):
        name = type(self).__name__
        d = self.initial_density
        if isinstance(d, bool) or not isinstance(d, numbers.Real) or not (0.0 < float(d) <= 1.0):
            raise ValueError(f"{name}: initial_density must be in (0, 1], got {d!r}.")
        _check_position(self.begin, "begin", name)
        _check_position(self.end, "end", name)
        check_scalar(self.power, "power", name, lower=0.0, lower_inclusive=False)
        f = self.frequency
        if isinstance(f, bool) or not isinstance(f, numbers.Integral) or f < 1:
            raise ValueError(f"{name}: frequency must be an integer >= 1, got {f!r}.")

    def _plan(self, n_steps, density, initial_density):
        name = type(self).__name__
        b = _to_step(self.begin, n_steps, "begin", name)
        e = _to_step(self.end, n_steps, "end", name)
        if e < b:
            raise ValueError(f"{name}: end must not come before begin "
                             f"(begin={self.begin!r}, end={self.end!r}).")
        d0 = float(self.initial_density)
        steps = list(range(b, e, int(self.frequency))) + [e]
        events = []
        for t in steps:
            if t == e:
                d = density
            else:
                d = density + (d0 - density) * (1.0 - (t - b) / (e - b)) ** float(self.power)
            events.append(PruneEvent(t, float(d), None))
        return events


class Constant(PruningSchedule):
    """Static sparse training: prune to the target density at ``begin``.

    Parameters
    ----------
    begin : float in [0, 1] or int, default=0
        When (a fraction of the run, or an optimizer step); 0 is at initialisation.
    frequency : int or None, default=None
        If set, the mask is selected again at the same density every ``frequency``
        steps after ``begin`` (up to the last optimizer step).

    References
    ----------
    .. [1] S. Liu et al., "The unreasonable effectiveness of random pruning: return
       of the most naive baseline for sparse training", ICLR 2022 (static sparse
       training from a mask chosen at initialisation).

    Examples
    --------
    >>> from sparsopt.pruning import Constant
    >>> [e.step for e in Constant(frequency=40).plan(100, 0.05)]
    [0, 40, 80]
    """

    def __init__(self, begin=0, frequency=None):
        self.begin = begin
        self.frequency = frequency

    def _validate(self):
        name = type(self).__name__
        _check_position(self.begin, "begin", name)
        f = self.frequency
        if f is not None and (isinstance(f, bool) or not isinstance(f, numbers.Integral)
                              or f < 1):
            raise ValueError(f"{name}: frequency must be None or an integer >= 1, got {f!r}.")

    def _plan(self, n_steps, density, initial_density):
        b = _to_step(self.begin, n_steps, "begin", type(self).__name__)
        if self.frequency is None or b >= n_steps:
            steps = [b]
        else:
            steps = list(range(b, n_steps, int(self.frequency)))
        return [PruneEvent(t, density, None) for t in steps]


_NAMES = {
    "oneshot": OneShot,
    "one_shot": OneShot,
    "iterative": Iterative,
    "imp": Iterative,
    "gradual": PolynomialDecay,
    "polynomial": PolynomialDecay,
    "constant": Constant,
}


def get_schedule(schedule):
    """A pruning schedule from a name or an instance.

    Parameters
    ----------
    schedule : str or PruningSchedule
        An instance (returned as is) or ``"oneshot"``, ``"iterative"`` (``"imp"``),
        ``"gradual"`` / ``"polynomial"`` or ``"constant"`` (default parameters).

    Returns
    -------
    schedule : PruningSchedule

    Examples
    --------
    >>> from sparsopt.pruning import get_schedule
    >>> get_schedule("gradual")
    PolynomialDecay(begin=0.1, end=0.6, frequency=100, initial_density=1.0, power=3)
    """
    if isinstance(schedule, PruningSchedule):
        return schedule
    if isinstance(schedule, str) and schedule.strip().lower() in _NAMES:
        return _NAMES[schedule.strip().lower()]()
    raise ValueError(f"schedule must be a PruningSchedule instance or one of "
                     f"{sorted(_NAMES)}, got {schedule!r}.")
