"""The LISTA family (LISTA untied/tied, LISTA-CP, LISTA-CPSS, TiLISTA, ALISTA) and LIHT.

Every model follows the :class:`~sparsopt.unfolding._base.UnfoldedModel` contract: its
trainable parameters are a ``dict`` of arrays in the data's dtype, ``forward`` runs the
``T`` layers over a batch (rows are samples) and ``backward`` returns the hand-derived
gradients given ``G_T = dL/dx_T`` (no autograd).

Layers (``x_0 = 0``; ``S`` soft thresholding, ``SS`` support selection, ``H`` hard
thresholding; in the code each ``x`` is a row and products read right to left)::

    untied   x_{t+1} = S_{θ_t}(B_t y + W_t x_t)                 B_t, W_t, θ_t
    tied     x_{t+1} = S_{θ_t}(B y + W x_t)                     B, W, θ_t
    cp       x_{t+1} = S_{θ_t}(x_t + W_tᵀ(y − A x_t))           W_t (m×n), θ_t
    cpss     x_{t+1} = SS_{θ_t,p_t}(x_t + W_tᵀ(y − A x_t))      W_t, θ_t
    tilista  x_{t+1} = SS_{θ_t,p_t}(x_t + α_t Wᵀ(y − A x_t))    W (shared), α_t, θ_t
    alista   as tilista, W = alista_weight(A) fixed             α_t, θ_t
    LIHT     x_{t+1} = H_{θ_t}(B y + W_t x_t)                   B, W_t (θ_t gets no gradient)

Backward (``H_t = G_{t+1} ⊙ 1{|z_t| > θ_t}`` is ``dL/dz_t``; on the support-selection
bypass set the mask is 1 and the threshold gets no gradient, the bypass set itself being a
stop-gradient mask)::

    dL/dθ_t = −Σ H_t ⊙ sign(z_t)   (soft-thresholded entries only)
    untied/tied/LIHT:  dL/dB_t = Σ_b H_t yᵀ,   dL/dW_t = Σ_b H_t x_tᵀ,   G_t = W_tᵀ H_t
    cp/cpss:           dL/dW_t = Σ_b (y − A x_t) H_tᵀ,   G_t = H_t − Aᵀ (W_t H_t)
    tilista/alista:    dL/dα_t = Σ H_t ⊙ Wᵀ(y − A x_t),  dL/dW = Σ_t α_t Σ_b (y − A x_t) H_tᵀ,
                       G_t = H_t − α_t Aᵀ (W H_t)

Tied parameters get the sum over the layers of their per-layer gradients, computed as one
GEMM on the per-layer arrays stacked along the batch axis.

References
----------
.. [1] K. Gregor and Y. LeCun, "Learning fast approximations of sparse coding", ICML 2010.
.. [2] X. Chen, J. Liu, Z. Wang and W. Yin, "Theoretical linear convergence of unfolded ISTA
   and its practical weights and thresholds", NeurIPS 2018 (LISTA-CP, LISTA-CPSS).
.. [3] J. Liu, X. Chen, Z. Wang and W. Yin, "ALISTA: Analytic weights are as good as learned
   weights in LISTA", ICLR 2019 (TiLISTA, ALISTA, LIHT).
"""

from __future__ import annotations

import numpy as np

from ..backends import array_namespace, device
from ._base import UnfoldedModel
from ._shrink import hard_shrink, soft_shrink, support_select_shrink
from ._xp import data_namespace, masked, spectral_norm, to_namespace, xp_data, xp_dtype

VARIANTS = ("untied", "tied", "cp", "cpss", "tilista", "alista")
_SS_VARIANTS = ("cpss", "tilista", "alista")
_CP_VARIANTS = ("cp", "cpss")
_STEP_VARIANTS = ("tilista", "alista")


def _spectral_bound(A):
    """``L~ = 1.001 ||A||_2^2`` (the spec's initialisation constant), in float64."""
    xp = data_namespace(A)
    if xp is not None:
        return 1.001 * spectral_norm(xp, A) ** 2
    s = np.linalg.norm(np.asarray(A, dtype=np.float64), 2)
    return 1.001 * float(s) ** 2


