"""T4b of the unfolding spec: supervised vs unsupervised deep-unfolded ISTA / IHT.

Setting (the spec's, inferred from the first author's scripts): m = 75, n = 150,
Bernoulli-Gaussian codes with p = 0.08, A with i.i.d. N(0, 1) entries redrawn for every
minibatch, noise sigma = sqrt(p / 10), lam1 = 10 (ISTA), lam0 = 2 (IHT), T = 20 layers,
incremental training with 100 Adam steps per added layer (150 for DU-ISTA, see below) on
batches of 50.

What was changed, and why:

* evaluation on 10 fresh operators x 50 samples (the spec: 50 x 50), baselines included
  (CI size);
* the Adam learning rate is 0.03 relative to the step scale (the spec's 2e-5 absolute on
  alpha is about 0.0084 relative; at that rate our port's DU-IHT stays near -7 dB after 100
  steps per layer, at 0.03 it reaches the spec's -11 dB);
* the steps are relative to each operator's ||A||^2 (``step_scale="operator"``) and
  keep-best validates on 12 operators: with shared absolute steps (the paper's
  parametrisation) and one to four validation operators, 3 of 8 training runs (seeds 0-3)
  diverged on some evaluation operators or missed claim (iii);
* the learned steps are capped at c_t = alpha_t ||A||^2 <= 100 (``max_step=100``; the
  default 10 follows the spec's pitfall 2, written for shared absolute steps). Learned
  DU-ISTA steps reach c_t = 45-55 (unsupervised) and 80-86 (supervised), DU-IHT's 9-13.
  With the cap at 10 every DU-ISTA run sat on it and both losses stopped near the l1
  solution (-14.0 dB), the unsupervised one 0.07-0.23 above its minimum F: the F part of
  claim (i) held on 3 of 4 seeds at 100 steps per layer (gap 0.1-2 %), on none at 150;
* DU-ISTA trains 150 steps per layer, as the spec asks for claim (i) ("once training is
  stable"): the supervised model then leaves the l1 solution (-15.1 to -15.4 dB, better
  than the l1 solution's -14.8) and its F ends 1.0-1.5 above the unsupervised one's. At 100
  steps (cap 30) claim (i) holds on every seed too, but with F gaps of only 0.01-0.05;
* the unsupervised DU-IHT learns through the smooth surrogate of the hard threshold,
  annealed from temperature 0.5 to 0.02 of the threshold over training, with the l0 term
  smoothed (``l0_delta=0.01``) so that it has a gradient; keep-best validates on the exact
  F0 with the exact threshold. The supervised DU-IHT keeps the fixed mask. With the
  fixed-mask gradient (autograd's semantics; the l0 term has no gradient) the
  unsupervised DU-IHT ended 1.4-3.6 dB behind the supervised one and claim (iii)'s
  "within about 1.5 dB" held on 1 of 4 seeds. DU-IHT stays at 100 steps per layer: at
  150 the supervised model's spread grows (-11.2 to -14.7 dB, one run with a mean F of
  117) and the 1.5 dB held on 2 of 4 seeds.

Claims (i), (ii) and (iii) are asserted with the spec's criteria on training seed 0;
claim (iv), the p-mismatch test, is printed.

Seed sweep behind these statements (``benchmarks/sweep_t4b.py``; training seeds 0-3; NMSE
dB / F at t=20 on this evaluation set; ISTA at 1000 iterations: -14.80 dB / 85.58, IHT at
1000: -9.18 dB / 42.69).

This configuration:
sup DU-ISTA -15.41/87.10, -15.43/87.10, -15.13/86.84, -15.10/86.60;
unsup DU-ISTA -14.18/85.64, -14.33/85.62, -14.53/85.60, -14.39/85.61;
sup DU-IHT -14.26/25.21, -13.44/27.00, -14.88/25.24, -13.94/25.87;
unsup DU-IHT -13.79/25.98, -14.67/25.01, -13.67/26.55, -15.26/24.28
(claim (iii)'s gap: 0.47, 1.23, 1.21, 1.32 dB).

DU-ISTA at 100 steps, cap 30: sup -14.24/85.67, -14.14/85.65, -14.28/85.63, -14.34/85.62;
unsup -14.27/85.62, -14.30/85.62, -14.47/85.60, -14.35/85.61. At 150 steps, cap 30: sup
-14.98/88.59, -14.00/85.69, -15.01/89.28, -15.00/89.56; unsup -14.23/85.63, -14.52/85.60,
-14.22/85.63, -14.47/85.60 (seed 1 misses the NMSE part of (i) by 0.02 dB). At 150 steps,
cap 10: sup -13.95/85.67, -14.00/85.67, -14.00/85.67, -14.07/85.65; unsup -13.74/85.72,
-13.75/85.73, -13.88/85.69, -14.00/85.67.

DU-IHT at 150 steps: sup -13.86/25.49, -14.67/24.78, -12.42/29.17, -11.17/116.96; unsup
-13.56/25.68, -15.97/23.97, -14.78/24.83, -14.70/24.83.

Unsupervised DU-IHT at 100 steps, cap 10 (NMSE dB; supervised with the fixed mask: -14.00,
-13.44, -14.88, -13.92): fixed mask -11.18, -12.04, -13.03, -10.37; the same at 150 steps
-11.54, -13.49, -11.94, -12.34; learning rate 0.01: -10.62, -9.96, -10.29, -10.30; 0.1:
-8.59, -10.73, -10.68, -9.85; straight-through -10.29, -10.50, -11.31, -10.26; surrogate at
a fixed temperature 0.1: -8.35 (seed 0); annealed 0.5 -> 0.02 without ``l0_delta``: -10.99,
-13.55, -8.11, -12.22; the same restarted per layer (``anneal="layer"``): -10.90, -12.54,
-14.44, -10.68; annealed with ``l0_delta=0.01``: -13.81, -15.21, -13.87, -14.04.
"""

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from sparsopt.unfolding import DUIHT, DUISTA, objective, train_unfolded

