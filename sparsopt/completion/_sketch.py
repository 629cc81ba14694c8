"""Options of the sketch-preconditioned least-squares solves and the ``"auto"`` rule."""

from __future__ import annotations

from ..utils.validation import check_int

SKETCHES = {"countsketch": 0, "gaussian": 1}

#: ``solver="auto"`` picks the sketch solves from this rank on (when rows and columns
#: are long enough for a sketch to be smaller than them, see :func:`choose_solver`);
#: the measurement behind it is in ``benchmarks/bench_completion.py --crossover``.
SKETCH_MIN_RANK = 64
#: ... and when the mean number of observations per row and per column is at least this
#: many times the sketch size (shorter rows are solved exactly by the kernel anyway).
SKETCH_MIN_LENGTH_RATIO = 2.0


def default_sketch_size(rank):
    """``s = 4 k`` rows (Gu et al.'s ``O(k log k)`` with a small constant; CGLS, not
    Richardson, keeps a poor embedding harmless: it only costs iterations)."""
    return 4 * rank


def check_sketch_options(sketch, sketch_size, n_inner, rank, owner):
    """Validated ``(kind code, sketch size, CG iterations)``."""
    if sketch not in SKETCHES:
        raise ValueError(f"{owner}: sketch must be one of {sorted(SKETCHES)}, got {sketch!r}.")
    if sketch_size is None:
        sketch_size = default_sketch_size(rank)
    sketch_size = check_int(sketch_size, "sketch_size", owner, lower=rank + 1)
    n_inner = check_int(n_inner, "n_inner", owner, lower=0)
    return SKETCHES[sketch], sketch_size, n_inner


def choose_solver(solver, rank, pattern, sketch_size):
    """``"normal"`` or ``"sketch"`` for ``solver="auto"`` (see :data:`SKETCH_MIN_RANK`)."""
    if solver != "auto":
        return solver
    m, n = pattern.shape
    shortest_mean = min(pattern.nnz / m, pattern.nnz / n)
    if rank >= SKETCH_MIN_RANK and shortest_mean >= SKETCH_MIN_LENGTH_RATIO * sketch_size:
        return "sketch"
    return "normal"