def _init_data(A, dtype):
    """``(xp, A64, param)`` for an ``init_params``: the namespace (``array_api_compat``'s
    NumPy for host data), ``A`` in float64 there, and ``param(a)``, a new parameter
    array of ``dtype`` (a NumPy dtype, or one of the namespace) from ``a``."""
    xp = data_namespace(A)
    if xp is None:
        dtype = np.dtype(dtype)
        A64 = np.asarray(A, dtype=np.float64)
        return array_namespace(A64), A64, lambda a: np.array(a, dtype=dtype)
    dtype = xp_dtype(xp, dtype)
    return xp, xp.astype(A, xp.float64), lambda a: xp.astype(a, dtype)


def _cached_layers(cache, n_layers):
    """The layers a backward pass runs through: ``n_layers`` (default: all) of the cached
    forward pass, never more."""
    T = cache["T"] if n_layers is None else int(n_layers)
    if T > cache["T"]:
        raise ValueError(f"n_layers={T} exceeds the cached forward pass ({cache['T']}).")
    return T


def alista_weight(A, *, rcond=1e-10):
    """ALISTA's analytic weight: ``argmin ||Wᵀ A||_F²`` s.t. ``diag(Wᵀ A) = 1``.

    The problem splits over the columns ``w_i`` of ``W`` (shape ``(m, n)`` like ``A``):
    minimise ``w_iᵀ (A Aᵀ) w_i`` subject to ``w_iᵀ a_i = 1``. Its KKT conditions,
    ``2 (A Aᵀ) w_i = μ_i a_i`` and ``w_iᵀ a_i = 1``, give the closed form

    ``w_i = G⁺ a_i / (a_iᵀ G⁺ a_i)``, with ``G = A Aᵀ``,

    which is a minimiser because the objective is a convex quadratic and ``a_i`` lies in the
    range of ``G`` (so ``G⁺ a_i`` satisfies the stationarity condition). It is computed from
    one symmetric eigendecomposition of the ``m × m`` Gram matrix, in float64, and returned
    in ``A``'s floating dtype.

    Parameters
    ----------
    A : array-like of shape (n_measurements, n_atoms)
        The measurement operator.
    rcond : float, default=1e-10
        Eigenvalues of ``A Aᵀ`` below ``rcond`` times the largest are treated as zero
        (pseudo-inverse).

    Returns
    -------
    W : ndarray of shape (n_measurements, n_atoms)
        The analytic weight, with ``diag(Wᵀ A) = 1``.

    Raises
    ------
    ValueError
        If ``A`` is not a finite 2-D array or has a zero column (no ``w_i`` can satisfy
        ``w_iᵀ a_i = 1``).

    References
    ----------
    .. [1] J. Liu, X. Chen, Z. Wang and W. Yin, "ALISTA: Analytic weights are as good as
       learned weights in LISTA", ICLR 2019, eq. (8).

    Examples
    --------
    >>> import numpy as np
    >>> from sparsopt.unfolding._lista import alista_weight
    >>> A = np.random.default_rng(0).standard_normal((10, 20)) / np.sqrt(10)
    >>> W = alista_weight(A)
    >>> np.allclose(np.diag(W.T @ A), 1.0)
    True
    """
    xp = data_namespace(A)
    if xp is not None:
        return _alista_weight_xp(xp, A, rcond)
    A = np.asarray(A)
    if A.ndim != 2 or A.size == 0:
        raise ValueError(f"A must be a non-empty 2-D array, got shape {A.shape}.")
    dtype = A.dtype if A.dtype in (np.float32, np.float64) else np.dtype(np.float64)
    A64 = A.astype(np.float64)
    if not np.all(np.isfinite(A64)):
        raise ValueError("A must be finite.")
    evals, evecs = np.linalg.eigh(A64 @ A64.T)
    keep = evals > rcond * max(evals.max(), 0.0)
    if not np.any(keep):
        raise ValueError("A has no non-zero singular value.")
    V = evecs[:, keep]
    P = V @ ((V.T @ A64) / evals[keep][:, None])  # G⁺ A
    d = np.einsum("ij,ij->j", A64, P)  # a_iᵀ G⁺ a_i
    bad = np.flatnonzero(~(d > 1e-12 * d.max()))
    if bad.size:
        raise ValueError(
            f"A has a zero (or numerically zero) column{'' if bad.size == 1 else 's'} "
            f"{bad[:5].tolist()}: diag(W^T A) = 1 cannot hold there.")
    return (P / d).astype(dtype, copy=False)