M, N, P = 75, 150, 0.08
SIGMA = np.sqrt(P / 10)
T = 20
LAM1, LAM0 = 10.0, 2.0
N_EVAL_A = 10


def _draw(seed, B=50, p=P):
    rng = np.random.default_rng(seed)

    def draw():
        A = rng.standard_normal((M, N))
        X = rng.standard_normal((B, N)) * (rng.random((B, N)) < p)
        return A, X @ A.T + SIGMA * rng.standard_normal((B, M)), X

    return draw


def _evaluate(run, n_layers, penalty, lam, p=P, seed=12345):
    """NMSE (dB) and mean F per layer over N_EVAL_A fresh operators x 50 samples."""
    draw = _draw(seed, p=p)
    err = np.zeros(n_layers + 1)
    F = np.zeros(n_layers + 1)
    ref = 0.0
    for _ in range(N_EVAL_A):
        A, Y, X = draw()
        for t, x in enumerate(run(A, Y, n_layers)):
            err[t] += np.sum((x - X) ** 2)
            F[t] += objective(penalty, x, A, Y, lam)
        ref += np.sum(X ** 2)
    return 10 * np.log10(err / ref), F / N_EVAL_A


def _baseline(lam, hard):
    """ISTA / IHT with alpha = 1/L, L computed per operator (pitfall 5)."""
    def run(A, Y, n_iter):
        a = 1.0 / np.linalg.norm(A, 2) ** 2
        X = np.zeros((Y.shape[0], A.shape[1]))
        xs = [X]
        for _ in range(n_iter):
            R = X + a * (Y - X @ A.T) @ A
            if hard:
                X = np.where(np.abs(R) > np.sqrt(2 * lam * a), R, 0.0)
            else:
                X = np.sign(R) * np.maximum(np.abs(R) - lam * a, 0.0)
            xs.append(X)
        return xs
    return run


# every model: steps relative to each operator's ||A||^2, c_t = alpha_t ||A||^2 <= 100
COMMON = dict(step_scale="operator", max_step=100.0)
# the unsupervised DU-IHT learns through the annealed smooth surrogate with a smooth l0
SURROGATE = dict(gradient="surrogate", temperature=0.5, temperature_final=0.02,
                 l0_delta=0.01)
# Adam steps per added layer: the spec's 150 for DU-ISTA (claim (i) "once training is
# stable"), T4b's 100 for DU-IHT
STEPS = {DUISTA: 150, DUIHT: 100}


def _trained(Model, lam, loss, seed=0):
    kw = SURROGATE if (Model is DUIHT and loss == "unsupervised") else {}
    model = Model(lam, **COMMON, **kw)
    res = train_unfolded(model, _draw(seed), n_layers=T, loss=loss, schedule="incremental",
                         max_iter=STEPS[Model], learning_rate=0.03, n_validation=12)
    return model, res.x


