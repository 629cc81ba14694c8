"""Unfolded ISTA / LISTA: (a) layers vs iterations at inference, (b) training speed vs PyTorch.

Run ``python benchmarks/bench_unfolding.py`` (both parts; at ``--threads 1`` on a shared
2-core machine part (b) took 54 s and part (a) 6.5 min) or
``--quick`` (fewer batches and a shorter training; about a minute); ``--part a`` / ``--part b``
selects one part, ``--dtype float64`` switches precision (default float32, PyTorch's default).
Part (b) needs PyTorch (``pip install torch``; the CPU wheel is enough). It is a
benchmark-only peer and not in the ``bench`` extra (a large download). Part (a) needs the
estimators of ``sparsopt.unfolding`` (``UnfoldedISTA``, ``LISTA``).

**(b) Training time per epoch against PyTorch autograd on CPU.** For DU-ISTA (learned steps
``α_t = c_t / L``, tied thresholds ``θ_t = λ α_t``) and LISTA-CP (learned ``W_t``, ``θ_t``)
at the spec's sizes (m = 250, n = 500, T = 16 and m = 75, n = 150, T = 20; batch 64), an
epoch is ``--batches`` (default 50) minibatches of: forward pass over all T layers, the
supervised loss (MSE over B·n entries) at ``x_T``, the backward pass, one Adam step
(β = (0.9, 0.999), ε = 1e-8), the projection ``θ ≥ 0`` / ``c ≥ 0``. The same operator
(``A ~ N(0, 1/m)``, unit-norm columns), the same pre-drawn batches (Bernoulli-Gaussian
codes, p = 0.1, noise std 0.01), the same initial parameters and dtype for both.
sparsopt: the library's own training loop, one call of
``train_unfolded(model, batches, schedule="all", max_iter=n_batches, init=params,
optimizer=adam, keep_best=False)`` per epoch (no validation set: an iterable of batches;
``sparsopt.unfolding.Adam`` continued from epoch to epoch; the hand-derived backward pass,
the loop's gradient-norm and finiteness checks included). Its learning rate ``1e-3`` is
relative to each parameter's mean magnitude (``sparsopt.unfolding.Adam``), so PyTorch gets
one parameter group per parameter with ``lr = 1e-3 · mean|p_0|``: the same update.
PyTorch: the same layer written with tensor ops (``x = sign(r) relu(|r| − θ)``),
``loss.backward()``, ``torch.optim.Adam`` (its default implementation), threads set by
``torch.set_num_threads(--threads)``. Before timing, the first-step gradients of the two are
compared (they must agree to 1e-3 relative in float32): the hand-derived backward pass is
checked against autograd. Reported: the median epoch time of ``--repeat`` epochs after one
warm-up epoch, the forward+backward-only time per batch, and the two final training losses
(the same optimiser on the same data: they agree to a few digits); ratio = PyTorch time /
sparsopt time (> 1: sparsopt faster).

**(a) Layers vs iterations.** Classic LISTA setting (m = 250, n = 500, p = 0.1, fixed
column-normalised A, SNR 40 dB, λ = 0.05 for the learned models and the baselines' F1, T =
16). Trained through the estimators: ``UnfoldedISTA`` (supervised and unsupervised) and
``LISTA(variant="cp")``, ``LISTA(variant="alista")`` (incremental schedule, ``--max-iter``
Adam steps per layer, batch 64). On a fresh test set of 1000 samples: the NMSE (dB) and the
mean objective F1 at layer T, and the number of ISTA (step 1/L) and FISTA iterations needed to
reach that NMSE and that objective (NumPy reference iterations, up to 5000); then the
inference wall time of the learned model (``transform``) against ``sparsopt.solvers.ista``
/ ``fista`` run for exactly that many iterations (``tol=0``) on the same test set.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _harness import fmt_time, grid, log, parse_args, time_runs  # noqa: I001

import statistics
import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from threadpoolctl import threadpool_limits

from sparsopt.unfolding import Adam, loss_and_grad, train_unfolded
from sparsopt.unfolding._lista import LISTAModel

try:
    from sparsopt.unfolding import _du
except ImportError:  # before the DU half of the family is merged
    _du = None

try:  # imported before any Numba kernel runs (see part_b)
    import torch
except ImportError:
    torch = None

SIZES = ((250, 500, 16), (75, 150, 20))
BATCH = 64
LR = 1e-3


def _operator(m, n, rng, dtype):
    A = rng.standard_normal((m, n)) / np.sqrt(m)
    A /= np.linalg.norm(A, axis=0)
    return A.astype(dtype)


def _batches(A, n_batches, rng, p=0.1, sigma=0.01):
    m, n = A.shape
    out = []
    for _ in range(n_batches):
        X = rng.standard_normal((BATCH, n)) * (rng.random((BATCH, n)) < p)
        Y = X @ A.T + sigma * rng.standard_normal((BATCH, m))
        out.append((Y.astype(A.dtype), X.astype(A.dtype)))
    return out


# -- (b) ----------------------------------------------------------------------------------

def _sparsopt_setup(kind, A, lam, T):
    if kind == "DU-ISTA":
        model = _du.DUISTA(lam, thresholds="tied", step_param="linear", max_step=None)
    else:
        model = LISTAModel("cp", lam=lam)
    params = model.init_params(A, T, lam=lam, dtype=A.dtype)
    return model, params


def _sparsopt_grads(model, params, A, Y, X):
    xs, cache = model.forward(params, A, Y, cache=True)
    loss, G = loss_and_grad("supervised", model, xs[-1], A, Y, X, model.lam)
    return loss, model.backward(params, A, Y, cache, G)


def _library_epoch(model, state, A, batches, T):
    """One epoch of the library's training loop, continuing its Adam."""
    res = train_unfolded(model, [(A, Y, X) for Y, X in batches], n_layers=T,
                         loss="supervised", schedule="all", max_iter=len(batches),
                         learning_rate=LR, init=state["params"], optimizer=state["opt"],
                         keep_best=False, check_every=len(batches), verbose=0)
    assert res.n_iter == len(batches) and res.info["n_skipped"] == 0
    state["params"], state["opt"] = res.x, res.info["optimizer"]