def _alista_weight_xp(xp, A, rcond):
    """:func:`alista_weight` in ``A``'s namespace: the same closed form, the pseudo-inverse
    applied by zeroing the reciprocals of the dropped eigenvalues (no boolean indexing)."""
    if A.ndim != 2 or A.shape[0] * A.shape[1] == 0:
        raise ValueError(f"A must be a non-empty 2-D array, got shape {A.shape}.")
    dtype = A.dtype if A.dtype in (xp.float32, xp.float64) else xp.float64
    A64 = xp.astype(A, xp.float64)
    if not bool(xp.all(xp.isfinite(A64))):
        raise ValueError("A must be finite.")
    evals, evecs = xp.linalg.eigh(A64 @ A64.T)
    keep = evals > rcond * max(float(xp.max(evals)), 0.0)
    if not bool(xp.any(keep)):
        raise ValueError("A has no non-zero singular value.")
    ones = xp.ones_like(evals)
    inv = xp.where(keep, ones / xp.where(keep, evals, ones), xp.zeros_like(evals))
    P = evecs @ ((evecs.T @ A64) * xp.reshape(inv, (-1, 1)))  # G⁺ A
    d = xp.sum(A64 * P, axis=0)  # a_iᵀ G⁺ a_i
    bad = xp.logical_not(d > 1e-12 * xp.max(d))
    if bool(xp.any(bad)):
        nz = xp.nonzero(bad)[0]
        idx = [int(nz[i]) for i in range(min(5, nz.shape[0]))]
        raise ValueError(f"A has a zero (or numerically zero) column(s) {idx}: "
                         "diag(W^T A) = 1 cannot hold there.")
    return xp.astype(P / d, dtype)


def _ss_percents(n_layers, p, p_max):
    """``p_t = min((t + 1) p, p_max)`` for the 0-based layer ``t`` (in percent)."""
    return [min((t + 1) * p, p_max) for t in range(n_layers)]


def _n_layers(T_max, n_layers):
    if n_layers is None:
        return T_max
    if not 1 <= n_layers <= T_max:
        raise ValueError(f"n_layers must be in [1, {T_max}], got {n_layers!r}.")
    return int(n_layers)


def _as_data(A, Y, dtype):
    return np.asarray(A, dtype=dtype), np.asarray(Y, dtype=dtype)


