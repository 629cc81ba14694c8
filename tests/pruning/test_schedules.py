"""Pruning schedules: event steps, densities, rewinding, names and bad input."""

import pickle

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.base import clone

from sparsopt.pruning import (
    Constant,
    Iterative,
    OneShot,
    PolynomialDecay,
    PruneEvent,
    PruningSchedule,
    get_schedule,
)

SCHEDULES = [OneShot(), OneShot("init"), OneShot(0.3), OneShot(7), Iterative(),
             Iterative(4, rewind="init", begin=0.1, end=0.9), Iterative(2, rewind=5),
             PolynomialDecay(), PolynomialDecay(0.5, begin=10, end=90, power=1, frequency=7),
             Constant(), Constant(0.2, frequency=13)]


def test_oneshot():
    assert OneShot().plan(100, 0.1) == [PruneEvent(100, 0.1, None)]
    assert OneShot("init").plan(100, 0.1) == [PruneEvent(0, 0.1, None)]
    assert OneShot(0.25).plan(100, 0.1) == [PruneEvent(25, 0.1, None)]
    assert OneShot(40).plan(30, 0.1) == [PruneEvent(30, 0.1, None)]  # int steps are clipped


def test_iterative_geometric_densities_evenly_spaced():
    events = Iterative(n_rounds=3).plan(400, 0.1)
    assert [e.step for e in events] == [100, 200, 300]
    q = 1 - 0.1 ** (1 / 3)  # the same fraction of the remaining weights each round (IMP)
    np.testing.assert_allclose([e.density for e in events], [(1 - q) ** r for r in (1, 2, 3)])
    assert events[-1].density == 0.1
    assert all(e.rewind is None for e in events)
    ev = Iterative(2, rewind="init", begin=0.5, end=1.0).plan(300, 0.25)
    assert [(e.step, e.density, e.rewind) for e in ev] == [(200, 0.5, "init"), (250, 0.25, "init")]
    ev = Iterative(2).plan(100, 0.2, initial_density=0.8)
    np.testing.assert_allclose([e.density for e in ev], [0.4, 0.2])


def test_polynomial_decay_is_zhu_gupta():
    sched = PolynomialDecay(initial_density=1.0, begin=0.1, end=0.6, power=3, frequency=100)
    events = sched.plan(1000, 0.1)
    steps = [e.step for e in events]
    assert steps == [100, 200, 300, 400, 500, 600]
    for e in events:  # sparsity form s_t = s_f + (s_i - s_f)(1 - (t - t0)/(n dt))^3
        s = 0.9 + (0.0 - 0.9) * (1 - (e.step - 100) / 500) ** 3
        assert e.density == pytest.approx(1 - s)
    assert events[-1].density == 0.1
    d = [e.density for e in events]
    assert all(a >= b for a, b in zip(d, d[1:]))
    # the last event lands at end exactly even if frequency does not divide the window
    ev = PolynomialDecay(begin=0, end=250, frequency=100).plan(300, 0.05)
    assert [e.step for e in ev] == [0, 100, 200, 250] and ev[-1].density == 0.05
    # a sparse start
    ev = PolynomialDecay(initial_density=0.5, begin=0, end=10, frequency=5).plan(10, 0.1)
    assert ev[0].density == 0.5


def test_constant():
    assert Constant().plan(50, 0.05) == [PruneEvent(0, 0.05, None)]
    assert [e.step for e in Constant(begin=0.5).plan(50, 0.05)] == [25]
    assert [e.step for e in Constant(frequency=20).plan(50, 0.05)] == [0, 20, 40]


@settings(max_examples=100, deadline=None)
@given(n_steps=st.integers(0, 500), density=st.floats(0.01, 1.0),
       sched=st.sampled_from(SCHEDULES))
def test_plans_are_sorted_in_range_and_end_at_density(n_steps, density, sched):
    events = sched.plan(n_steps, density)
    assert events
    steps = [e.step for e in events]
    assert steps == sorted(steps)
    assert all(0 <= s <= n_steps and isinstance(s, int) for s in steps)
    assert events[-1].density == pytest.approx(density)
    assert all(0.0 < e.density <= 1.0 for e in events)
    for e in events:
        with pytest.raises(AttributeError):
            e.step = 3  # frozen


@pytest.mark.parametrize("sched", SCHEDULES, ids=repr)
def test_params_clone_pickle(sched):
    assert isinstance(sched, PruningSchedule)
    assert clone(sched).get_params() == sched.get_params()
    assert pickle.loads(pickle.dumps(sched)).plan(100, 0.1) == sched.plan(100, 0.1)


def test_get_schedule():
    assert get_schedule("oneshot") == OneShot()
    assert get_schedule("iterative") == Iterative()
    assert get_schedule("gradual") == PolynomialDecay()
    assert get_schedule("polynomial") == PolynomialDecay()
    assert get_schedule("constant") == Constant()
    s = Iterative(5)
    assert get_schedule(s) is s
    with pytest.raises(ValueError, match="schedule"):
        get_schedule("cubic")


@pytest.mark.parametrize("sched, match", [
    (OneShot(at="middle"), "at"),
    (OneShot(at=1.5), "at"),
    (Iterative(n_rounds=0), "n_rounds"),
    (Iterative(rewind="start"), "rewind"),
    (Iterative(begin=0.8, end=0.2), "end"),
    (PolynomialDecay(initial_density=0.0), "initial_density"),
    (PolynomialDecay(frequency=0), "frequency"),
    (PolynomialDecay(power=0), "power"),
    (PolynomialDecay(begin=-1), "begin"),
    (Constant(frequency=2.5), "frequency"),
])
def test_bad_parameters_are_named(sched, match):
    with pytest.raises((ValueError, TypeError), match=match):
        sched.plan(100, 0.1)


@pytest.mark.parametrize("density", [0.0, 1.2, -1, np.nan])
def test_bad_plan_arguments(density):
    with pytest.raises(ValueError, match="density"):
        OneShot().plan(10, density)
    with pytest.raises(ValueError, match="n_steps"):
        OneShot().plan(-1, 0.1)
    with pytest.raises(ValueError, match="initial_density"):
        Iterative().plan(10, 0.1, initial_density=0.0)
