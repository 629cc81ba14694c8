"""Deep-unfolded ISTA and IHT: T prox-gradient steps whose step sizes are learned.

Layer t (rows are samples, ``x_0 = 0``)::

    g_t = (Y - X_t A^T) A                     # A^T (y - A x_t) per row
    r_t = X_t + alpha_t g_t
    DU-ISTA: X_{t+1} = S_{theta_t}(r_t),  theta_t = lam alpha_t (tied, default)
    DU-IHT:  X_{t+1} = H_{tau_t}(r_t),    tau_t = sqrt(2 lam alpha_t)

The steps are stored as ``c_t = alpha_t L`` (``step_param="linear"``) or ``log c_t``
(``step_param="log"``), with ``L`` the Lipschitz constant ``||A||_2^2`` of the operator the
parameters were initialised on (stored as the non-trainable ``params["L"]``), so that an
optimiser step is relative to the step's scale (pitfall 1 of the spec).

The backward pass is the spec's hand-derived one: with ``H_t = G_{t+1} * m_t`` (``m_t``
the active set), ``dL/dalpha_t = sum H_t g_t (+ lam dL/dtheta_t when tied)``,
``dL/dtheta_t = -sum H_t sign(r_t)`` and ``G_t = H_t - alpha_t (H_t A^T) A``.
"""

from __future__ import annotations

import contextlib
import contextvars

import numpy as np

from ..backends import device
from ._base import UnfoldedModel
from ._shrink import hard_shrink, soft_shrink
from ._xp import data_namespace, masked, spectral_norm, to_namespace, xp_data, xp_dtype

__all__ = ["DUISTA", "DUIHT"]


_L_MEMO = {}
_L_MEMO_SIZE = 64
_CONSTANTS = contextvars.ContextVar("sparsopt_unfolding_operator_constants", default=None)


def _lipschitz(A):
    """``||A||_2^2`` (an SVD), memoised: with ``step_scale="operator"`` the forward pass,
    the backward pass and every validation check ask for the same operators' constants.
    NumPy arrays: on the operator's contents (hashing the bytes costs a small fraction of
    the SVD). Arrays of another namespace: computed in it (one synchronisation for the
    host float), memoised by identity in the :class:`OperatorConstants` of the training
    call in progress, if any."""
    xp = data_namespace(A)
    if xp is not None:
        consts = _CONSTANTS.get()
        if consts is None:
            return spectral_norm(xp, A) ** 2
        return consts.get(A, lambda a: spectral_norm(xp, a) ** 2)
    A = np.asarray(A, dtype=np.float64)
    key = (A.shape, hash(A.tobytes()))
    L = _L_MEMO.get(key)
    if L is None:
        L = float(np.linalg.norm(A, 2) ** 2)
        if len(_L_MEMO) >= _L_MEMO_SIZE:
            try:  # drop the oldest entry (another thread may be doing the same)
                _L_MEMO.pop(next(iter(_L_MEMO)), None)
            except (StopIteration, RuntimeError):
                pass
        _L_MEMO[key] = L
    return L


class OperatorConstants:
    """``||A||_2^2`` of the device operators of one training call, memoised by identity.

    Device arrays are neither hashed nor read back: an entry is keyed by the operator
    object and versioned by the training loop, which owns the versions. An entry holds
    for the batch that computed it (:meth:`next_batch` starts a new one, so a batch
    source that refills one buffer in place gets fresh constants), or for the whole call
    when computed or used under ``active(pinned=True)`` (the validation operators, which
    must not change during the call: their losses are compared across it). Entries keep
    their operator alive, so an ``id`` is not reused while its entry lives; the object
    lives as long as the training call.
    """

    __slots__ = ("batch", "pinned", "_memo")

    def __init__(self):
        self.batch = 0
        self.pinned = False
        self._memo = {}  # id(A) -> (A, batch, or None when pinned, L)

    def get(self, A, compute):
        """``||A||_2^2`` from the memo, else ``compute(A)`` (and memoised)."""
        entry = self._memo.get(id(A))
        fresh = entry is not None and entry[0] is A and entry[1] in (None, self.batch)
        L = entry[2] if fresh else compute(A)
        # pinned: computed or used for validation (a batch's operator may be one too)
        pinned = self.pinned or (fresh and entry[1] is None)
        self._memo[id(A)] = (A, None if pinned else self.batch, L)
        return L

    def next_batch(self):
        """A new training batch: the unpinned entries are dropped."""
        self.batch += 1
        self._memo = {k: e for k, e in self._memo.items() if e[1] is None}

    @contextlib.contextmanager
    def active(self, pinned=False):
        """:func:`_lipschitz` uses these constants inside the block (in this thread's
        context only); ``pinned``: what is computed there holds for the whole call."""
        token = _CONSTANTS.set(self)
        was, self.pinned = self.pinned, pinned
        try:
            yield self
        finally:
            self.pinned = was
            _CONSTANTS.reset(token)


