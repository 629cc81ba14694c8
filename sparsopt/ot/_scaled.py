"""A stabilized scaling-domain kernel: Sinkhorn sweeps and plan marginals as BLAS products.

With scaled potentials ``u = u0 + log(alpha)`` and ``v = v0 + log(beta)`` the plan is
``P = diag(alpha) Kt diag(beta)`` with the *absorbed* kernel
``Kt = exp(K + u0 1^T + 1 v0^T)`` (``K = -M / reg``). A Sinkhorn sweep is then two
matrix-vector products (``alpha = a / (Kt beta)``, ``beta = b / (Kt^T alpha)``) instead
of two passes of exponentials, and the marginals of a trial point of a line search are
two more. Whenever ``|log alpha|`` or ``|log beta|`` exceeds :data:`DRIFT`, the scalings
are absorbed into a new ``Kt`` (one pass of exponentials, the ``ot_plan`` kernel), so
nothing overflows and the entries that underflow in ``Kt`` stay below
``exp(-708 + 2 DRIFT)`` times the plan's scale: far below any tolerance
(Schmitzer, 2019, "Stabilized sparse scaling algorithms for entropy regularized
transport problems").
"""

from __future__ import annotations

import numpy as np

from ..backends import dispatch
from ..utils.parallel import map_row_blocks

DRIFT = 30.0  # absorb once a scaling leaves [exp(-DRIFT), exp(DRIFT)]
_TINY = 1e-290