class LISTAModel(UnfoldedModel):
    """The LISTA family of unfolded models (hand-derived forward/backward passes).

    Parameters
    ----------
    variant : {"untied", "tied", "cp", "cpss", "tilista", "alista"}, default="cp"
        The layer (see the module docstring).
    lam : float, default=0.4
        The ℓ1 weight ``λ`` of the objective ``F1`` (initial thresholds ``λ/L~``;
        the unsupervised loss uses it).
    p : float, default=1.2
        Support-selection increment per layer, in percent (``cpss``, ``tilista``,
        ``alista``).
    p_max : float, default=13.0
        Largest support-selection percentage.

    Notes
    -----
    Parameters: ``"B"`` (n_atoms, n_measurements) and ``"W"`` (n_atoms, n_atoms) for
    ``untied`` (leading layer axis) and ``tied``; ``"W"`` (n_measurements, n_atoms) per
    layer for ``cp``/``cpss``, shared for ``tilista``; ``"alpha"`` (n_layers,) for
    ``tilista``/``alista``; ``"theta"`` (n_layers,) always. ALISTA keeps its analytic
    ``W`` in ``params["W"]`` too, but it is not trainable: it is listed in ``frozen`` and
    its gradient is always zero. Initialisation: ``B = Aᵀ/L~``, ``W = I − AᵀA/L~``
    (untied/tied), ``W = A/L~`` (cp, cpss, tilista), ``α = 1``, ``θ = λ/L~`` with
    ``L~ = 1.001 ||A||_2²``.

    References
    ----------
    .. [1] K. Gregor and Y. LeCun, "Learning fast approximations of sparse coding",
       ICML 2010.
    .. [2] X. Chen, J. Liu, Z. Wang and W. Yin, "Theoretical linear convergence of unfolded
       ISTA and its practical weights and thresholds", NeurIPS 2018.
    .. [3] J. Liu, X. Chen, Z. Wang and W. Yin, "ALISTA: Analytic weights are as good as
       learned weights in LISTA", ICLR 2019.

    Examples
    --------
    >>> import numpy as np
    >>> from sparsopt.unfolding._lista import LISTAModel
    >>> rng = np.random.default_rng(0)
    >>> A = rng.standard_normal((20, 40)) / np.sqrt(20)
    >>> Y = rng.standard_normal((5, 20))
    >>> model = LISTAModel("cp", lam=0.1)
    >>> params = model.init_params(A, 4, lam=0.1, dtype=np.float64)
    >>> xs, cache = model.forward(params, A, Y, cache=True)
    >>> grads = model.backward(params, A, Y, cache, np.ones_like(xs[-1]))
    >>> sorted(grads), grads["W"].shape
    (['W', 'theta'], (4, 20, 40))
    """

    name = "lista"
    objective_penalty = "l1"

    def __init__(self, variant="cp", lam=0.4, *, p=1.2, p_max=13.0):
        if variant not in VARIANTS:
            raise ValueError(f"variant must be one of {VARIANTS}, got {variant!r}.")
        if not (np.isfinite(lam) and lam >= 0):
            raise ValueError(f"lam must be a finite non-negative number, got {lam!r}.")
        if not (0 <= p <= 100 and 0 <= p_max <= 100):
            raise ValueError(f"p and p_max must be percentages in [0, 100], got {p!r}, {p_max!r}.")
        self.variant = variant
        self.lam = lam
        self.p = p
        self.p_max = p_max

    @property
    def frozen(self):
        """Keys of ``params`` that are not trained (their gradient is always zero)."""
        return ("W",) if self.variant == "alista" else ()

    @property
    def shared_keys(self):
        """Keys of ``params`` shared by all layers (no leading layer axis)."""
        return {"tied": ("B", "W"), "tilista": ("W",), "alista": ("W",)}.get(self.variant, ())

    # -- parameters -------------------------------------------------------------------
    def init_params(self, A, n_layers, *, lam=None, dtype=np.float64):
        lam = self.lam if lam is None else lam
        n_layers = int(n_layers)
        if n_layers < 1:
            raise ValueError(f"n_layers must be >= 1, got {n_layers}.")
        xp, A64, param = _init_data(A, dtype)
        dev = device(A64)
        m, n = A64.shape
        L = _spectral_bound(A64)
        params = {}
        v = self.variant
        if v in ("untied", "tied"):
            B = A64.T / L
            W = xp.eye(n, dtype=xp.float64, device=dev) - (A64.T @ A64) / L
            if v == "untied":
                B = xp.broadcast_to(B, (n_layers, n, m))
                W = xp.broadcast_to(W, (n_layers, n, n))
            params["B"] = param(B)
            params["W"] = param(W)
        elif v in _CP_VARIANTS:
            params["W"] = param(xp.broadcast_to(A64 / L, (n_layers, m, n)))
        elif v == "tilista":
            params["W"] = param(A64 / L)
        else:  # alista
            params["W"] = param(alista_weight(A64))
        dtype = params["W"].dtype
        if v in _STEP_VARIANTS:
            params["alpha"] = xp.ones(n_layers, dtype=dtype, device=dev)
        params["theta"] = xp.full(n_layers, lam / L, dtype=dtype, device=dev)
        return params

    def project(self, params):
        xp = data_namespace(params["theta"])
        if xp is not None:  # new arrays (the standard has no out=)
            for k in ("theta", "alpha"):
                if k in params:
                    params[k] = xp.clip(params[k], min=0.0)
            return
        np.maximum(params["theta"], 0, out=params["theta"])
        if "alpha" in params:
            np.maximum(params["alpha"], 0, out=params["alpha"])

    # -- passes ----------------------------------------------------------------------
    def _weights(self, params, t):
        W = params["W"]
        return W[t, ...] if self.variant in ("untied", "cp", "cpss") else W

    def forward(self, params, A, Y, *, n_layers=None, cache=False):
        xp = data_namespace(Y, A, *params.values())
        if xp is not None:
            return self._forward_xp(xp, params, A, Y, n_layers, cache)
        theta = params["theta"]
        T = _n_layers(theta.shape[0], n_layers)
        dtype = theta.dtype
        A, Y = _as_data(A, Y, dtype)
        nb = Y.shape[0]
        n = A.shape[1]
        v = self.variant
        ss = v in _SS_VARIANTS
        percents = _ss_percents(T, self.p, self.p_max) if ss else None
        X = np.zeros((T + 1, nb, n), dtype=dtype)
        masks = np.empty((T, nb, n), dtype=bool) if cache else None
        soft = np.empty((T, nb, n), dtype=bool) if (cache and ss) else None
        res = P = None
        if cache and v not in ("untied", "tied"):
            res = np.empty((T, nb, A.shape[0]), dtype=dtype)
            if v in _STEP_VARIANTS:
                P = np.empty((T, nb, n), dtype=dtype)
        YB = Y @ params["B"].T if v == "tied" else None
        Z = np.empty((nb, n), dtype=dtype)
        XW = np.empty((nb, n), dtype=dtype) if v in ("untied", "tied") else None
        scratch = None if cache else np.empty((nb, n), dtype=bool)
        Rbuf = np.empty((nb, A.shape[0]), dtype=dtype) if res is None else None
        for t in range(T):
            Xt = X[t]
            if v in ("untied", "tied"):
                Wt = self._weights(params, t)
                if v == "untied":
                    np.matmul(Y, params["B"][t].T, out=Z)
                else:
                    Z[...] = YB
                if t > 0:
                    np.matmul(Xt, Wt.T, out=XW)
                    Z += XW
            else:
                Wt = self._weights(params, t)
                R = res[t] if res is not None else Rbuf
                if t > 0:  # R = Y - X_t A^T, without temporaries
                    np.matmul(Xt, A.T, out=R)
                    np.subtract(Y, R, out=R)
                else:
                    R[...] = Y
                if v in _STEP_VARIANTS:
                    Pt = P[t] if P is not None else np.empty((nb, n), dtype=dtype)
                    np.matmul(R, Wt, out=Pt)
                    np.multiply(Pt, params["alpha"][t], out=Z)
                else:
                    np.matmul(R, Wt, out=Z)
                Z += Xt
            if ss:
                out, mask, bypass = support_select_shrink(Z, theta[t], percents[t])
                X[t + 1] = out
                if cache:
                    masks[t] = mask
                    np.logical_and(mask, ~bypass, out=soft[t])
            else:  # written in place into the layer outputs and the cached masks
                soft_shrink(Z, theta[t], out=X[t + 1], mask=masks[t] if cache else scratch)
        xs = list(X)
        if not cache:
            return xs, None
        return xs, {"X": X, "masks": masks, "soft": soft, "res": res, "P": P, "T": T}

    def _forward_xp(self, xp, params, A, Y, n_layers, cache):
        """:meth:`forward` in the namespace ``xp`` (new arrays per layer, no ``out=``)."""
        Y, A, params = xp_data(xp, params, A, Y)
        theta = params["theta"]
        T = _n_layers(theta.shape[0], n_layers)
        nb, n = Y.shape[0], A.shape[1]
        v = self.variant
        ss = v in _SS_VARIANTS
        percents = _ss_percents(T, self.p, self.p_max) if ss else None
        X = [xp.zeros((nb, n), dtype=Y.dtype, device=device(Y))]
        masks, soft, res, P = [], [], [], []
        YB = Y @ params["B"].T if v == "tied" else None
        for t in range(T):
            Xt = X[t]
            Wt = self._weights(params, t)
            if v in ("untied", "tied"):
                Z = Y @ params["B"][t, ...].T if v == "untied" else YB
                if t > 0:
                    Z = Z + Xt @ Wt.T
            else:
                R = Y - Xt @ A.T if t > 0 else Y
                res.append(R)
                if v in _STEP_VARIANTS:
                    Pt = R @ Wt
                    P.append(Pt)
                    Z = Pt * params["alpha"][t] + Xt
                else:
                    Z = R @ Wt + Xt
            if ss:
                out, mask, bypass = support_select_shrink(Z, theta[t], percents[t])
                soft.append(xp.logical_and(mask, xp.logical_not(bypass)))
            else:
                out, mask = soft_shrink(Z, theta[t])
            X.append(out)
            masks.append(mask)
        if not cache:
            return X, None
        return X, {"X": X, "masks": masks, "soft": soft if ss else None,
                   "res": res or None, "P": P or None, "T": T}

    def backward(self, params, A, Y, cache, G_T, *, n_layers=None):
        xp = data_namespace(Y, A, G_T, *params.values())
        if xp is not None:
            return self._backward_xp(xp, params, A, Y, cache, G_T, n_layers)
        theta = params["theta"]
        dtype = theta.dtype
        A, Y = _as_data(A, Y, dtype)
        T = _cached_layers(cache, n_layers)
        X, masks, soft = cache["X"], cache["masks"], cache["soft"]
        v = self.variant
        # the per-layer matrices are written layer by layer below (one GEMM each): only
        # the layers past T (and untied W_0) need zeros; zeroing 16 x 250 x 500 every
        # step was 6% of a LISTA-CP fit
        per_layer = {"B": ("untied",), "W": ("untied", "cp", "cpss")}
        grads = {}
        for k, val in params.items():
            if v in per_layer.get(k, ()):
                grads[k] = g = np.empty_like(val)
                g[T:] = 0
                if v == "untied" and k == "W":
                    g[0] = 0
            else:
                grads[k] = np.zeros_like(val)
        nb, n = X.shape[1], X.shape[2]
        Hs = np.empty((T, nb, n), dtype=dtype)  # dL/dz_t, layer by layer
        G = np.array(G_T, dtype=dtype)
        S = np.empty((nb, n), dtype=dtype)
        Gbuf = np.empty((nb, n), dtype=dtype)
        HW = np.empty((nb, A.shape[0]), dtype=dtype)
        for t in range(T - 1, -1, -1):
            H = Hs[t]
            np.multiply(G, masks[t], out=H)
            # dL/dθ_t = −Σ H ⊙ sign(z_t) over the soft-thresholded entries
            # (sign(z_t) = sign(x_{t+1}) there)
            np.sign(X[t + 1], out=S)
            S *= H
            if soft is not None:
                S *= soft[t]
            grads["theta"][t] = -S.sum(dtype=np.float64)
            if v in _STEP_VARIANTS:
                grads["alpha"][t] = np.vdot(H, cache["P"][t])
            # per-layer matrix gradients: one 2-D GEMM each (a stacked matmul over
            # transposed views does not reach BLAS and is several times slower)
            if v == "untied":
                np.matmul(H.T, Y, out=grads["B"][t])
                if t > 0:
                    np.matmul(H.T, X[t], out=grads["W"][t])
            elif v in _CP_VARIANTS:
                np.matmul(cache["res"][t].T, H, out=grads["W"][t])
            if t == 0:
                break  # G_0 is not needed
            Wt = self._weights(params, t)
            if v in ("untied", "tied"):
                np.matmul(H, Wt, out=Gbuf)
            else:  # G = H - a (H W^T) A
                np.matmul(H, Wt.T, out=HW)
                if v in _STEP_VARIANTS:
                    HW *= params["alpha"][t]
                np.matmul(HW, A, out=Gbuf)
                np.subtract(H, Gbuf, out=Gbuf)
            G = Gbuf
        # shared matrices: one GEMM over the layers stacked along the batch axis
        if v == "tied":
            grads["B"][...] = Hs.sum(axis=0).T @ Y
            if T > 1:
                grads["W"][...] = Hs[1:].reshape(-1, n).T @ X[1:T].reshape(-1, n)
        elif v == "tilista":
            Hs *= params["alpha"][:T, None, None]
            m = A.shape[0]
            grads["W"][...] = cache["res"][:T].reshape(-1, m).T @ Hs.reshape(-1, n)
        return grads


    def _backward_xp(self, xp, params, A, Y, cache, G_T, n_layers):
        """:meth:`backward` in the namespace ``xp`` (same gradients, new arrays)."""
        Y, A, params = xp_data(xp, params, A, Y)
        dtype = params["theta"].dtype
        T = _cached_layers(cache, n_layers)
        X, masks, soft = cache["X"], cache["masks"], cache["soft"]
        v = self.variant
        grads = {k: xp.zeros_like(val) for k, val in params.items()}
        Hs = [None] * T
        G = to_namespace(G_T, Y, dtype)
        for t in range(T - 1, -1, -1):
            H = Hs[t] = masked(xp, G, masks[t])
            S = xp.sign(X[t + 1]) * H
            if soft is not None:
                S = masked(xp, S, soft[t])
            grads["theta"][t] = xp.astype(-xp.sum(xp.astype(S, xp.float64)), dtype)
            if v in _STEP_VARIANTS:
                grads["alpha"][t] = xp.sum(H * cache["P"][t])
            if v == "untied":
                grads["B"][t, ...] = H.T @ Y
                if t > 0:
                    grads["W"][t, ...] = H.T @ X[t]
            elif v in _CP_VARIANTS:
                grads["W"][t, ...] = cache["res"][t].T @ H
            if t == 0:
                break
            Wt = self._weights(params, t)
            if v in ("untied", "tied"):
                G = H @ Wt
            else:
                HW = H @ Wt.T
                if v in _STEP_VARIANTS:
                    HW = HW * params["alpha"][t]
                G = H - HW @ A
        if v == "tied":
            Hsum = Hs[0]
            for H in Hs[1:]:
                Hsum = Hsum + H
            grads["B"] = Hsum.T @ Y
            if T > 1:
                grads["W"] = xp.concat(Hs[1:]).T @ xp.concat(X[1:T])
        elif v == "tilista":
            alpha = params["alpha"]
            grads["W"] = xp.concat(cache["res"][:T]).T @ xp.concat(
                [Hs[t] * alpha[t] for t in range(T)])
        return grads