def _torch_setup(torch, kind, A, params, lam):
    At = torch.from_numpy(A)
    if kind == "DU-ISTA":
        tp = {"c": torch.nn.Parameter(torch.from_numpy(params["c"].copy()))}
        L = float(params["L"])

        def forward(Y):
            alpha = torch.clamp(tp["c"], min=0) / L
            x = torch.zeros(Y.shape[0], At.shape[1], dtype=At.dtype)
            for t in range(alpha.shape[0]):
                r = x + alpha[t] * ((Y - x @ At.T) @ At)
                x = torch.sign(r) * torch.relu(r.abs() - lam * alpha[t])
            return x
    else:
        tp = {k: torch.nn.Parameter(torch.from_numpy(params[k].copy()))
              for k in ("W", "theta")}

        def forward(Y):
            W, theta = tp["W"], tp["theta"]
            x = torch.zeros(Y.shape[0], At.shape[1], dtype=At.dtype)
            for t in range(theta.shape[0]):
                r = x + (Y - x @ At.T) @ W[t]
                x = torch.sign(r) * torch.relu(r.abs() - torch.relu(theta[t]))
            return x
    return tp, forward


def _torch_epoch(torch, tp, forward, opt, batches):
    for Y, X in batches:
        opt.zero_grad(set_to_none=True)
        loss = torch.mean((forward(Y) - X) ** 2)
        loss.backward()
        opt.step()
        with torch.no_grad():  # the projection: steps c >= 0, thresholds >= 0
            for p in tp.values():
                if p.ndim == 1:
                    p.clamp_(min=0)


