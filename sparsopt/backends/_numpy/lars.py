"""NumPy reference of the batched Lasso homotopy (LARS with the lasso modification).

For one signal with correlations ``b = D x`` and Gram ``G = D D^T``, the Lasso codes
``c(lam) = argmin 1/2 ||x - c D||^2 + lam ||c||_1`` are piecewise linear in ``lam``
(Osborne, Presnell and Turlach 2000; Efron et al. 2004). Starting at
``lam = max_j |b_j|`` with ``c = 0``, the path keeps the active atoms ``A`` at
``|q_j| = lam`` (``q = b - c G``, signs ``s_A``) and moves along ``w = G_AA^{-1} s_A``:
for a step ``gamma``, ``c_A += gamma w``, ``q -= gamma a`` with ``a = G_{:,A} w`` and
``lam -= gamma``. The step ends at the first event:

* end: ``lam`` reaches ``alpha`` (``gamma = lam - alpha``);
* drop: an active code reaches zero (``gamma = -c_r / w_r > 0``); the atom leaves
  and, at the very next step, cannot re-enter on the side it left by (it sits exactly
  on that boundary) but can on the other side;
* join: an inactive atom's correlation reaches ``+-lam``:
  ``gamma = (lam - q_j) / (1 - a_j)`` (``1 - a_j > 1e-12``) or, unless ``positive``,
  ``gamma = (lam + q_j) / (1 + a_j)``, clipped at 0; its sign is the side it joins on.

Ties go to the end event, then to drops, then to joins, lowest index first. At
``alpha`` the codes are exact up to rounding: no tolerance, no epochs. ``positive``
follows the path of the non-negative Lasso (joins only at ``+lam``).

Statuses per row (``status``): 0 exact and certified; ``STATUS_MAX_STEPS`` the path did
not reach ``alpha`` within ``max_steps`` steps; ``STATUS_DEPENDENT`` the joining atom is
(numerically) a combination of the active ones (relative Schur complement below
``DEP_RTOL``: duplicated atoms, or more active atoms than the rank of ``G``);
``STATUS_KKT`` the certificate failed: with ``q`` recomputed from the stored codes and
``slack = KKT_RTOL (alpha + max|b|)``, an active code is zero or has the wrong sign, or
``|q_j - alpha s_j| > slack`` on the support, or ``|q_j| > alpha + slack`` off it
(``q_j`` with ``positive``). A row that did not reach status 0 holds the point where the
path stopped; the solver finishes it with coordinate descent from there.
"""

import numpy as np

from .._registry import register_kernel

STATUS_EXACT, STATUS_MAX_STEPS, STATUS_DEPENDENT, STATUS_KKT = 0, 1, 2, 3
STATUS_NAMES = {STATUS_EXACT: "exact", STATUS_MAX_STEPS: "max_steps",
                STATUS_DEPENDENT: "dependent", STATUS_KKT: "kkt"}
DEP_RTOL = 1e-10
KKT_RTOL = 1e-7