class _DUBase(UnfoldedModel):
    """Shared step parametrisation of DU-ISTA and DU-IHT."""

    def __init__(self, lam, *, step_param="linear", max_step=10.0, step_scale="fixed"):
        if not (np.isscalar(lam) and np.isfinite(lam) and lam >= 0):
            raise ValueError(f"{type(self).__name__}: lam must be a finite number >= 0, "
                             f"got {lam!r}.")
        if step_param not in ("linear", "log"):
            raise ValueError(f"{type(self).__name__}: step_param must be 'linear' or 'log', "
                             f"got {step_param!r}.")
        if max_step is not None and not max_step > 0:
            raise ValueError(f"{type(self).__name__}: max_step must be > 0 or None, "
                             f"got {max_step!r}.")
        if step_scale not in ("fixed", "operator"):
            raise ValueError(f"{type(self).__name__}: step_scale must be 'fixed' or "
                             f"'operator', got {step_scale!r}.")
        self.lam = float(lam)
        self.step_param = step_param
        self.step_scale = step_scale
        self.max_step = None if max_step is None else float(max_step)

    # -- steps ---------------------------------------------------------------------------
    def _step_key(self):
        return "c" if self.step_param == "linear" else "log_c"

    def _init_steps(self, A, n_layers, dtype):
        if isinstance(n_layers, bool) or not isinstance(n_layers, (int, np.integer)) \
                or n_layers < 1:
            raise ValueError(f"{type(self).__name__}: n_layers must be an integer >= 1, "
                             f"got {n_layers!r}.")
        L = _lipschitz(A)
        if not L > 0:
            raise ValueError(f"{type(self).__name__}: the operator is zero.")
        xp = data_namespace(A)
        if xp is not None:
            dtype, dev = xp_dtype(xp, dtype), device(A)
            p = {"L": xp.asarray(L, dtype=dtype, device=dev)}
            key, fill = ("c", 1.0) if self.step_param == "linear" else ("log_c", 0.0)
            p[key] = xp.full(n_layers, fill, dtype=dtype, device=dev)
            return p
        dtype = np.dtype(dtype)
        p = {"L": np.asarray(L, dtype=dtype)}
        if self.step_param == "linear":
            p["c"] = np.ones(n_layers, dtype=dtype)
        else:
            p["log_c"] = np.zeros(n_layers, dtype=dtype)
        return p

    def steps(self, params):
        """The step sizes ``alpha_t`` (shape ``(n_layers,)``)."""
        xp = data_namespace(*params.values())
        if xp is not None:
            if "c" in params:
                return xp.clip(params["c"], min=0.0) / params["L"]
            return xp.exp(params["log_c"]) / params["L"]
        if "c" in params:
            return np.maximum(params["c"], 0) / params["L"]
        return np.exp(params["log_c"]) / params["L"]

    def _operator_L(self, A):
        """``||A||_2^2`` with ``step_scale="operator"`` (asked once per pass, of the
        operator as given), else None."""
        return _lipschitz(A) if self.step_scale == "operator" else None

    def _steps_for(self, params, LA):
        """Steps used on an operator: ``c_t / L`` with ``L`` the stored reference
        (``step_scale="fixed"``, ``LA`` None) or the operator's ``LA = ||A||_2^2``
        (``step_scale="operator"``, see :meth:`_operator_L`)."""
        alpha = self.steps(params)
        if LA is not None:
            xp = data_namespace(alpha)
            if xp is not None:
                return xp.astype(alpha * (params["L"] / LA), alpha.dtype)
            alpha = (alpha * (params["L"] / LA)).astype(alpha.dtype, copy=False)
        return alpha

    def _dsteps(self, params, d_alpha, alpha, LA):
        """Chain ``dL/dalpha`` (``alpha`` the steps used, ``LA`` as in :meth:`_steps_for`)
        to the stored parameter."""
        if "c" in params:
            return d_alpha / (LA if LA is not None else params["L"])
        return d_alpha * alpha

    def project(self, params):
        xp = data_namespace(*params.values())
        if xp is not None:  # new arrays (the standard has no out=)
            if "c" in params:
                params["c"] = xp.clip(params["c"], min=0.0, max=self.max_step)
            elif self.max_step is not None:
                params["log_c"] = xp.clip(params["log_c"], max=float(np.log(self.max_step)))
            if "theta" in params:
                params["theta"] = xp.clip(params["theta"], min=0.0)
            return
        if "c" in params:
            np.clip(params["c"], 0, self.max_step, out=params["c"])
        elif self.max_step is not None:
            np.minimum(params["log_c"], np.log(self.max_step), out=params["log_c"])
        if "theta" in params:
            np.maximum(params["theta"], 0, out=params["theta"])

    @staticmethod
    def _n(params, n_layers, key):
        T = params[key].shape[0]
        if n_layers is None:
            return T
        if not 1 <= n_layers <= T:
            raise ValueError(f"n_layers must be in [1, {T}], got {n_layers!r}.")
        return int(n_layers)

    @staticmethod
    def _grad(X, A, Y):
        return (Y - X @ A.T) @ A