def _compare(torch, kind, A, T, batches, tbatches, lam, args, dtype):
    """Gradient agreement, then epoch and forward+backward times of both frameworks."""
    model, params0 = _sparsopt_setup(kind, A, lam, T)
    params = {k: v.copy() for k, v in params0.items()}
    tp, forward = _torch_setup(torch, kind, A, params0, lam)
    opt_np = Adam(params, lr=LR)  # the library's; its lr is relative to mean|p_0|
    # first-step gradients agree (the hand-derived backward against autograd)
    Y, X = batches[0]
    Yt, Xt = tbatches[0]
    loss_np, g_np = _sparsopt_grads(model, params, A, Y, X)
    loss_t = torch.mean((forward(Yt) - Xt) ** 2)
    loss_t.backward()
    tol = 1e-3 if dtype == np.float32 else 1e-8
    for k, p in tp.items():
        ref = p.grad.numpy()
        err = np.linalg.norm(g_np[k] - ref) / max(np.linalg.norm(ref), 1e-30)
        assert err < tol, (kind, k, err)
        p.grad = None
    assert abs(loss_np - loss_t.item()) <= tol * abs(loss_np)
    opt_t = torch.optim.Adam([{"params": [p], "lr": LR * opt_np.scale[k]}
                              for k, p in tp.items()], lr=LR)
    state = {"params": params, "opt": opt_np}

    def epoch_np():
        _library_epoch(model, state, A, batches, T)

    def epoch_t():
        _torch_epoch(torch, tp, forward, opt_t, tbatches)

    def fb_np():
        _sparsopt_grads(model, state["params"], A, Y, X)

    def fb_t():
        loss = torch.mean((forward(Yt) - Xt) ** 2)
        loss.backward()
        for p in tp.values():
            p.grad = None

    res = {}
    with threadpool_limits(limits=args.threads):
        for name, fn, rep in [("sparsopt", epoch_np, args.repeat),
                              ("pytorch", epoch_t, args.repeat),
                              ("fb_sparsopt", fb_np, 5 * args.repeat),
                              ("fb_pytorch", fb_t, 5 * args.repeat)]:
            fn()  # warm-up
            times, _ = time_runs(fn, rep)
            res[name] = statistics.median(times)
    # both trained the same way: their final losses agree roughly
    final_np = np.mean([_sparsopt_grads(model, state["params"], A, Yb, Xb)[0]
                        for Yb, Xb in batches[:3]])
    with torch.no_grad():
        final_t = np.mean([torch.mean((forward(Yb) - Xb) ** 2).item()
                           for Yb, Xb in tbatches[:3]])
    res["final"] = (final_np, final_t)
    return res