@pytest.fixture(scope="module")
def results():
    out = {}
    with threadpool_limits(1):
        for name, lam, hard in (("ista", LAM1, False), ("iht", LAM0, True)):
            out[name] = _evaluate(_baseline(lam, hard), 1000, "l0" if hard else "l1", lam)
        for name, Model, lam, pen in (("du_ista", DUISTA, LAM1, "l1"),
                                      ("du_iht", DUIHT, LAM0, "l0")):
            for loss in ("supervised", "unsupervised"):
                model, params = _trained(Model, lam, loss)
                run = lambda A, Y, n, m=model, q=params: m.forward(q, A, Y, n_layers=n)[0]  # noqa: E731
                out[name, loss] = _evaluate(run, T, pen, lam)
                out[name, loss, "params"] = (model, params)
        # (iv) p-mismatch (p = 0.12 at test time), reported only
        out["mismatch"] = {
            "iht": _evaluate(_baseline(LAM0, True), T, "l0", LAM0, p=0.12)[0][T],
            **{loss: _evaluate(lambda A, Y, n, mp=out["du_iht", loss, "params"]:
                               mp[0].forward(mp[1], A, Y, n_layers=n)[0],
                               T, "l0", LAM0, p=0.12)[0][T]
               for loss in ("supervised", "unsupervised")},
        }
    rows = [("ISTA 1/L", out["ista"], T), ("ISTA x1000", out["ista"], 1000),
            ("sup DU-ISTA", out["du_ista", "supervised"], T),
            ("unsup DU-ISTA", out["du_ista", "unsupervised"], T),
            ("IHT 1/L", out["iht"], T), ("IHT x1000", out["iht"], 1000),
            ("sup DU-IHT", out["du_iht", "supervised"], T),
            ("unsup DU-IHT", out["du_iht", "unsupervised"], T)]
    print("\nT4b (CI size): model, NMSE dB at t=5/10/T (or 1000), F at t=5/10/T")
    for name, (nm, F), t in rows:
        ts = [5, 10, t]
        print(f"  {name:14s} {np.round(nm[ts], 2)} {np.round(F[ts], 2)}")
    print("  (iv) p=0.12 NMSE at t=20, IHT / sup / unsup:",
          {k: round(float(v), 2) for k, v in out["mismatch"].items()})
    return out


def test_ii_unsupervised_du_ista_reaches_istas_objective_faster(results):
    F_ista = results["ista"][1]
    F_uns = results["du_ista", "unsupervised"][1][T]
    assert abs(F_uns - F_ista[1000]) <= 0.02 * F_ista[1000]
    assert F_uns <= 0.9 * F_ista[T]


def test_i_supervised_du_ista_recovers_but_does_not_minimise_f(results):
    nm_sup, F_sup = results["du_ista", "supervised"]
    nm_uns, F_uns = results["du_ista", "unsupervised"]
    print(f"\n(i) t={T}: supervised {nm_sup[T]:.2f} dB / F {F_sup[T]:.4f}, "
          f"unsupervised {nm_uns[T]:.2f} dB / F {F_uns[T]:.4f}")
    assert nm_sup[T] <= nm_uns[T] + 0.5
    assert F_sup[T] > F_uns[T]


@pytest.mark.parametrize("loss", ["supervised", "unsupervised"])
def test_iii_du_iht_beats_converged_iht(results, loss):
    nm_iht, F_iht = results["iht"]
    nm, F = results["du_iht", loss]
    assert nm[T] <= nm_iht[1000] - 1.0
    assert F[T] < F_iht[1000]


def test_iii_du_iht_losses_perform_similarly(results):
    a = results["du_iht", "supervised"][0][T]
    b = results["du_iht", "unsupervised"][0][T]
    print(f"\n(iii) DU-IHT NMSE at t={T}: supervised {a:.2f} dB, unsupervised {b:.2f} dB")
    assert max(a, b) <= results["iht"][0][1000] - 1.0
    assert abs(a - b) <= 1.5


def test_baselines_match_the_spec(results):
    # ISTA(1/L) / IHT(1/L) at t = 20 and 1000 iterations: the spec's port numbers (+-0.2 dB
    # Monte-Carlo noise at 50 x 50; 10 x 50 here, so +-0.5 dB)
    nm_ista, _ = results["ista"]
    nm_iht, _ = results["iht"]
    assert nm_ista[T] == pytest.approx(-6.86, abs=0.5)
    assert nm_ista[1000] == pytest.approx(-14.78, abs=0.5)
    assert nm_iht[T] == pytest.approx(-6.15, abs=0.5)
    assert nm_iht[1000] == pytest.approx(-9.22, abs=0.5)
