"""The tour behind ``python -m sparsopt demo``: every family on built-in data.

It grows as families land. Each task prints its rows as it finishes; the final
table lists task, method, quality and time, and plots go to the output folder.
"""

from __future__ import annotations

import os
import time
import warnings

import numpy as np


class _Progress:
    def __init__(self, n_steps, quiet=False):
        self.n, self.i, self.quiet, self.t0 = n_steps, 0, quiet, time.perf_counter()

    def step(self, label):
        self.i += 1
        if not self.quiet:
            print(f"[{self.i}/{self.n}] {label} ... (t = {time.perf_counter() - self.t0:.1f}s)",
                  flush=True)


def _psnr(ref, est):
    mse = float(np.mean((ref - est) ** 2))
    return 10 * np.log10(1.0 / mse)


def _block_dct(img, b, inverse=False):
    from scipy.fft import dctn, idctn

    h, w = img.shape
    blocks = img.reshape(h // b, b, w // b, b).transpose(0, 2, 1, 3)
    f = idctn if inverse else dctn
    out = f(blocks, axes=(2, 3), norm="ortho")
    return out.transpose(0, 2, 1, 3).reshape(h, w)


def _denoising_penalties():
    from .penalties import L0, L1, MCP, SCAD, ElasticNet, Log, Lq

    return [
        ("l1 (soft)", lambda a: L1(a)),
        ("l0 (hard)", lambda a: L0(a)),
        ("l1/2 (half)", lambda a: Lq(a, q=0.5)),
        ("l2/3", lambda a: Lq(a, q=2.0 / 3.0)),
        ("mcp", lambda a: MCP(a, gamma=3.0)),
        ("scad", lambda a: SCAD(a, gamma=3.7)),
        ("log", lambda a: Log(a, eps=0.05)),
        ("elastic net", lambda a: ElasticNet(a, l1_ratio=0.9)),
    ]


def task_denoising(rows, figs, quick):
    """Denoise china.jpg by a penalty's prox in an orthonormal 8x8 block DCT (exact MAP)."""
    from .datasets import load_image_patches

    _, img = load_image_patches(n_patches=1, return_image=True)
    size = 128 if quick else 256
    clean = img[100 : 100 + size, 200 : 200 + size]
    sigma = 0.08
    noisy = clean + sigma * np.random.default_rng(0).standard_normal(clean.shape)
    coef = _block_dct(noisy, 8)
    dc = np.zeros_like(coef, dtype=bool)
    dc[::8, ::8] = True
    grid = np.geomspace(1e-4, 1.0, 13 if quick else 25)
    results = {"noisy": (noisy, _psnr(clean, noisy))}
    rows.append(("denoise china.jpg (sigma=0.08)", "noisy input",
                 f"PSNR {results['noisy'][1]:.2f} dB", 0.0))
    for name, make in _denoising_penalties():
        t0 = time.perf_counter()
        best = (-np.inf, None, None)
        for alpha in grid:
            c = coef.copy()
            c[~dc] = make(alpha).prox(coef[~dc], 1.0)
            den = _block_dct(c, 8, inverse=True)
            p = _psnr(clean, den)
            if p > best[0]:
                best = (p, alpha, den)
        dt = (time.perf_counter() - t0) / len(grid)
        results[name] = (best[2], best[0])
        rows.append(("denoise china.jpg (sigma=0.08)", f"prox {name}, alpha={best[1]:.2g}",
                     f"PSNR {best[0]:.2f} dB", dt))
    figs["denoising"] = (clean, results)


def task_recovery(rows, figs, quick):
    """Recover a 12-sparse vector from 100 noisy measurements with each penalty."""
    from .datasets import make_sparse_signal
    from .exceptions import ConvergenceWarning
    from .penalties import CEL0, L0, L1, MCP, SCAD, Log, Lq
    from .solvers import proximal_gradient
    from .utils.linalg import spectral_norm_sq

    A, y, x_true = make_sparse_signal(100, 256, 12, noise=0.02, random_state=1)
    lmax = float(np.max(np.abs(A.T @ y)))
    step = 0.95 / spectral_norm_sq(A)
    a = np.linalg.norm(A, axis=0)
    rn = np.sqrt(A.shape[0])
    pens = [
        ("l1", lambda f: L1(f * lmax)),
        ("mcp", lambda f: MCP(f * lmax, gamma=3.0)),
        ("scad", lambda f: SCAD(f * lmax, gamma=3.7)),
        ("l1/2", lambda f: Lq(f * lmax, q=0.5)),
        ("log", lambda f: Log(f * lmax * 0.1, eps=0.1)),
        ("cel0", lambda f: CEL0(0.5 * (f * lmax) ** 2, a=a)),
        ("l0 (iht)", lambda f: L0(0.5 * (f * lmax) ** 2)),
    ]
    fracs = np.geomspace(2e-3, 0.3, 6 if quick else 12)
    sols = {}
    for name, make in pens:
        t0 = time.perf_counter()
        best = (np.inf, None, None, None)
        n_warn = 0
        for f in fracs:
            with warnings.catch_warnings(record=True) as w:
                warnings.simplefilter("always", ConvergenceWarning)
                # proximal_gradient minimises the mean datafit 1/(2n)||y - X x||^2: scaling X
                # and y by sqrt(n) makes it the per-signal 1/2||y - A x||^2 these penalties
                # (and CEL0's column norms a) are written for, with the same step
                res = proximal_gradient(A * rn, y * rn, penalty=make(f), step=step,
                                        max_iter=3000, tol=1e-7)
            n_warn += sum(issubclass(x.category, ConvergenceWarning) for x in w)
            err = np.linalg.norm(res.x - x_true) / np.linalg.norm(x_true)
            if err < best[0]:
                best = (err, f, res.x, res.n_iter)
        dt = (time.perf_counter() - t0) / len(fracs)
        supp, est = x_true != 0, np.abs(best[2]) > 1e-8
        f1 = 2 * np.sum(supp & est) / (supp.sum() + est.sum())
        note = f", {n_warn}/{len(fracs)} hit max_iter" if n_warn else ""
        rows.append(("recover 12-sparse x (100x256)", f"proximal_gradient + {name}",
                     f"rel.err {best[0]:.3f}, support F1 {f1:.2f}{note}", dt))
        sols[name] = best[2]
    figs["recovery"] = (x_true, sols)


def task_logistic(rows, figs, quick):
    """Sparse logistic regression, digits 3 vs 8, alpha picked on a validation split."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    from .exceptions import ConvergenceWarning
    from .penalties import L1, MCP
    from .solvers import proximal_gradient

    X, y = load_digits(return_X_y=True)
    keep = (y == 3) | (y == 8)
    X, y = X[keep], np.where(y[keep] == 3, 1.0, -1.0)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.3, random_state=0, stratify=y)
    X_fit, X_val, y_fit, y_val = train_test_split(X_tr, y_tr, test_size=0.3, random_state=0,
                                                  stratify=y_tr)
    sc = StandardScaler().fit(X_fit)
    Xf, Xv, Xt = (np.hstack([sc.transform(Z), np.ones((len(Z), 1))]) for Z in (X_fit, X_val, X_te))
    lmax = float(np.max(np.abs(Xf.T @ y_fit))) / (2 * len(y_fit))  # mean logistic datafit
    coefs = {}
    for name, make in [("l1", lambda a: L1(a)), ("mcp", lambda a: MCP(a, gamma=3.0))]:
        t0 = time.perf_counter()
        best = (-1, None, None)
        grid = np.geomspace(0.01, 0.5, 5 if quick else 8) * lmax
        for alpha in grid:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                res = proximal_gradient(Xf, y_fit, loss="logistic", penalty=make(alpha),
                                        max_iter=2000, tol=1e-6)
            acc = float(np.mean(np.sign(Xv @ res.x) == y_val))
            if acc > best[0]:
                best = (acc, alpha, res.x)
        dt = (time.perf_counter() - t0) / len(grid)
        w = best[2]
        acc_te = float(np.mean(np.sign(Xt @ w) == y_te))
        nnz = int(np.sum(np.abs(w[:-1]) > 1e-8))
        rows.append(("digits 3 vs 8, logistic", f"proximal_gradient + {name}",
                     f"test acc {acc_te:.3f}, {nnz}/64 pixels used", dt))
        coefs[name] = w[:-1].reshape(8, 8)
    figs["logistic"] = coefs


def task_regression(rows, figs, quick):
    """Sparse regression: diabetes plus noise features, Lasso against MCP and SCAD.

    The same working-set engine (``working_set_cd``) runs every penalty; alpha is picked on a
    validation split; the row reports the test R^2 and how many of the 10 real and the 40
    noise features each penalty keeps (MCP and SCAD do not shrink large coefficients).
    """
    from sklearn.datasets import load_diabetes
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    from .exceptions import ConvergenceWarning
    from .linear_model import SparseRegression
    from .solvers.glm.working_set_cd import alpha_max

    X, y = load_diabetes(return_X_y=True)
    rng = np.random.default_rng(0)
    X = np.hstack([X, rng.standard_normal((X.shape[0], 40))])  # 40 pure-noise features
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.3, random_state=0)
    X_fit, X_val, y_fit, y_val = train_test_split(X_tr, y_tr, test_size=0.3, random_state=0)
    sc = StandardScaler().fit(X_fit)
    Xf, Xv, Xt = (sc.transform(Z) for Z in (X_fit, X_val, X_te))
    amax = alpha_max(Xf, y_fit, fit_intercept=True)
    grid = np.geomspace(0.3, 0.003, 6 if quick else 12) * amax
    for name in ("l1", "mcp", "scad"):
        t0 = time.perf_counter()
        best = (-np.inf, None)
        for alpha in grid:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                est = SparseRegression(penalty=name, alpha=alpha, tol=1e-6).fit(Xf, y_fit)
            score = est.score(Xv, y_val)
            if score > best[0]:
                best = (score, est)
        dt = (time.perf_counter() - t0) / len(grid)
        est = best[1]
        used = int(np.sum(est.coef_[:10] != 0)), int(np.sum(est.coef_[10:] != 0))
        rows.append(("diabetes + 40 noise features", f"SparseRegression(penalty={name!r})",
                     f"test R2 {est.score(Xt, y_te):.3f}, {used[0]}/10 real + {used[1]}/40 "
                     "noise features", dt))


def _dct_dictionary(size=8, n_freq=12):
    """Overcomplete separable 2-D DCT dictionary without the constant atom (unit norms)."""
    t = np.arange(size)
    basis = np.cos(np.pi * np.outer(np.arange(n_freq), 2 * t + 1) / (2 * n_freq))
    atoms = np.einsum("ai,bj->abij", basis, basis).reshape(n_freq * n_freq, size * size)[1:]
    atoms -= atoms.mean(axis=1, keepdims=True)  # patches are centred
    return atoms / np.linalg.norm(atoms, axis=1, keepdims=True)


def task_sparse_coding(rows, figs, quick):
    """SparseCoder on china.jpg patches: error at matched sparsity for each penalty."""
    from .datasets import load_image_patches
    from .decomposition import SparseCoder

    X = load_image_patches(n_patches=500 if quick else 2000, random_state=0)
    X /= X.std()
    D = _dct_dictionary()
    target = 6.0
    curves = {}
    # alpha grids bracketing ~3-12 active atoms (small alphas on this coherent
    # overcomplete dictionary need hundreds of epochs and tell nothing more)
    for name, grid in [
        ("l1", np.geomspace(0.9, 3.0, 4)),
        ("l1/2", np.geomspace(0.3, 1.8, 4)),
        ("mcp", np.geomspace(0.8, 3.0, 4)),
        ("cel0", np.geomspace(0.3, 1.5, 4)),
    ]:
        t0 = time.perf_counter()
        pts = []
        for alpha in grid:
            coder = SparseCoder(D, penalty=name, alpha=alpha, transform_max_iter=300, tol=1e-4)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                codes = coder.fit_transform(X)
            nnz = float(np.mean(np.count_nonzero(codes, axis=1)))
            err = float(np.sum((X - codes @ D) ** 2) / np.sum(X**2))
            pts.append((nnz, err))
        dt = (time.perf_counter() - t0) / len(grid)
        pts.sort()
        curves[name] = pts
        nn, ee = np.array(pts).T
        err_at = float(np.exp(np.interp(target, nn, np.log(ee))))
        rows.append((f"code china.jpg patches (k~{target:g})", f"SparseCoder({name})",
                     f"rel.err {err_at:.3f} at {target:g} atoms", dt))
    t0 = time.perf_counter()
    codes = SparseCoder(D, solver="omp", n_nonzero_coefs=int(target)).fit_transform(X)
    err = float(np.sum((X - codes @ D) ** 2) / np.sum(X**2))
    rows.append((f"code china.jpg patches (k~{target:g})", "SparseCoder(omp)",
                 f"rel.err {err:.3f} at {target:g} atoms", time.perf_counter() - t0))
    curves["omp"] = [(target, err)]
    figs["sparse_coding"] = curves


def task_dictionary(rows, figs, quick):
    """MiniBatchDictionaryLearning on china.jpg patches vs the fixed overcomplete DCT."""
    from .datasets import load_image_patches
    from .decomposition import MiniBatchDictionaryLearning, sparse_encode

    X = load_image_patches(n_patches=4000 if quick else 20000, random_state=0)
    scale = X.std()
    X /= scale
    X_test = load_image_patches(n_patches=2000, random_state=1) / scale
    k = 5  # atoms per held-out patch, coded by OMP against either dictionary
    label = f"learn 144 atoms on china.jpg patches (k={k})"

    def err(D):
        C = sparse_encode(X_test, D, solver="omp", n_nonzero_coefs=k)
        return float(np.sum((X_test - C @ D) ** 2) / np.sum(X_test**2))

    D_dct = _dct_dictionary()
    t0 = time.perf_counter()
    dl = MiniBatchDictionaryLearning(144, alpha=1.0, random_state=0).fit(X)
    dt = time.perf_counter() - t0
    rows.append((label, f"MiniBatchDictionaryLearning(l1), {dl.n_steps_} batches",
                 f"rel.err {err(dl.components_):.3f} held-out", dt))
    rows.append((label, "overcomplete DCT (fixed, 143 atoms)",
                 f"rel.err {err(D_dct):.3f} held-out", 0.0))
    figs["dictionary"] = dl.components_


def task_transport(rows, figs, quick):
    """Entropic OT at small reg (the SNS paper's random instance): SNS vs log-Sinkhorn."""
    from .ot import sinkhorn, sinkhorn_newton_sparse

    n = 200 if quick else 500
    M = np.random.default_rng(0).random((n, n))
    reg = 1.0 / 1200
    label = f"entropic OT, n={n}, reg=1/1200"
    curves = {}
    for name, run in [
        ("sinkhorn_newton_sparse", lambda: sinkhorn_newton_sparse(None, None, M, reg)),
        ("sinkhorn (log, 1000 sweeps)",
         lambda: sinkhorn(None, None, M, reg, max_iter=1000, check_every=20)),
    ]:
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = run()
        dt = time.perf_counter() - t0
        rows.append((label, name, f"marginal err {res.marginal_error:.1e} ({res.n_iter} it)",
                     dt))
        curves[name] = [(h["time"], h["marginal_error"]) for h in res.history]
    figs["transport"] = curves


def task_sparse_wht(rows, figs, quick):
    """SPRIGHT: a 100-sparse pseudo-Boolean function on 20 bits from 1.5% of its values."""
    from .datasets import make_sparse_walsh
    from .transforms import spright

    n, K = (16, 20) if quick else (20, 100)
    query, k, v = make_sparse_walsh(n, K, random_state=0)
    t0 = time.perf_counter()
    res = spright(query, n, K, random_state=0)
    dt = time.perf_counter() - t0
    exact = bool(np.array_equal(res.indices, k) and np.allclose(res.values, v))
    rows.append((f"sparse WHT, n={n}, K={K}", "spright",
                 f"exact {exact} ({res.n_queries} queries, {res.n_queries / 2**n:.2%} of 2^{n})",
                 dt))


def _image_rows(quick):
    """Grey rows of the bundled 'china' image, cropped to 2**k columns (427 x 640 -> 512)."""
    from sklearn.datasets import load_sample_image

    rgb = load_sample_image("china.jpg").astype(np.float64) / 255.0
    grey = rgb.mean(axis=2)[:, :512]
    return np.ascontiguousarray(grey[:128] if quick else grey)


def _transform_fwht(X):
    """Dense fwht of every row: round-trip error and the speed-up over the NumPy reference."""
    from .transforms import fwht, ifwht

    def best_of(fn, k=5):
        best = np.inf
        for _ in range(k):
            t0 = time.perf_counter()
            out = fn()
            best = min(best, time.perf_counter() - t0)
        return out, best

    C, t_nb = best_of(lambda: fwht(X))
    _, t_np = best_of(lambda: fwht(X, engine="numpy"), 3)
    err = float(np.abs(ifwht(C) - X).max())
    return "fwht (Numba)", f"round-trip err {err:.1e}, {t_np / t_nb:.0f}x numpy ref", t_nb


#: one entry per transform; each takes the image rows and returns (method, quality, seconds)
TRANSFORM_METHODS = [_transform_fwht]


def task_transforms(rows, figs, quick):
    """Walsh-Hadamard transforms of the rows of a bundled image."""
    X = _image_rows(quick)
    label = f"WHT of image rows, {X.shape[0]}x{X.shape[1]}"
    for method in TRANSFORM_METHODS:
        name, quality, dt = method(X)
        rows.append((label, name, quality, dt))


def task_completion(rows, figs, quick):
    """Low-rank matrix completion from p = 5 k log(n) / n of the entries: AltMin vs
    soft-impute."""
    from .completion import altmin_complete, soft_impute
    from .datasets import make_low_rank_completion

    n, k = (500, 5) if quick else (2000, 10)
    p = 5 * k * np.log(n) / n
    X, U, V = make_low_rank_completion(n, n, k, density=p, random_state=0)
    M = U @ V.T
    label = f"complete {n}x{n} rank {k} from {100 * p:.0f}% of entries"
    for name, run in [("altmin_complete", lambda: altmin_complete(X, k, random_state=0)),
                      ("soft_impute (nuclear norm)", lambda: soft_impute(X, k,
                                                                         random_state=0))]:
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = run()
        dt = time.perf_counter() - t0
        err = np.linalg.norm(res.U @ res.V.T - M) / np.linalg.norm(M)
        rows.append((label, name, f"rel err {err:.1e} ({res.n_iter} it)", dt))


def task_unfolding(rows, figs, quick):
    """Deep-unfolded ISTA: T layers with learned steps vs T and 1000 iterations of ISTA."""
    from .unfolding import UnfoldedISTA, nmse_db

    rng = np.random.default_rng(0)
    m, n, T = 50, 100, 10
    A = rng.standard_normal((m, n)) / np.sqrt(m)

    def draw(k):
        X = rng.standard_normal((k, n)) * (rng.random((k, n)) < 0.08)
        return X @ A.T + 0.01 * rng.standard_normal((k, m)), X

    Y, X = draw(500)
    Yt, Xt = draw(500)
    lam = 0.05
    label = f"unfolded ISTA, A {m}x{n}, {T} layers"
    L = np.linalg.norm(A, 2) ** 2
    for iters in (T, 1000):
        t0 = time.perf_counter()
        Z = np.zeros_like(Xt)
        for _ in range(iters):
            R = Z + (Yt - Z @ A.T) @ A / L
            Z = np.sign(R) * np.maximum(np.abs(R) - lam / L, 0)
        rows.append((label, f"ISTA, {iters} iterations",
                     f"NMSE {nmse_db(Z, Xt):.1f} dB", time.perf_counter() - t0))
    for loss in ("supervised", "unsupervised"):
        t0 = time.perf_counter()
        est = UnfoldedISTA(A, n_layers=T, alpha=lam, loss=loss, max_iter=30 if quick else 100,
                           learning_rate=0.03, random_state=0)
        est.fit(Y, X if loss == "supervised" else None)
        dt = time.perf_counter() - t0
        rows.append((label, f"UnfoldedISTA ({loss}, trained {dt:.1f} s)",
                     f"NMSE {nmse_db(est.transform(Yt), Xt):.1f} dB", dt))


def task_probabilistic_sparse_coding(rows, figs, quick):
    """Binary sparse coding by truncated EM on the bars test: recovered bars, pi and sigma."""
    from scipy.optimize import linear_sum_assignment

    from .datasets import make_bars
    from .decomposition import BinarySparseCoding

    n = 500 if quick else 1000
    X, W_true, _ = make_bars(n, size=5, random_state=0)
    label = f"bars test: 10 bars from {n} noisy 5x5 images (truncated EM)"
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bsc = BinarySparseCoding(10, n_preselect=8, max_active=5, n_iter=50 if quick else 150,
                                 anneal="default", random_state=0).fit(X)
    dt = time.perf_counter() - t0
    cost = np.abs(W_true[:, None, :] - bsc.components_[None, :, :]).mean(axis=2)
    r, c = linear_sum_assignment(cost)
    rows.append((label, f"BinarySparseCoding(H'=8, gamma=5), {bsc.n_iter_} EM iterations",
                 f"bar MAE {cost[r, c].max():.2f} (max of 10), pi {float(np.mean(bsc.prior_)):.3f}"
                 f" (true 0.2), sigma {float(bsc.noise_std_):.2f} (true 2)", dt))


def task_pruning(rows, figs, quick):
    """A scikit-learn MLP on digits pruned to 10 % of its weights (MLPPruner), and a sparse
    MLP trained at 5 % with gradual magnitude pruning (SparseMLPClassifier)."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    from sklearn.neural_network import MLPClassifier
    from sklearn.preprocessing import StandardScaler

    from .pruning import MLPPruner, SparseMLPClassifier

    X, y = load_digits(return_X_y=True)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.25, stratify=y,
                                              random_state=0)
    sc = StandardScaler().fit(X_tr)
    X_tr, X_te = sc.transform(X_tr), sc.transform(X_te)
    epochs = 15 if quick else 40
    label = "prune a 64-128-10 MLP on digits"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t0 = time.perf_counter()
        dense = MLPClassifier(hidden_layer_sizes=(128,), batch_size=64, max_iter=epochs,
                              random_state=0).fit(X_tr, y_tr)
        rows.append((label, "MLPClassifier (dense)", f"accuracy {dense.score(X_te, y_te):.3f}"
                     ", density 1.00", time.perf_counter() - t0))
        for ft in (0, 10):
            t0 = time.perf_counter()
            p = MLPPruner(dense, density=0.1, criterion="erk", finetune_epochs=ft,
                          refit_estimator=False, random_state=0).fit(X_tr, y_tr)
            rows.append((label, f"MLPPruner(erk, 10%), {ft} fine-tuning epochs",
                         f"accuracy {p.score(X_te, y_te):.3f}, density {p.density_:.2f}",
                         time.perf_counter() - t0))
        t0 = time.perf_counter()
        s = SparseMLPClassifier(hidden_layer_sizes=(128,), density=0.05, batch_size=64,
                                max_iter=epochs, random_state=0).fit(X_tr, y_tr)
        rows.append((label, "SparseMLPClassifier(gradual magnitude, 5%)",
                     f"accuracy {s.score(X_te, y_te):.3f}, density {s.density_:.2f}",
                     time.perf_counter() - t0))


def _plot(figs, out):
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed: skipping plots (pip install 'sparsopt[demo]').")
        return []
    written = []
    if "denoising" in figs:
        clean, res = figs["denoising"]
        names = list(res)
        fig, axes = plt.subplots(2, (len(names) + 2) // 2, figsize=(14, 6))
        axes = axes.ravel()
        axes[0].imshow(clean, cmap="gray", vmin=0, vmax=1)
        axes[0].set_title("clean")
        for ax, n in zip(axes[1:], names):
            ax.imshow(np.clip(res[n][0], 0, 1), cmap="gray", vmin=0, vmax=1)
            ax.set_title(f"{n}\n{res[n][1]:.2f} dB", fontsize=9)
        for ax in axes:
            ax.axis("off")
        fig.tight_layout()
        written.append(os.path.join(out, "denoising.png"))
        fig.savefig(written[-1], dpi=80)
        plt.close(fig)
    if "recovery" in figs:
        x_true, sols = figs["recovery"]
        fig, axes = plt.subplots(len(sols), 1, figsize=(9, 1.6 * len(sols)), sharex=True)
        for ax, (n, x) in zip(axes, sols.items()):
            ax.stem(np.flatnonzero(x_true), x_true[x_true != 0], linefmt="C7-", markerfmt="C7o",
                    basefmt=" ")
            ax.plot(x, "C3.", ms=4)
            ax.set_ylabel(n, rotation=0, ha="right")
        axes[0].set_title("sparse recovery: truth (grey stems) vs estimate (red)")
        fig.tight_layout()
        written.append(os.path.join(out, "recovery.png"))
        fig.savefig(written[-1], dpi=80)
        plt.close(fig)
    if "sparse_coding" in figs:
        fig, ax = plt.subplots(figsize=(6, 4))
        for n, pts in figs["sparse_coding"].items():
            nn, ee = np.array(pts).T
            ax.plot(nn, ee, "o-" if len(pts) > 1 else "k*", label=n, ms=6)
        ax.set(xlabel="mean non-zeros per patch", ylabel="relative error", yscale="log",
               title="china.jpg 8x8 patches, overcomplete DCT")
        ax.legend()
        fig.tight_layout()
        written.append(os.path.join(out, "sparse_coding.png"))
        fig.savefig(written[-1], dpi=80)
        plt.close(fig)
    if "dictionary" in figs:
        D = figs["dictionary"]
        fig, axes = plt.subplots(12, 12, figsize=(6, 6))
        for ax, atom in zip(axes.ravel(), D):
            ax.imshow(atom.reshape(8, 8), cmap="gray")
            ax.axis("off")
        fig.suptitle("atoms learned on china.jpg 8x8 patches (l1, online)")
        written.append(os.path.join(out, "dictionary.png"))
        fig.savefig(written[-1], dpi=80)
        plt.close(fig)
    if "transport" in figs:
        fig, ax = plt.subplots(figsize=(6, 4))
        for n, pts in figs["transport"].items():
            tt, ee = np.array(pts).T
            ax.plot(tt, ee, "o-", label=n, ms=3)
        ax.set(xlabel="time (s)", ylabel="L1 marginal error", yscale="log",
               title="entropic OT, C ~ U[0,1], reg = 1/1200")
        ax.legend()
        fig.tight_layout()
        written.append(os.path.join(out, "transport.png"))
        fig.savefig(written[-1], dpi=80)
        plt.close(fig)
    if "logistic" in figs:
        coefs = figs["logistic"]
        fig, axes = plt.subplots(1, len(coefs), figsize=(3 * len(coefs), 3))
        for ax, (n, w) in zip(np.atleast_1d(axes), coefs.items()):
            m = np.abs(w).max() or 1.0
            ax.imshow(w, cmap="RdBu_r", vmin=-m, vmax=m)
            ax.set_title(f"{n}: pixel weights (3 vs 8)", fontsize=9)
            ax.axis("off")
        fig.tight_layout()
        written.append(os.path.join(out, "logistic_digits.png"))
        fig.savefig(written[-1], dpi=80)
        plt.close(fig)
    return written


TASKS = [
    ("image denoising with every penalty's prox", task_denoising),
    ("sparse recovery with proximal_gradient", task_recovery),
    ("sparse regression: Lasso, MCP and SCAD on one engine", task_regression),
    ("sparse logistic regression on digits", task_logistic),
    ("sparse coding of image patches with SparseCoder", task_sparse_coding),
    ("online dictionary learning on image patches", task_dictionary),
    ("entropic optimal transport: Sinkhorn-Newton-Sparse vs Sinkhorn", task_transport),
    ("sparse Walsh-Hadamard transform of a black box with SPRIGHT", task_sparse_wht),
    ("Walsh-Hadamard transforms of image rows", task_transforms),
    ("low-rank matrix completion: AltMin vs soft-impute", task_completion),
    ("deep-unfolded ISTA: learned steps vs ISTA", task_unfolding),
    ("probabilistic sparse coding of bars by truncated EM", task_probabilistic_sparse_coding),
    ("neural-network pruning: a scikit-learn MLP at 10 % density", task_pruning),
]


def run_demo(out="sparsopt_demo_output", quick=False, quiet=False):
    """Run the tour; return the result rows ``(task, method, quality, seconds)``.

    Parameters
    ----------
    out : str, default="sparsopt_demo_output"
        Folder for the plots (created if needed).
    quick : bool, default=False
        Smaller grids and images (for tests).
    quiet : bool, default=False
        No progress or table output.

    Returns
    -------
    rows : list of tuple
    """
    from ._warmup import warmup

    os.makedirs(out, exist_ok=True)
    prog = _Progress(len(TASKS) + 2, quiet)
    prog.step("compiling Numba kernels (cached after the first run)")
    warmup(dtypes=("float64",))
    rows, figs = [], {}
    for label, fn in TASKS:
        prog.step(label)
        fn(rows, figs, quick)
    prog.step("plotting")
    written = _plot(figs, out)
    if not quiet:
        w = [max(len(str(r[i])) for r in rows + [("task", "method", "quality")]) for i in range(3)]
        head = f"{'task':<{w[0]}}  {'method':<{w[1]}}  {'quality':<{w[2]}}  time/fit"
        print("\n" + head + "\n" + "-" * len(head))
        for r in rows:
            print(f"{r[0]:<{w[0]}}  {r[1]:<{w[1]}}  {r[2]:<{w[2]}}  {r[3] * 1e3:8.1f} ms")
        print("\nQuality: 'best over an alpha grid' for denoising and recovery (oracle tuning, to "
              "show what each penalty can reach); logistic alpha picked on a validation split.")
        if written:
            print(f"Plots written to {os.path.abspath(out)}: "
                  + ", ".join(os.path.basename(p) for p in written))
    return rows