def part_b(args, dtype):
    """Training time per epoch against PyTorch.

    PyTorch is imported at the top of the script, before ``sparsopt.warmup`` runs any Numba
    kernel: in three runs with the import after it, the NumPy training loop of the largest
    case was 7-25x slower at 2 threads on our shared 2-core machine, and normal in the two
    runs with the import first (not pinned down: possibly an interaction of the threading
    runtimes, possibly the machine's load; 1-thread runs were not affected). On a shared
    machine prefer ``--threads 1`` for the headline.
    """
    if torch is None:
        log("part (b) skipped: PyTorch is not installed (pip install torch)")
        return []
    torch.set_num_threads(args.threads)
    rng = np.random.default_rng(0)
    kinds = ["LISTA-CP"] + (["DU-ISTA"] if _du is not None else [])
    if _du is None:
        log("part (b): sparsopt.unfolding._du not merged; DU-ISTA skipped")
    n_batches = 10 if args.quick else args.batches
    body = []
    for m, n, T in SIZES:
        A = _operator(m, n, rng, dtype)
        batches = _batches(A, n_batches, rng)
        tbatches = [(torch.from_numpy(Y), torch.from_numpy(X)) for Y, X in batches]
        for kind in kinds:
            res = _compare(torch, kind, A, T, batches, tbatches, 0.05, args, dtype)
            body.append([f"m={m}, n={n}, T={T}", kind, fmt_time(res["sparsopt"]),
                         fmt_time(res["pytorch"]), f"{res['pytorch'] / res['sparsopt']:.2f}",
                         fmt_time(res["fb_sparsopt"]), fmt_time(res["fb_pytorch"]),
                         f"{res['fb_pytorch'] / res['fb_sparsopt']:.2f}",
                         f"{res['final'][0]:.3g} / {res['final'][1]:.3g}"])
            log(f"  (b) {body[-1]}")
    head = ["problem", "model", f"sparsopt epoch ({n_batches} batches)", "PyTorch epoch",
            "PyTorch/sparsopt", "fwd+bwd sparsopt", "fwd+bwd PyTorch", "PyTorch/sparsopt",
            "final MSE sparsopt / PyTorch"]
    return [f"(b) training time, batch {BATCH}, {np.dtype(dtype).name}, "
            f"{args.threads} threads, torch {torch.__version__}", ""] + \
        grid(head, body, args.markdown, right={2, 3, 4, 5, 6, 7})


# -- (a) ----------------------------------------------------------------------------------

def _nmse_db(X, X_true):
    return 10 * np.log10(np.sum((X - X_true) ** 2) / np.sum(X_true ** 2))


def _objective(X, A, Y, lam):
    R = Y - X @ A.T
    return float(np.mean(0.5 * np.sum(R ** 2, axis=1) + lam * np.sum(np.abs(X), axis=1)))


def _curves(A, Y, X_true, lam, n_iter, fista):
    """Per-iteration NMSE (dB) and mean F1 of ISTA (step 1/L) or plain FISTA, NumPy."""
    L = np.linalg.norm(A.astype(np.float64), 2) ** 2
    X = np.zeros((Y.shape[0], A.shape[1]), dtype=Y.dtype)
    Z, tk = X.copy(), 1.0
    nmse, obj = [], []
    for _ in range(n_iter):
        V = Z if fista else X
        R = V + ((Y - V @ A.T) @ A) / L
        Xn = np.sign(R) * np.maximum(np.abs(R) - lam / L, 0)
        if fista:
            tn = (1 + np.sqrt(1 + 4 * tk * tk)) / 2
            Z = Xn + ((tk - 1) / tn) * (Xn - X)
            tk = tn
        X = Xn
        nmse.append(_nmse_db(X, X_true))
        obj.append(_objective(X, A, Y, lam))
    return np.array(nmse), np.array(obj)


def _first(curve, target):
    hit = np.flatnonzero(curve <= target)
    return int(hit[0]) + 1 if hit.size else None


def _its(k, n_max):
    return f"> {n_max}" if k is None else str(k)


