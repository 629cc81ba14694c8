"""Options of the sketch-preconditioned least-squares solves and the ``"auto"`` rule."""

from __future__ import annotations

from ..utils.validation import check_int

SKETCHES = {"countsketch": 0, "gaussian": 1}

# ``solver="auto"`` rule, measured (``benchmarks/bench_completion.py --crossover``, one
# thread, shared 2-core machine, two runs): time of one half step, sketch (CountSketch,
# s = 4k, 4 CGLS iterations) / normal equations (one BLAS A^T A per row), by rank k and
# row length L:
#
#   k \ L      2s          8s          32s
#   5         5.9 / 5.6   5.0 / 4.1   4.0 / 4.1
#   20        4.3 / 3.6   2.4 / 3.9   1.3 / 1.1
#   64        3.3 / 3.4   1.2 / 1.4   0.97 / 1.22
#   128       2.4 / 2.1   1.5 / 1.5   0.85 / 0.91
#
# The sketch wins (in both runs) only for k >= 128 on rows of >= 32 s = 128 k
# observations; at the oversampling that completion needs (rows of ~5 k log n
# observations) it never does.
#: ``solver="auto"`` picks the sketch solves from this rank on ...
SKETCH_MIN_RANK = 128
#: ... when the mean number of observations per row and per column is at least this many
#: times the sketch size.
SKETCH_MIN_LENGTH_RATIO = 32.0


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
