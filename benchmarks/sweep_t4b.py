"""Seed sweep behind tests/unfolding/test_t4b.py (T4b of the unfolding spec; not in the suite).

Trains one unfolded model per (configuration, training seed) in the T4b setting (m = 75,
n = 150, p = 0.08, A ~ N(0, 1) fresh per minibatch, sigma = sqrt(p / 10), T = 20,
incremental schedule, batches of 50) and prints NMSE (dB) and mean F at t = 20 on the
test's evaluation set (10 fresh operators x 50 samples, seed 12345), one line per run.
The test's configuration (its module trains these four for seed 0 in about 75 s)::

    S="env PYTHONPATH=. python benchmarks/sweep_t4b.py"
    $S ista supervised --steps 150 --max-step 100
    $S ista unsupervised --steps 150 --max-step 100
    $S iht supervised --max-step 100
    $S iht unsupervised --max-step 100 --gradient surrogate --temperature 0.5 \
        --temperature-final 0.02 --l0-delta 0.01

Baselines: ``python benchmarks/sweep_t4b.py baselines``. The defaults (100 steps per
layer, ``max_step=10``, fixed-mask gradient) are the configuration before issue 17.
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "unfolding"))
from test_t4b import LAM0, LAM1, T, _baseline, _draw, _evaluate  # noqa: E402

from sparsopt.unfolding import DUIHT, DUISTA, train_unfolded  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("family", choices=["ista", "iht", "baselines"])
    ap.add_argument("loss", nargs="?", default="supervised")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3])
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--lr", type=float, default=0.03)
    ap.add_argument("--n-validation", type=int, default=12)
    ap.add_argument("--gradient", default="mask")
    ap.add_argument("--temperature", type=float, default=0.1)
    ap.add_argument("--temperature-final", type=float, default=None)
    ap.add_argument("--anneal", default="training")
    ap.add_argument("--l0-delta", type=float, default=None)
    ap.add_argument("--clip", type=float, default=None)
    ap.add_argument("--check-every", type=int, default=10)
    ap.add_argument("--n-eval", type=int, default=None)
    ap.add_argument("--max-step", type=float, default=10.0)
    ap.add_argument("--finetune", type=int, default=0,
                    help="then this many steps of schedule='all' (every layer)")
    ap.add_argument("--finetune-lr", type=float, default=0.003)
    a = ap.parse_args()
    if a.n_eval:
        import test_t4b
        test_t4b.N_EVAL_A = a.n_eval
    with threadpool_limits(1):
        if a.family == "baselines":
            for name, lam, hard in (("ISTA", LAM1, False), ("IHT", LAM0, True)):
                nm, F = _evaluate(_baseline(lam, hard), 1000, "l0" if hard else "l1", lam)
                print(f"{name}: t=20 {nm[T]:.2f} dB / {F[T]:.2f}; "
                      f"t=1000 {nm[1000]:.2f} dB / {F[1000]:.2f}", flush=True)
            return
        for seed in a.seeds:
            t0 = time.perf_counter()
            if a.family == "ista":
                model = DUISTA(LAM1, step_scale="operator", max_step=a.max_step)
                lam, pen = LAM1, "l1"
            else:
                model = DUIHT(LAM0, step_scale="operator", gradient=a.gradient,
                              temperature=a.temperature,
                              temperature_final=a.temperature_final, anneal=a.anneal,
                              l0_delta=a.l0_delta, max_step=a.max_step)
                lam, pen = LAM0, "l0"
            res = train_unfolded(model, _draw(seed), n_layers=T, loss=a.loss,
                                 schedule="incremental", max_iter=a.steps,
                                 learning_rate=a.lr, n_validation=a.n_validation,
                                 clip_norm=a.clip, check_every=a.check_every)
            if a.finetune:
                res = train_unfolded(model, _draw(1000 + seed), n_layers=T, loss=a.loss,
                                     schedule="all", max_iter=a.finetune, init=res.x,
                                     learning_rate=a.finetune_lr,
                                     n_validation=a.n_validation, clip_norm=a.clip,
                                     check_every=a.check_every)
            tt = time.perf_counter() - t0
            opts = " ".join(sys.argv[3:])
            nm, F = _evaluate(lambda A, Y, n, m=model, q=res.x: m.forward(q, A, Y, n_layers=n)[0],
                              T, pen, lam)
            c = np.maximum(res.x.get("c", np.zeros(T)), 0)
            print(f"{a.family} {a.loss} seed={seed} {opts} -> NMSE {nm[T]:.2f} dB, "
                  f"F {F[T]:.2f}  (train {tt:.1f} s; c range {c.min():.2f}-{c.max():.2f})",
                  flush=True)


if __name__ == "__main__":
    main()