class LIHTModel(UnfoldedModel):
    """Learned IHT (the ALISTA repository's LIHT): ``x_{t+1} = H_{θ_t}(B y + W_t x_t)``.

    Parameters
    ----------
    lam : float, default=0.4
        The ℓ0 weight ``λ`` of ``F0`` (initial thresholds ``√λ``; the unsupervised loss
        uses it).

    Notes
    -----
    Parameters: ``"B"`` (n_atoms, n_measurements) shared, ``"W"`` (n_layers, n_atoms,
    n_atoms) and ``"theta"`` (n_layers,). Initialisation ``B = Aᵀ``, ``W = I − AᵀA``,
    ``θ = √λ`` (the reference code's, without a ``1/L`` scaling: use an operator with
    ``||A||_2 < √2``, e.g. unit-norm columns with ``m ≈ n``, or rescale it). The hard
    threshold's derivative is a fixed mask, so ``θ`` gets a zero gradient (as with
    autograd in the reference code, ``θ`` never moves).

    References
    ----------
    .. [1] J. Liu, X. Chen, Z. Wang and W. Yin, "ALISTA: Analytic weights are as good as
       learned weights in LISTA", ICLR 2019.
    .. [2] T. Blumensath and M. E. Davies, "Iterative hard thresholding for compressed
       sensing", ACHA 27(3), 2009.

    Examples
    --------
    >>> import numpy as np
    >>> from sparsopt.unfolding._lista import LIHTModel
    >>> rng = np.random.default_rng(0)
    >>> A = rng.standard_normal((20, 40)) / np.sqrt(40)
    >>> model = LIHTModel(lam=0.01)
    >>> params = model.init_params(A, 3, lam=0.01, dtype=np.float64)
    >>> xs, _ = model.forward(params, A, rng.standard_normal((4, 20)))
    >>> len(xs), xs[-1].shape
    (4, (4, 40))
    """

    name = "liht"
    objective_penalty = "l0"
    frozen = ()
    shared_keys = ("B",)

    def __init__(self, lam=0.4):
        if not (np.isfinite(lam) and lam >= 0):
            raise ValueError(f"lam must be a finite non-negative number, got {lam!r}.")
        self.lam = lam

    def init_params(self, A, n_layers, *, lam=None, dtype=np.float64):
        lam = self.lam if lam is None else lam
        n_layers = int(n_layers)
        if n_layers < 1:
            raise ValueError(f"n_layers must be >= 1, got {n_layers}.")
        xp, A64, param = _init_data(A, dtype)
        n = A64.shape[1]
        W = xp.eye(n, dtype=xp.float64, device=device(A64)) - A64.T @ A64
        B = param(A64.T)
        return {
            "B": B,
            "W": param(xp.broadcast_to(W, (n_layers, n, n))),
            "theta": xp.full(n_layers, float(np.sqrt(lam)), dtype=B.dtype, device=device(A64)),
        }

    def project(self, params):
        xp = data_namespace(params["theta"])
        if xp is not None:
            params["theta"] = xp.clip(params["theta"], min=0.0)
            return
        np.maximum(params["theta"], 0, out=params["theta"])

    def forward(self, params, A, Y, *, n_layers=None, cache=False):
        xp = data_namespace(Y, A, *params.values())
        if xp is not None:
            Y, A, params = xp_data(xp, params, A, Y)
            theta = params["theta"]
            T = _n_layers(theta.shape[0], n_layers)
            X = [xp.zeros((Y.shape[0], params["B"].shape[0]), dtype=Y.dtype,
                          device=device(Y))]
            masks = []
            YB = Y @ params["B"].T
            for t in range(T):
                Z = YB + X[t] @ params["W"][t, ...].T if t > 0 else YB
                out, mask = hard_shrink(Z, theta[t])
                X.append(out)
                masks.append(mask)
            return (X, {"X": X, "masks": masks, "T": T}) if cache else (X, None)
        theta = params["theta"]
        T = _n_layers(theta.shape[0], n_layers)
        dtype = theta.dtype
        _, Y = _as_data(A, Y, dtype)
        nb, n = Y.shape[0], params["B"].shape[0]
        X = np.zeros((T + 1, nb, n), dtype=dtype)
        masks = np.empty((T, nb, n), dtype=bool) if cache else None
        YB = Y @ params["B"].T
        scratch = None if cache else np.empty((nb, n), dtype=bool)
        for t in range(T):
            Z = YB + X[t] @ params["W"][t].T if t > 0 else YB
            hard_shrink(Z, theta[t], out=X[t + 1], mask=masks[t] if cache else scratch)
        xs = list(X)
        return (xs, {"X": X, "masks": masks, "T": T}) if cache else (xs, None)

    def backward(self, params, A, Y, cache, G_T, *, n_layers=None):
        xp = data_namespace(Y, A, G_T, *params.values())
        if xp is not None:
            return self._backward_xp(xp, params, A, Y, cache, G_T, n_layers)
        dtype = params["theta"].dtype
        _, Y = _as_data(A, Y, dtype)
        T = _cached_layers(cache, n_layers)
        X, masks = cache["X"], cache["masks"]
        grads = {k: np.zeros_like(val) for k, val in params.items()}
        nb, n = X.shape[1], X.shape[2]
        Hs = np.empty((T, nb, n), dtype=dtype)
        G = np.array(G_T, dtype=dtype)
        for t in range(T - 1, -1, -1):
            np.multiply(G, masks[t], out=Hs[t])
            if t > 0:
                np.matmul(Hs[t].T, X[t], out=grads["W"][t])
                G = Hs[t] @ params["W"][t]
        grads["B"][...] = Hs.sum(axis=0).T @ Y
        return grads

    def _backward_xp(self, xp, params, A, Y, cache, G_T, n_layers):
        """:meth:`backward` in the namespace ``xp``."""
        Y, A, params = xp_data(xp, params, A, Y)
        T = _cached_layers(cache, n_layers)
        X, masks = cache["X"], cache["masks"]
        grads = {k: xp.zeros_like(val) for k, val in params.items()}
        G = to_namespace(G_T, Y)
        Hsum = None
        for t in range(T - 1, -1, -1):
            H = masked(xp, G, masks[t])
            Hsum = H if Hsum is None else Hsum + H
            if t > 0:
                grads["W"][t, ...] = H.T @ X[t]
                G = H @ params["W"][t, ...]
        grads["B"] = Hsum.T @ Y
        return grads