def _smooth_hard_backward(xp, G, r, mask, tau_t):
    """One layer of the smoothed hard threshold ``x = r sigma(u)`` backwards (any
    namespace): ``(H, dtau)``, the gradient with respect to ``r`` and the (0-D) one with
    respect to the threshold ``tau_t``; ``mask`` is the forward pass's ``(sigma, eps)``."""
    s, eps = mask
    ds = s * (1 - s)
    absr = xp.abs(r)
    H = G * (s + absr * ds / eps)
    # dx/dtau = r sigma'(u) du/dtau with u = (|r| - tau) / (temperature tau)
    dtau = xp.sum(G * r * ds * (-absr / (eps * tau_t)))
    return H, dtau


class DUISTA(_DUBase):
    """Deep-unfolded ISTA (DU-ISTA): learned per-layer steps, thresholds tied or free.

    Parameters
    ----------
    lam : float
        The l1 weight of ``F1(x) = 1/2 ||y - A x||^2 + lam ||x||_1``.
    thresholds : {"tied", "layer", "coordinate"}, default="tied"
        ``"tied"``: ``theta_t = lam alpha_t`` (every layer is a prox-gradient step on F1,
        only the steps are learned, the paper's setting); ``"layer"``: a free threshold per
        layer; ``"coordinate"``: a free threshold per layer and atom.
    step_param : {"linear", "log"}, default="linear"
        Steps stored as ``c_t = alpha_t L`` or as ``log c_t``.
    max_step : float or None, default=10.0
        Cap on ``c_t = alpha_t L`` applied by :meth:`project` (large learned steps can
        diverge on atypical operators).
    step_scale : {"fixed", "operator"}, default="fixed"
        ``"fixed"``: ``alpha_t = c_t / L`` with ``L`` the Lipschitz constant of the
        operator the parameters were initialised on, the same steps for every operator
        (the paper's setting); ``"operator"``: ``alpha_t = c_t / ||A||_2^2`` for each
        operator ``A`` passed to :meth:`forward` (an SVD per pass, once per batch in
        :func:`~sparsopt.unfolding.train_unfolded`), which keeps learned steps stable
        when the operator is redrawn per minibatch.

    References
    ----------
    K. Nagahisa, R. Hayakawa, Y. Iiguni, "Deep unfolding of ISTA and IHT: supervised vs
    unsupervised training", arXiv:2509.01331, 2025.

    Examples
    --------
    >>> import numpy as np
    >>> from sparsopt.unfolding import DUISTA
    >>> rng = np.random.default_rng(0)
    >>> A = rng.standard_normal((10, 20)); Y = rng.standard_normal((3, 10))
    >>> model = DUISTA(lam=0.5)
    >>> params = model.init_params(A, 4, dtype=np.float64)
    >>> xs, _ = model.forward(params, A, Y)
    >>> len(xs), xs[-1].shape
    (5, (3, 20))
    """

    name = "du_ista"
    objective_penalty = "l1"

    def __init__(self, lam, *, thresholds="tied", step_param="linear", max_step=10.0,
                 step_scale="fixed"):
        super().__init__(lam, step_param=step_param, max_step=max_step, step_scale=step_scale)
        if thresholds not in ("tied", "layer", "coordinate"):
            raise ValueError("DUISTA: thresholds must be 'tied', 'layer' or 'coordinate', "
                             f"got {thresholds!r}.")
        self.thresholds_mode = thresholds

    def init_params(self, A, n_layers, *, lam=None, dtype=np.float64):
        lam = self.lam if lam is None else float(lam)
        p = self._init_steps(A, n_layers, dtype)
        if self.thresholds_mode != "tied":
            theta = lam / float(p["L"])
            shape = (n_layers,) if self.thresholds_mode == "layer" else (n_layers, A.shape[1])
            xp = data_namespace(A)
            if xp is not None:
                p["theta"] = xp.full(shape, theta, dtype=p["L"].dtype, device=device(A))
            else:
                p["theta"] = np.full(shape, theta, dtype=p["L"].dtype)
        return p

    def thresholds(self, params):
        """Thresholds ``theta_t`` (``(n_layers,)`` or ``(n_layers, n_atoms)``)."""
        if "theta" in params:
            xp = data_namespace(params["theta"])
            if xp is not None:
                return xp.clip(params["theta"], min=0.0)
            return np.maximum(params["theta"], 0)
        return self.lam * self.steps(params)

    def forward(self, params, A, Y, *, n_layers=None, cache=False):
        T = self._n(params, n_layers, self._step_key())
        LA = self._operator_L(A)
        xp = data_namespace(Y, A, *params.values())
        if xp is not None:
            Y, A, params = xp_data(xp, params, A, Y, dtype_key=None)
        alpha = self._steps_for(params, LA)
        theta = self.lam * alpha if "theta" not in params else self.thresholds(params)
        if xp is not None:
            X = xp.zeros((Y.shape[0], A.shape[1]), dtype=Y.dtype, device=device(Y))
        else:
            X = np.zeros((Y.shape[0], A.shape[1]), dtype=Y.dtype)
        xs = [X]
        c = [] if cache else None
        for t in range(T):
            g = self._grad(X, A, Y)
            r = X + alpha[t] * g
            X, mask = soft_shrink(r, theta[t, ...])
            xs.append(X)
            if cache:
                c.append((g, r, mask))
        return xs, c

    def backward(self, params, A, Y, cache, G_T, *, n_layers=None):
        T = len(cache) if n_layers is None else int(n_layers)
        LA = self._operator_L(A)
        xp = data_namespace(Y, A, G_T, *params.values())
        if xp is not None:
            return self._backward_xp(xp, params, A, Y, cache, G_T, T, LA)
        alpha = self._steps_for(params, LA)
        d_alpha = np.zeros_like(alpha)
        d_theta = np.zeros_like(params["theta"]) if "theta" in params else None
        G = G_T
        for t in range(T - 1, -1, -1):
            g, r, mask = cache[t]
            H = G * mask
            HS = H * np.sign(r)
            d_alpha[t] = np.sum(H * g)
            if self.thresholds_mode == "tied":
                d_alpha[t] -= self.lam * np.sum(HS)
            elif self.thresholds_mode == "layer":
                d_theta[t] = -np.sum(HS)
            else:
                d_theta[t] = -HS.sum(axis=0)
            G = H - alpha[t] * ((H @ A.T) @ A)
        grads = {"L": np.zeros_like(params["L"]),
                 self._step_key(): self._dsteps(params, d_alpha, alpha, LA).astype(alpha.dtype,
                                                                             copy=False)}
        if d_theta is not None:
            grads["theta"] = d_theta
        return grads

    def _backward_xp(self, xp, params, A, Y, cache, G_T, T, LA):
        """:meth:`backward` in the namespace ``xp``."""
        Y, A, params = xp_data(xp, params, A, Y, dtype_key=None)
        alpha = self._steps_for(params, LA)
        d_alpha = xp.zeros_like(alpha)
        d_theta = xp.zeros_like(params["theta"]) if "theta" in params else None
        G = to_namespace(G_T, Y)
        for t in range(T - 1, -1, -1):
            g, r, mask = cache[t]
            H = masked(xp, G, mask)
            HS = H * xp.sign(r)
            da = xp.sum(H * g)
            if self.thresholds_mode == "tied":
                da = da - self.lam * xp.sum(HS)
            elif self.thresholds_mode == "layer":
                d_theta[t] = -xp.sum(HS)
            else:
                d_theta[t, ...] = -xp.sum(HS, axis=0)
            d_alpha[t] = da
            G = H - alpha[t] * ((H @ A.T) @ A)
        grads = {"L": xp.zeros_like(params["L"]),
                 self._step_key(): xp.astype(self._dsteps(params, d_alpha, alpha, LA),
                                             alpha.dtype)}
        if d_theta is not None:
            grads["theta"] = d_theta
        return grads


