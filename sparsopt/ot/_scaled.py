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

from ..backends import array_namespace, device, dispatch
from ..utils.parallel import map_row_blocks

DRIFT = 30.0  # absorb once a scaling leaves [exp(-DRIFT), exp(DRIFT)]
_TINY = 1e-290


class _ScaledState:
    """The state and steps both kernels share: absorption, scalings, products, trials.

    Subclasses provide ``xp`` (the namespace of the arrays), ``_copy`` (a float64 copy
    of a potential), ``_ones``, ``_empty`` (a buffer like ``K``), ``_drift`` (the
    largest ``|log scaling|`` of two candidates, a host float), ``_exp`` and ``_arange``
    (integer indices next to ``K``). The sampling and the range tests of the sweeps are
    written once against ``xp`` (NumPy itself for :class:`ScaledKernel`); each test
    reads one host scalar.
    """

    # -- state ---------------------------------------------------------------------
    def absorb(self, u, v):
        """Re-form ``Kt`` at ``(u, v)`` (scalings reset to 1); returns its row/col sums."""
        self.u0, self.v0 = self._copy(u), self._copy(v)
        r, c = self._exp(self.u0, self.v0, self.Kt)
        self.alpha = self._ones(self.K.shape[0])
        self.beta = self._ones(self.K.shape[1])
        self.n_absorb += 1
        return r, c

    def potentials(self):
        """Scaled potentials ``(u, v)`` of the current state."""
        xp = self.xp
        with np.errstate(divide="ignore"):
            return self.u0 + xp.log(self.alpha), self.v0 + xp.log(self.beta)

    def set_point(self, u, v):
        """Move to ``(u, v)``, absorbing when they drift too far from ``(u0, v0)``."""
        la, lb = u - self.u0, v - self.v0
        if self._drift(la, lb) > DRIFT:
            self.absorb(u, v)
        else:
            self.alpha, self.beta = self.xp.exp(la), self.xp.exp(lb)

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
        xp = self.xp
        la, lb = u - self.u0, v - self.v0
        if self._drift(la, lb) <= DRIFT:
            with np.errstate(over="ignore", invalid="ignore"):
                r, c = self.marginals(xp.exp(la), xp.exp(lb))
            return r, c, None
        if self.spare is None:
            self.spare = self._empty()
        with np.errstate(over="ignore", invalid="ignore"):
            r, c = self._exp(u, v, self.spare)
        return r, c, (self._copy(u), self._copy(v))

    def adopt(self, absorbed):
        """Take over the kernel a far :meth:`trial` absorbed."""
        self.u0, self.v0 = absorbed
        self.Kt, self.spare = self.spare, self.Kt
        self.alpha = self._ones(self.K.shape[0])
        self.beta = self._ones(self.K.shape[1])
        self.n_absorb += 1

    def sample(self, size, rng_state=0):
        """About ``size`` plan entries on a fixed stride through ``Kt`` (for thresholds)."""
        xp = self.xp
        n, m = self.Kt.shape
        total = n * m
        if total <= size:
            return xp.reshape(self.Kt * self.alpha[:, None] * self.beta[None, :], (-1,))
        step = total // size
        if step % m == 0 or m % step == 0:
            step += 1  # a stride that walks across columns, not down one
        idx = self._arange(rng_state % step, total, step)
        return (xp.take(xp.reshape(self.Kt, (-1,)), idx) * xp.take(self.alpha, idx // m)
                * xp.take(self.beta, idx % m))

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
            err = self._l1(self.alpha * s - a)
            if err <= tol:
                return done, err, True
            if not self._usable(s):  # min > tiny, all finite
                if not self._reabsorb():
                    return done, err, False
                continue
            alpha = a / s
            t = self.Kt.T @ alpha
            if not self._usable(t):
                if not self._reabsorb(alpha=alpha):
                    return done, err, False
                continue
            self.alpha = alpha
            self.beta = b / t
            done += 1
            if self._drifted():  # a scaling left [exp(-DRIFT), exp(DRIFT)]
                u, v = self.potentials()
                self.absorb(u, v)
        s = self.Kt @ self.beta
        return done, self._l1(self.alpha * s - a), True

    def _usable(self, s):
        """A product is positive (above ``_TINY``) and finite everywhere."""
        xp = self.xp
        return bool(xp.all((s > _TINY) & xp.isfinite(s)))

    def _l1(self, x):
        return float(self.xp.sum(self.xp.abs(x)))

    def _drifted(self):
        """The current scalings left ``[exp(-DRIFT), exp(DRIFT)]``."""
        return self._drift(self.xp.log(self.alpha), self.xp.log(self.beta)) > DRIFT

    def _reabsorb(self, alpha=None):
        """Absorb the current scalings after a bad product; False when nothing changed."""
        xp = self.xp
        if alpha is not None:
            self.alpha = alpha
        ones = bool(xp.all(self.alpha == 1.0) & xp.all(self.beta == 1.0))
        if ones or not bool(xp.all(xp.isfinite(self.alpha) & (self.alpha > 0))
                            & xp.all(xp.isfinite(self.beta) & (self.beta > 0))):
            return False
        u, v = self.potentials()
        self.absorb(u, v)
        return True


class ScaledKernel(_ScaledState):
    """Absorbed kernel ``Kt`` of one problem and the current scalings (see module doc)."""

    xp = np

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

    def _copy(self, u):
        return np.array(u, dtype=np.float64)

    def _ones(self, n):
        return np.ones(n)

    def _empty(self):
        return np.empty(self.K.shape)

    def _drift(self, la, lb):
        return max(np.abs(la).max(initial=0.0), np.abs(lb).max(initial=0.0))

    def _exp(self, u, v, out):
        """``out = exp(K + u 1^T + 1 v^T)`` and its row and column sums."""
        K, engine = self.K, self.engine
        parts = map_row_blocks(
            lambda s, e: dispatch("ot_plan", K[s:e], u[s:e], v, out[s:e], engine=engine),
            K.shape[0], self.n_jobs)
        return np.concatenate([p[0] for p in parts]), sum(p[1] for p in parts)

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

    def _arange(self, start, stop, step):
        return np.arange(start, stop, step)


class ScaledKernelXP(_ScaledState):
    """:class:`ScaledKernel` for arrays of a non-NumPy namespace (CuPy, ...).

    The same state and steps, written against the array API: the products are device
    matrix-vector products, the exponential passes one ``ot_plan`` call (no row-block
    threads), and the sparsified plan of a Newton step is a dense masked matrix
    (:meth:`masked`) instead of CSR arrays. The host reads scalars only (the drift and
    range tests, the sweeps' error), one synchronization per decision. ``np.errstate``
    quiets the floating-point warnings of NumPy-backed namespaces (``array_api_strict``);
    it has no effect on the others.
    """

    def __init__(self, K, u, v, engine, n_jobs=None):
        xp = array_namespace(K)
        self.xp = xp
        self.K = K
        self.engine = engine
        self.Kt = xp.empty(K.shape, dtype=K.dtype, device=device(K))
        self.spare = None
        self.n_absorb = 0
        self.absorb(u, v)

    def _copy(self, u):
        return self.xp.asarray(u, copy=True)

    def _ones(self, n):
        return self.xp.ones(n, dtype=self.K.dtype, device=device(self.K))

    def _drift(self, la, lb):
        xp = self.xp
        return float(xp.maximum(xp.max(xp.abs(la)), xp.max(xp.abs(lb))))

    def _empty(self):
        return self.xp.empty(self.K.shape, dtype=self.K.dtype, device=device(self.K))

    def _exp(self, u, v, out):
        return dispatch("ot_plan", self.K, u, v, out, engine=self.engine)

    def plan(self):
        P = self.Kt
        r, c = dispatch("ot_scale_plan", P, self.alpha, self.beta, engine=self.engine)
        self.Kt = self.spare = None
        return P, r, c

    def masked(self, thresh=None, mask=None):
        """``(S, mask)``: the current plan where ``P_ij >= thresh`` (or on ``mask``),
        zero elsewhere, as a dense matrix of the namespace."""
        xp = self.xp
        P = self.alpha[:, None] * self.Kt * self.beta[None, :]
        if mask is None:
            mask = P >= thresh
        return xp.where(mask, P, xp.zeros_like(P)), mask

    def _arange(self, start, stop, step):
        return self.xp.arange(start, stop, step, dtype=self.xp.int64, device=device(self.K))