@register_kernel("lars_gram", "numpy")
def lars_gram(G, B, C, alpha, positive, max_steps, n_steps, status, quad):
    """Lasso homotopy for every row of ``B``; writes the codes into ``C`` (returned).

    ``G`` (k, k), ``B`` (n, k) and ``C`` (n, k) share a dtype; the path is computed in
    float64. ``n_steps`` and ``status`` (int64, length n) receive the steps taken and
    the status of each row (see the module docstring). ``quad`` (float64, length n)
    receives ``1/2 c G c - c . b = -1/2 c . (b + q)`` of every certified row (the smooth
    part of the objective minus ``1/2 ||x||^2``), NaN for the other rows.
    """
    n, k = B.shape
    G64 = np.asarray(G, dtype=np.float64)
    diag = np.diag(G64)
    dead = ~(diag > 0.0)
    for i in range(n):
        C[i] = 0.0
        b = B[i].astype(np.float64)
        q = b.copy()
        score = np.where(dead, -np.inf, q if positive else np.abs(q))
        jb = int(np.argmax(score)) if k else 0
        lam = float(score[jb]) if k else 0.0
        n_steps[i] = 0
        status[i] = STATUS_EXACT
        quad[i] = 0.0
        if not lam > alpha:
            continue
        active = [jb]
        signs = [1.0 if q[jb] > 0.0 else -1.0]
        cA = np.zeros(1)
        steps = 0
        last_drop, drop_side = -1, 0.0  # the atom that just left, and the side it left by
        while True:
            if steps >= max_steps:
                status[i] = STATUS_MAX_STEPS
                break
            steps += 1
            A = np.asarray(active)
            w = np.linalg.solve(G64[np.ix_(A, A)], np.asarray(signs))
            a = w @ G64[A]
            gamma_end = lam - alpha
            with np.errstate(divide="ignore", invalid="ignore"):
                g_drop = np.where(w != 0.0, -cA / w, np.inf)
            g_drop[~(g_drop > 0.0)] = np.inf
            r = int(np.argmin(g_drop))
            gamma, ev, evj = gamma_end, 0, -1
            if g_drop[r] < gamma:
                gamma, ev, evj = float(g_drop[r]), 2, r
            cand = ~dead
            cand[A] = False
            g_plus = np.full(k, np.inf)  # correlation reaches +lam
            g_minus = np.full(k, np.inf)  # correlation reaches -lam
            with np.errstate(divide="ignore", invalid="ignore"):
                den = 1.0 - a
                ok = cand & (den > 1e-12)
                g_plus[ok] = np.maximum((lam - q[ok]) / den[ok], 0.0)
                if not positive:
                    den = 1.0 + a
                    ok = cand & (den > 1e-12)
                    g_minus[ok] = np.maximum((lam + q[ok]) / den[ok], 0.0)
            if last_drop >= 0:  # it sits on the boundary it left by: not back through it
                (g_plus if drop_side > 0.0 else g_minus)[last_drop] = np.inf
            g_join = np.minimum(g_plus, g_minus)
            j = int(np.argmin(g_join))
            if g_join[j] < gamma:
                gamma, ev, evj = float(g_join[j]), 1, j
                side = -1.0 if g_minus[j] < g_plus[j] else 1.0
            cA = cA + gamma * w
            q -= gamma * a
            lam -= gamma
            last_drop = -1
            if ev == 0:
                break
            if ev == 2:
                last_drop = active.pop(evj)
                drop_side = signs.pop(evj)
                cA = np.delete(cA, evj)
                continue
            gv = G64[evj, A]
            schur = diag[evj] - gv @ np.linalg.solve(G64[np.ix_(A, A)], gv)
            if not schur > DEP_RTOL * diag[evj]:
                status[i] = STATUS_DEPENDENT
                break
            active.append(evj)
            signs.append(side)  # the side it joins on (always +1 with positive)
            cA = np.append(cA, 0.0)
        n_steps[i] = steps
        if active:
            C[i, np.asarray(active)] = cA
        if status[i] != STATUS_EXACT:
            quad[i] = np.nan
            continue
        c = C[i].astype(np.float64)
        cAs = c[np.asarray(active)]
        q = b - c @ G64
        sA = np.asarray(signs)
        bad_sign = np.any((cAs == 0.0) | ((cAs > 0.0) != (sA > 0.0)))
        slack = KKT_RTOL * (alpha + float(np.abs(b).max()))
        bad_active = np.any(np.abs(q[np.asarray(active)] - alpha * sA) > slack)
        off = (c == 0.0) & ~dead
        viol = q[off] if positive else np.abs(q[off])
        if bad_sign or bad_active or np.any(viol > alpha + slack):
            status[i] = STATUS_KKT
        quad[i] = -0.5 * float(c @ (b + q)) if status[i] == STATUS_EXACT else np.nan
    return C