def part_a(args, dtype):
    try:
        from sparsopt.unfolding import LISTA, UnfoldedISTA
    except ImportError:
        log("part (a) skipped: the sparsopt.unfolding estimators are not merged yet")
        return []
    from sparsopt.solvers import fista, ista

    rng = np.random.default_rng(1)
    m, n, T, lam = 250, 500, 16, 0.05
    A = _operator(m, n, rng, dtype)

    def draw(nb, p=0.1, snr_db=40.0):
        X = rng.standard_normal((nb, n)) * (rng.random((nb, n)) < p)
        Y0 = X @ A.T
        noise = rng.standard_normal(Y0.shape) * Y0.std(axis=1, keepdims=True) \
            * 10 ** (-snr_db / 20)
        return (Y0 + noise).astype(dtype), X.astype(dtype)

    n_train = 2000 if args.quick else 20000
    Y_tr, X_tr = draw(n_train)
    Y_te, X_te = draw(1000)
    max_iter = 20 if args.quick else args.max_iter
    common = dict(n_layers=T, alpha=lam, max_iter=max_iter, batch_size=BATCH,
                  random_state=0, schedule="incremental")
    learned = [
        ("DU-ISTA sup", UnfoldedISTA(A, loss="supervised", **common), True),
        ("DU-ISTA unsup", UnfoldedISTA(A, loss="unsupervised", **common), False),
        ("LISTA-CP", LISTA(A, variant="cp", loss="supervised", **common), True),
        ("ALISTA", LISTA(A, variant="alista", loss="supervised", **common), True),
    ]
    warnings.filterwarnings("ignore", category=ConvergenceWarning)  # fixed its, tol=0
    n_base = 500 if args.quick else 5000
    curves = {name: _curves(A, Y_te, X_te, lam, n_base, fista=f)
              for name, f in (("ISTA", False), ("FISTA", True))}
    body = []
    with threadpool_limits(limits=args.threads):
        for name, est, sup in learned:
            t0 = time.perf_counter()
            est.fit(Y_tr, X_tr) if sup else est.fit(Y_tr)
            t_fit = time.perf_counter() - t0
            est.transform(Y_te)
            times, Xh = time_runs(lambda est=est: est.transform(Y_te), args.repeat)
            t_inf = statistics.median(times)
            nm, ob = _nmse_db(Xh, X_te), _objective(Xh, A, Y_te, lam)
            cells = [name, f"{t_fit:.1f} s", f"{nm:.2f}", f"{ob:.4g}", fmt_time(t_inf)]
            for base, solver in (("ISTA", ista), ("FISTA", fista)):
                k_nm = _first(curves[base][0], nm)
                k_ob = _first(curves[base][1], ob)
                k = max(k for k in (k_nm, k_ob, 1) if k is not None)
                kw = dict(alpha=lam, max_iter=k, tol=0, check_every=max(k, 1))
                if solver is fista:
                    kw["restart"] = False
                # the objective of solvers.ista is the per-signal sum of 1/2||y - x A^T||^2
                # + alpha ||x||_1: the same F1 as here
                solver(Y_te, A.T, **kw)
                times, _ = time_runs(lambda kw=kw, s=solver: s(Y_te, A.T, **kw), args.repeat)
                cells += [_its(k_nm, n_base), _its(k_ob, n_base),
                          fmt_time(statistics.median(times))]
            body.append(cells)
            log(f"  (a) {cells}")
    head = ["model (T=16)", "fit", "NMSE dB", "mean F1", "inference",
            "ISTA its to NMSE", "ISTA its to F1", "ISTA time (max its)",
            "FISTA its to NMSE", "FISTA its to F1", "FISTA time (max its)"]
    notes = [f"(a) layers vs iterations: m={m}, n={n}, T={T}, lam={lam}, test 1000 samples, "
             f"{np.dtype(dtype).name}, {args.threads} threads; ISTA at {n_base} its: NMSE "
             f"{curves['ISTA'][0][-1]:.2f} dB, F1 {curves['ISTA'][1][-1]:.4g}", ""]
    return notes + grid(head, body, args.markdown, right=set(range(1, 11)))


def main():
    def extra(p):
        p.add_argument("--part", choices=("a", "b", "all"), default="all")
        p.add_argument("--dtype", choices=("float32", "float64"), default="float32")
        p.add_argument("--batches", type=int, default=50, help="minibatches per epoch (b)")
        p.add_argument("--max-iter", type=int, default=200,
                       help="Adam steps per layer when training in (a)")

    args = parse_args(__doc__.splitlines()[0], add_arguments=extra)
    dtype = np.dtype(args.dtype).type
    import sparsopt

    sparsopt.warmup(dtypes=(args.dtype,))
    lines = []
    if args.part in ("b", "all"):
        lines += part_b(args, dtype) + [""]
    if args.part in ("a", "all"):
        lines += part_a(args, dtype)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