class ScaledKernel:
    """Absorbed kernel ``Kt`` of one problem and the current scalings (see module doc)."""

    def __init__(self, K, u, v, engine, n_jobs=None):
        self.K = K
        self.engine = engine
        # exponentials and the final scaling in threads over row blocks (nogil kernels);
        # the products are BLAS and follow its own thread setting
        self.n_jobs = n_jobs if K.shape[0] >= 256 else None
        self.Kt = np.empty(K.shape)
        self.spare = None  # second buffer, for line-search trials that need an absorption
        self.n_absorb = 0
        self.absorb(u, v)

    # -- state ---------------------------------------------------------------------
    def absorb(self, u, v):
        """Re-form ``Kt`` at ``(u, v)`` (scalings reset to 1); returns its row/col sums."""
        self.u0, self.v0 = np.array(u, dtype=np.float64), np.array(v, dtype=np.float64)
        r, c = self._exp(self.u0, self.v0, self.Kt)
        self.alpha = np.ones(self.K.shape[0])
        self.beta = np.ones(self.K.shape[1])
        self.n_absorb += 1
        return r, c

    def potentials(self):
        """Scaled potentials ``(u, v)`` of the current state."""
        with np.errstate(divide="ignore"):
            return self.u0 + np.log(self.alpha), self.v0 + np.log(self.beta)

    def set_point(self, u, v):
        """Move to ``(u, v)``, absorbing when they drift too far from ``(u0, v0)``."""
        la, lb = u - self.u0, v - self.v0
        if max(np.abs(la).max(initial=0.0), np.abs(lb).max(initial=0.0)) > DRIFT:
            self.absorb(u, v)
        else:
            self.alpha, self.beta = np.exp(la), np.exp(lb)

    # -- products ------------------------------------------------------------------
    def marginals(self, alpha=None, beta=None):
        """Row and column sums of ``diag(alpha) Kt diag(beta)`` (current scalings by default)."""
        alpha = self.alpha if alpha is None else alpha
        beta = self.beta if beta is None else beta
        return alpha * (self.Kt @ beta), beta * (self.Kt.T @ alpha)

    def trial(self, u, v):
        """Marginals at the trial point ``(u, v)`` without changing the state.

        Returns ``(r, c, kernel)`` where ``kernel`` is ``None`` when the current ``Kt``
        served, or a new :class:`ScaledKernel`-like state absorbed at ``(u, v)`` (far
        trial points) that :meth:`adopt` can take over when the trial is accepted.
        """
        la, lb = u - self.u0, v - self.v0
        if max(np.abs(la).max(initial=0.0), np.abs(lb).max(initial=0.0)) <= DRIFT:
            with np.errstate(over="ignore", invalid="ignore"):
                r, c = self.marginals(np.exp(la), np.exp(lb))
            return r, c, None
        if self.spare is None:
            self.spare = np.empty(self.K.shape)
        with np.errstate(over="ignore", invalid="ignore"):
            r, c = self._exp(u, v, self.spare)
        return r, c, (np.array(u, dtype=np.float64), np.array(v, dtype=np.float64))

    def _exp(self, u, v, out):
        """``out = exp(K + u 1^T + 1 v^T)`` and its row and column sums."""
        K, engine = self.K, self.engine
        parts = map_row_blocks(
            lambda s, e: dispatch("ot_plan", K[s:e], u[s:e], v, out[s:e], engine=engine),
            K.shape[0], self.n_jobs)
        return np.concatenate([p[0] for p in parts]), sum(p[1] for p in parts)

    def adopt(self, absorbed):
        """Take over the kernel a far :meth:`trial` absorbed."""
        self.u0, self.v0 = absorbed
        self.Kt, self.spare = self.spare, self.Kt
        self.alpha = np.ones(self.K.shape[0])
        self.beta = np.ones(self.K.shape[1])
        self.n_absorb += 1

    def plan(self):
        """``(P, row sums, column sums)`` of the current state, formed in place of ``Kt``.

        The kernel is spent: no other method may be called afterwards.
        """
        P, alpha, beta, engine = self.Kt, self.alpha, self.beta, self.engine
        parts = map_row_blocks(
            lambda s, e: dispatch("ot_scale_plan", P[s:e], alpha[s:e], beta, engine=engine),
            P.shape[0], self.n_jobs)
        self.Kt = self.spare = None
        return P, np.concatenate([p[0] for p in parts]), sum(p[1] for p in parts)

    def sparsify(self, thresh):
        """Entries ``P_ij >= thresh`` of the current plan, as CSR arrays."""
        return dispatch("ot_sparsify_scaled", self.Kt, self.alpha, self.beta, thresh,
                        engine=self.engine)

    def sample(self, size, rng_state=0):
        """About ``size`` plan entries on a fixed stride through ``Kt`` (for thresholds)."""
        n, m = self.Kt.shape
        total = n * m
        if total <= size:
            return (self.Kt * self.alpha[:, None] * self.beta[None, :]).ravel()
        step = total // size
        if step % m == 0 or m % step == 0:
            step += 1  # a stride that walks across columns, not down one
        idx = np.arange(rng_state % step, total, step)
        i, j = np.divmod(idx, m)
        return self.Kt.ravel()[idx] * self.alpha[i] * self.beta[j]

    # -- Sinkhorn ------------------------------------------------------------------
    def sweeps(self, a, b, n_sweeps, tol):
        """Up to ``n_sweeps`` Sinkhorn sweeps; returns ``(done, row error, ok)``.

        Stops early when the row error of an iterate (measured before its row update,
        at no extra cost) is at most ``tol``. ``ok`` is False when a product left the
        range where the scalings are meaningful even right after an absorption (rows of
        ``Kt`` that underflow entirely): the caller then sweeps in the log domain.
        """
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            return self._sweeps(a, b, n_sweeps, tol)

    def _sweeps(self, a, b, n_sweeps, tol):
        done = 0
        while done < n_sweeps:
            s = self.Kt @ self.beta
            err = float(np.abs(self.alpha * s - a).sum())
            if err <= tol:
                return done, err, True
            if not (s.min() > _TINY and np.isfinite(s).all()):
                if not self._reabsorb():
                    return done, err, False
                continue
            alpha = a / s
            t = self.Kt.T @ alpha
            if not (t.min() > _TINY and np.isfinite(t).all()):
                if not self._reabsorb(alpha=alpha):
                    return done, err, False
                continue
            self.alpha = alpha
            self.beta = b / t
            done += 1
            if (np.abs(np.log(self.alpha)).max() > DRIFT
                    or np.abs(np.log(self.beta)).max() > DRIFT):
                u, v = self.potentials()
                self.absorb(u, v)
        s = self.Kt @ self.beta
        err = float(np.abs(self.alpha * s - a).sum())
        return done, err, True

    def _reabsorb(self, alpha=None):
        """Absorb the current scalings after a bad product; False when nothing changed."""
        if alpha is not None:
            self.alpha = alpha
        if (np.all(self.alpha == 1.0) and np.all(self.beta == 1.0)) or not (
                np.isfinite(self.alpha).all() and np.isfinite(self.beta).all()
                and self.alpha.min() > 0 and self.beta.min() > 0):
            return False
        u, v = self.potentials()
        self.absorb(u, v)
        return True
