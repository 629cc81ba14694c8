"""Low-rank projected gradient descent on the lifted convex problem."""

from __future__ import annotations

import numpy as np

from .problem import _logistic


def _lifted_logits(data, mode, A, gam):
    return (data.Xd @ A if mode == "filter" else A) + data.Z1 @ gam.T


def _lifted_objective(data, mode, A, B, gam):
    loss, P = _logistic(_lifted_logits(data, mode, A, gam), data.yidx)
    rec = data.xi * float(np.sum((data.Xd - B) ** 2)) if data.xi else 0.0
    reg = 0.5 * data.nu * float(np.sum(A ** 2) + np.sum((gam * data.gmask) ** 2))
    return loss + rec + reg, P


def _stack(mode, A, B, s):
    # filter: [A, B] = W [beta^T, H] (paper layout) is [s A^T; B] = [s beta; C] D here
    # feature: [A; B] = [beta; W] H is [s A, B] = C [s beta^T, D] here (A = C beta^T)
    return np.vstack([s * A.T, B]) if mode == "filter" else np.hstack([s * A, B])


def _unstack(mode, T, k, s):
    if mode == "filter":
        return T[:k].T / s, T[k:]
    return T[:, :k] / s, T[:, k:]


def _truncate(T, r):
    """Best rank-``r`` approximation (Eckart-Young) and its factors."""
    U, sv, Vt = np.linalg.svd(T, full_matrices=False)
    U, sv, Vt = U[:, :r], sv[:r], Vt[:r]
    if sv.size < r:  # r exceeds a side of T: pad with zero factors (no constraint)
        m = r - sv.size
        U = np.hstack([U, np.zeros((U.shape[0], m))])
        sv = np.concatenate([sv, np.zeros(m)])
        Vt = np.vstack([Vt, np.zeros((m, Vt.shape[1]))])
    return (U * sv) @ Vt, U, sv, Vt


def _lifted_from_factors(mode, D, C, beta):
    A = D.T @ beta.T if mode == "filter" else C @ beta.T
    return A, C @ D


def _factors_from_lifted(data, mode, A, B, r, s):
    """Factor the rank-r lifted point back into (D, C, beta) with unit-norm atoms."""
    k = data.k
    T = _stack(mode, A, B, s)
    _, U, sv, Vt = _truncate(T, r)
    if mode == "filter":
        # [s beta; C] D = (U S) Vt: atoms are the (orthonormal) rows of Vt
        D = Vt
        US = U * sv
        beta, C = US[:k] / s, US[k:]
        flip = np.sign(D[np.arange(D.shape[0]), np.argmax(np.abs(D), axis=1)])
        flip = np.where(flip == 0, 1.0, flip)
        return D * flip[:, None], C * flip, beta * flip
    # C [s beta^T, D] = (U S) Vt: split Vt's columns, then give every atom unit norm
    C0 = U * sv
    Vb, Vd = Vt[:, :k], Vt[:, k:]
    d = np.linalg.norm(Vd, axis=1)
    d = np.where(d > 1e-12, d, 1.0)
    D = Vd / d[:, None]
    C = C0 * d
    beta = (Vb / (s * d[:, None])).T
    flip = np.sign(D[np.arange(D.shape[0]), np.argmax(np.abs(D), axis=1)])
    flip = np.where(flip == 0, 1.0, flip)
    return D * flip[:, None], C * flip, beta * flip


def _lpgd_steps(data, mode, block_scale, eta):
    """Step sizes (tau_A, tau_B, tau_gamma) and the block scale ``s``.

    In the scaled variable ``s A`` the lifted objective has block Lipschitz constants
    ``L_A / s^2`` and ``L_B = 2 xi``; one step ``tau_B = eta / max(L_B, L_A / s^2)``
    for both blocks (``tau_A = tau_B / s^2`` for ``A``) makes the rank-r SVD
    projection the exact minimizer of a quadratic majorizer, so with ``eta <= 1``
    the objective cannot increase. ``block_scale="auto"`` takes ``s^2 = L_A / L_B``:
    each block then moves with its own ``1/L`` step.
    """
    c, nu = data.c, data.nu
    Z1n = float(np.linalg.norm(data.Z1, 2) ** 2)
    if mode == "filter":
        # (A, gamma) jointly: the logits are [X, 1, Z] [A; gamma^T]
        L_A = c * float(np.linalg.norm(np.hstack([data.Xd, data.Z1]), 2) ** 2) + nu
        L_G = L_A
    else:
        # logits A + Z1 gamma^T: ||u + v||^2 <= 2||u||^2 + 2||v||^2 splits the blocks
        L_A = 2.0 * c + nu
        L_G = 2.0 * c * Z1n + nu
    L_B = 2.0 * data.xi
    if isinstance(block_scale, str):
        s = np.sqrt(L_A / L_B) if L_B > 0 else 1.0
    else:
        s = float(block_scale)
    tau_B = eta / max(L_B, L_A / s ** 2)
    return tau_B / s ** 2, tau_B, eta / L_G, s


def _lpgd(data, mode, r, state, *, eta, step_decay, block_scale, mon):
    D, C, beta, gam = state
    k = data.k
    A, B = _lifted_from_factors(mode, D, C, beta)
    tau_A, tau_B, tau_G, s = _lpgd_steps(data, mode, block_scale, eta)
    F, P = _lifted_objective(data, mode, A, B, gam)
    mon.history.append({"iteration": 0, "objective": F, "stop_crit": np.inf,
                        "stationarity": None, "time": mon.elapsed})
    stat = np.inf
    T_old = _stack(mode, A, B, s)
    for it in range(1, mon.max_iter + 1):
        dec = (it + 9.0) ** (-step_decay) if step_decay else 1.0
        R = P - data.Y
        gA = (data.Xd.T @ R if mode == "filter" else R) + data.nu * A
        gB = 2.0 * data.xi * (B - data.Xd)
        gG = R.T @ data.Z1 + data.nu * gam * data.gmask
        A_h = A - dec * tau_A * gA
        B_h = B - dec * tau_B * gB
        gam_n = gam - dec * tau_G * gG
        T_half = _stack(mode, A_h, B_h, s)
        if not (np.all(np.isfinite(T_half)) and np.all(np.isfinite(gam_n))):
            mon.check(it, T_half, np.nan)  # the last finite iterate is kept below
            break
        T_new = _truncate(T_half, r)[0]
        A_n, B_n = _unstack(mode, T_new, k, s)
        F_n, P_n = _lifted_objective(data, mode, A_n, B_n, gam_n)
        if not np.isfinite(F_n):
            mon.check(it, T_new, np.nan)
            break
        # norm of the projected-gradient mapping (in the scaled variables)
        stat = float(np.sqrt(np.sum((T_new - T_old) ** 2) / (dec * tau_B) ** 2
                             + np.sum((gam_n - gam) ** 2) / (dec * tau_G) ** 2))
        crit = abs(F - F_n) / max(abs(F_n), np.finfo(float).tiny)
        A, B, gam, F, P, T_old = A_n, B_n, gam_n, F_n, P_n, T_new
        if mon.check(it, T_new, crit, F, stationarity=stat, step_scale=eta * dec):
            break
    D, C, beta = _factors_from_lifted(data, mode, A, B, r, s)
    info = {"block_scale": s, "step_sizes": (tau_A, tau_B, tau_G), "stationarity": stat}
    return (D, C, beta, gam), info