def _sigmoid(u, xp=np):
    return 0.5 * (1.0 + xp.tanh(0.5 * u))


class DUIHT(_DUBase):
    """Deep-unfolded IHT (DU-IHT): learned per-layer steps, threshold ``sqrt(2 lam alpha_t)``.

    Parameters
    ----------
    lam : float
        The l0 weight of ``F0(x) = 1/2 ||y - A x||^2 + lam ||x||_0``.
    gradient : {"mask", "straight_through", "surrogate"}, default="mask"
        How the hard threshold is differentiated. ``"mask"``: the active set is a constant
        (autograd's semantics; the threshold gets no gradient, so ``alpha_t`` is learned
        through the gradient step only); ``"straight_through"``: ``dH/dr = 1`` everywhere
        (biased towards dense codes); ``"surrogate"``: training uses
        ``r sigmoid((|r| - tau) / (temperature tau))`` and its exact derivatives (the
        threshold then gets a gradient), evaluation the exact ``H``.
    temperature : float, default=0.1
        Relative temperature of the surrogate (a fraction of ``tau_t``); with
        ``temperature_final`` set, its value at the start of training.
    temperature_final : float or None, default=None
        Anneal the surrogate: the temperature goes geometrically from ``temperature`` to
        ``temperature_final`` over training, ``temperature * (temperature_final /
        temperature) ** progress`` with ``progress`` in [0, 1] given by
        :func:`~sparsopt.unfolding.train_unfolded` (see ``anneal``), so that the
        surrogate sharpens towards the exact hard threshold. None: a fixed temperature.
    anneal : {"training", "layer"}, default="training"
        What ``progress`` runs over when annealing: every step of the training
        (``"training"``), or the steps of each layer's stage, restarting hot for each
        added layer of an incremental or stage-wise schedule (``"layer"``).
    l0_delta : float or None, default=None
        With ``gradient="surrogate"``, the unsupervised loss replaces ``||x||_0`` by
        ``sum x^2 / (x^2 + l0_delta)`` (value and gradient); None keeps the exact
        ``||x||_0`` whose gradient is zero.
    step_param : {"linear", "log"}, default="linear"
    max_step : float or None, default=10.0
    step_scale : {"fixed", "operator"}, default="fixed"
        See :class:`DUISTA`.

    References
    ----------
    K. Nagahisa, R. Hayakawa, Y. Iiguni, arXiv:2509.01331, 2025. T. Blumensath, M. Davies,
    "Iterative thresholding for sparse approximations", J. Fourier Anal. Appl., 2008.

    Examples
    --------
    >>> import numpy as np
    >>> from sparsopt.unfolding import DUIHT
    >>> rng = np.random.default_rng(0)
    >>> A = rng.standard_normal((10, 20)); Y = rng.standard_normal((3, 10))
    >>> model = DUIHT(lam=0.5)
    >>> xs, _ = model.forward(model.init_params(A, 3), A, Y)
    >>> xs[-1].shape
    (3, 20)
    """

    name = "du_iht"
    objective_penalty = "l0"

    def __init__(self, lam, *, gradient="mask", temperature=0.1, temperature_final=None,
                 anneal="training", l0_delta=None, step_param="linear", max_step=10.0,
                 step_scale="fixed"):
        super().__init__(lam, step_param=step_param, max_step=max_step, step_scale=step_scale)
        if gradient not in ("mask", "straight_through", "surrogate"):
            raise ValueError("DUIHT: gradient must be 'mask', 'straight_through' or "
                             f"'surrogate', got {gradient!r}.")
        if not temperature > 0:
            raise ValueError(f"DUIHT: temperature must be > 0, got {temperature!r}.")
        if temperature_final is not None and not temperature_final > 0:
            raise ValueError("DUIHT: temperature_final must be > 0 or None, got "
                             f"{temperature_final!r}.")
        if anneal not in ("training", "layer"):
            raise ValueError(f"DUIHT: anneal must be 'training' or 'layer', got {anneal!r}.")
        if l0_delta is not None and not l0_delta > 0:
            raise ValueError(f"DUIHT: l0_delta must be > 0 or None, got {l0_delta!r}.")
        self.gradient = gradient
        self.temperature = float(temperature)
        self.temperature_final = (None if temperature_final is None
                                  else float(temperature_final))
        self.anneal = anneal
        self.l0_delta = None if l0_delta is None or gradient != "surrogate" else float(l0_delta)

    def init_params(self, A, n_layers, *, lam=None, dtype=np.float64):
        return self._init_steps(A, n_layers, dtype)

    def thresholds(self, params):
        """Hard thresholds ``tau_t = sqrt(2 lam alpha_t)``."""
        xp = data_namespace(*params.values())
        if xp is not None:
            return xp.sqrt(2.0 * self.lam * self.steps(params))
        return np.sqrt(2.0 * self.lam * self.steps(params))

    @property
    def anneals(self):
        """True when the surrogate's temperature follows the training progress."""
        return self.gradient == "surrogate" and self.temperature_final is not None

    def surrogate_temperature(self, progress=0.0):
        """Relative temperature of the surrogate at ``progress`` in [0, 1] of training:
        ``temperature * (temperature_final / temperature) ** progress`` (``temperature``
        when not annealed)."""
        if self.temperature_final is None:
            return self.temperature
        q = min(max(float(progress), 0.0), 1.0)
        return self.temperature * (self.temperature_final / self.temperature) ** q

    def forward(self, params, A, Y, *, n_layers=None, cache=False, smooth=None,
                progress=0.0):
        """Layer outputs; ``smooth`` (default: ``cache`` with ``gradient="surrogate"``)
        uses the smooth surrogate of the hard threshold (training), else the exact one;
        ``progress`` in [0, 1] sets an annealed surrogate's temperature (see
        :meth:`surrogate_temperature`)."""
        T = self._n(params, n_layers, self._step_key())
        if smooth is None:
            smooth = cache and self.gradient == "surrogate"
        LA = self._operator_L(A)
        xp = data_namespace(Y, A, *params.values())
        if xp is not None:
            return self._forward_xp(xp, params, A, Y, T, cache, smooth, progress, LA)
        alpha = self._steps_for(params, LA)
        tau = np.sqrt(2.0 * self.lam * alpha).astype(Y.dtype, copy=False)
        X = np.zeros((Y.shape[0], A.shape[1]), dtype=Y.dtype)
        surrogate = None
        if smooth:
            temp = self.surrogate_temperature(progress)
            tiny = np.finfo(Y.dtype).tiny

            def surrogate(r, tau_t):
                eps = temp * max(float(tau_t), tiny)
                with np.errstate(over="ignore"):
                    s = _sigmoid((np.abs(r) - tau_t) / eps)
                return (r * s).astype(Y.dtype, copy=False), (s, eps)

        return self._layers(X, A, Y, alpha, tau, T, cache, surrogate)

    def _layers(self, X, A, Y, alpha, tau, T, cache, surrogate):
        """The ``T`` layers from ``X`` (any namespace): ``(outputs, cache)``. Each layer
        thresholds ``r = X + alpha_t grad`` exactly, or by ``surrogate(r, tau_t) ->
        (X, (sigma, eps))`` (the smooth surrogate) when given."""
        xs = [X]
        c = [] if cache else None
        for t in range(T):
            g = self._grad(X, A, Y)
            r = X + alpha[t] * g
            if surrogate is not None:
                X, mask = surrogate(r, tau[t])
            else:
                X, mask = hard_shrink(r, tau[t])
            xs.append(X)
            if cache:
                c.append((g, r, mask, surrogate is not None))
        return xs, c

    def _forward_xp(self, xp, params, A, Y, T, cache, smooth, progress, LA):
        """:meth:`forward` in the namespace ``xp`` (no host synchronisation)."""
        Y, A, params = xp_data(xp, params, A, Y, dtype_key=None)
        alpha = self._steps_for(params, LA)
        tau = xp.astype(xp.sqrt(2.0 * self.lam * alpha), Y.dtype)
        X = xp.zeros((Y.shape[0], A.shape[1]), dtype=Y.dtype, device=device(Y))
        surrogate = None
        if smooth:
            temp = self.surrogate_temperature(progress)
            tiny = float(xp.finfo(Y.dtype).smallest_normal)  # NumPy's finfo.tiny

            def surrogate(r, tau_t):  # eps stays a 0-D device array: no host sync
                eps = temp * xp.clip(tau_t, min=tiny)
                s = _sigmoid((xp.abs(r) - tau_t) / eps, xp)
                return xp.astype(r * s, Y.dtype), (s, eps)

        return self._layers(X, A, Y, alpha, tau, T, cache, surrogate)

    def _backward_xp(self, xp, params, A, Y, cache, G_T, T, LA):
        """:meth:`backward` in the namespace ``xp``."""
        Y, A, params = xp_data(xp, params, A, Y, dtype_key=None)
        alpha = self._steps_for(params, LA)
        tau = xp.sqrt(2.0 * self.lam * alpha)
        d_alpha = xp.zeros_like(alpha)
        G = to_namespace(G_T, Y)
        for t in range(T - 1, -1, -1):
            g, r, mask, smooth = cache[t]
            if smooth:
                H, dtau = _smooth_hard_backward(xp, G, r, mask, tau[t])
                pos = tau[t] > 0
                safe = xp.where(pos, tau[t], xp.ones_like(tau[t]))
                da = xp.sum(H * g) + xp.where(pos, dtau * self.lam / safe,
                                              xp.zeros_like(dtau))
            else:
                H = G if self.gradient == "straight_through" else masked(xp, G, mask)
                da = xp.sum(H * g)
            d_alpha[t] = da
            G = H - alpha[t] * ((H @ A.T) @ A)
        return {"L": xp.zeros_like(params["L"]),
                self._step_key(): xp.astype(self._dsteps(params, d_alpha, alpha, LA),
                                            alpha.dtype)}

    def backward(self, params, A, Y, cache, G_T, *, n_layers=None):
        T = len(cache) if n_layers is None else int(n_layers)
        LA = self._operator_L(A)
        xp = data_namespace(Y, A, G_T, *params.values())
        if xp is not None:
            return self._backward_xp(xp, params, A, Y, cache, G_T, T, LA)
        alpha = self._steps_for(params, LA)
        tau = np.sqrt(2.0 * self.lam * alpha)
        d_alpha = np.zeros_like(alpha)
        G = G_T
        for t in range(T - 1, -1, -1):
            g, r, mask, smooth = cache[t]
            if smooth:
                H, dtau = _smooth_hard_backward(np, G, r, mask, tau[t])
                d_alpha[t] = np.sum(H * g) + (dtau * self.lam / tau[t] if tau[t] > 0 else 0)
            else:
                H = G if self.gradient == "straight_through" else G * mask
                d_alpha[t] = np.sum(H * g)
            G = H - alpha[t] * ((H @ A.T) @ A)
        return {"L": np.zeros_like(params["L"]),
                self._step_key(): self._dsteps(params, d_alpha, alpha, LA).astype(alpha.dtype,
                                                                            copy=False)}
