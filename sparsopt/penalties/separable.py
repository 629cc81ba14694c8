"""Separable penalties: ``value(x) = sum_i p(x_i)``, prox applied entry-wise."""

from __future__ import annotations

import math

import numpy as np

from ..backends import _kinds, array_namespace
from ._base import Penalty, _check_scalar


class L1(Penalty):
    """Lasso penalty ``alpha * ||x||_1``; its prox is soft thresholding.

    Parameters
    ----------
    alpha : float, default=1.0
        Regularization strength (``>= 0``).

    References
    ----------
    .. [1] R. Tibshirani, "Regression shrinkage and selection via the lasso",
       J. R. Stat. Soc. B 58(1), 1996.

    Examples
    --------
    >>> import numpy as np
    >>> from sparsopt.penalties import L1
    >>> L1(alpha=1.0).prox(np.array([-2.0, 0.5, 3.0]))
    array([-1.,  0.,  2.])
    """

    def __init__(self, alpha=1.0):
        self.alpha = alpha
        self._validate()

    def _validate(self):
        _check_scalar(self.alpha, "alpha", "L1", lower=0.0)

    def _kernel_spec(self):
        return _kinds.KIND_L1, (float(self.alpha),)

    def _value_rows(self, x):
        xp = array_namespace(x)
        return float(self.alpha) * xp.sum(xp.abs(x), axis=1)

    def _prox(self, x, step, engine, out):
        return self._dispatch("prox_l1", x, step * float(self.alpha), out, engine=engine)


class L0(Penalty):
    """Sparsity-counting penalty ``alpha * ||x||_0``; its prox is hard thresholding.

    ``prox(t, step)`` keeps entries with ``|t| > sqrt(2 * step * alpha)``.

    Parameters
    ----------
    alpha : float, default=1.0
        Cost of each non-zero (``>= 0``).

    References
    ----------
    .. [1] T. Blumensath and M. E. Davies, "Iterative thresholding for sparse
       approximations", J. Fourier Anal. Appl. 14, 2008.

    Examples
    --------
    >>> import numpy as np
    >>> from sparsopt.penalties import L0
    >>> L0(alpha=0.5).prox(np.array([-2.0, 0.5, 3.0]))  # threshold sqrt(2*0.5) = 1
    array([-2.,  0.,  3.])
    """

    is_convex = False

    def __init__(self, alpha=1.0):
        self.alpha = alpha
        self._validate()

    def _validate(self):
        _check_scalar(self.alpha, "alpha", "L0", lower=0.0)

    def _kernel_spec(self):
        return _kinds.KIND_L0, (float(self.alpha),)

    def _value_rows(self, x):
        xp = array_namespace(x)
        return float(self.alpha) * xp.astype(xp.count_nonzero(x, axis=1), xp.float64)

    def _prox(self, x, step, engine, out):
        return self._dispatch("prox_l0", x, float(np.sqrt(2.0 * step * self.alpha)),
                              out, engine=engine)


class Lq(Penalty):
    """Quasi-norm penalty ``alpha * sum_i |x_i|^q`` with ``0 < q < 1``.

    ``q = 1/2`` (half thresholding, Xu et al. 2012) and ``q = 2/3`` (Cao et al.
    2013) have closed-form proxes; any other ``q`` in (0, 1) uses a safeguarded
    Newton solve of the stationarity equation and compares with zero.

    Parameters
    ----------
    alpha : float, default=1.0
        Regularization strength (``>= 0``).
    q : float, default=0.5
        Exponent in the open interval (0, 1).

    References
    ----------
    .. [1] Z. Xu, X. Chang, F. Xu and H. Zhang, "L1/2 regularization: a
       thresholding representation theory and a fast solver", IEEE TNNLS 23(7), 2012.
    .. [2] W. Cao, J. Sun and Z. Xu, "Fast image deconvolution using closed-form
       thresholding formulas of Lq (q = 1/2, 2/3) regularization", J. Vis. Commun.
       Image R. 24(1), 2013.

    Examples
    --------
    >>> import numpy as np
    >>> from sparsopt.penalties import Lq
    >>> Lq(alpha=0.5, q=0.5).prox(np.array([0.3, 2.0])).round(4)
    array([0.    , 1.8144])
    """

    is_convex = False

    def __init__(self, alpha=1.0, q=0.5):
        self.alpha = alpha
        self.q = q
        self._validate()

    def _validate(self):
        _check_scalar(self.alpha, "alpha", "Lq", lower=0.0)
        _check_scalar(self.q, "q", "Lq", lower=0.0, upper=1.0, lower_inclusive=False,
                      upper_inclusive=False)

    def _variant(self):
        """``"half"`` or ``"twothirds"`` for the closed-form exponents, else ``"generic"``."""
        q = float(self.q)
        if np.isclose(q, 0.5, rtol=0, atol=1e-12):
            return "half"
        if np.isclose(q, 2.0 / 3.0, rtol=0, atol=1e-12):
            return "twothirds"
        return "generic"

    def _kernel_spec(self):
        kind = {"half": _kinds.KIND_LHALF, "twothirds": _kinds.KIND_LTWOTHIRDS,
                "generic": _kinds.KIND_LQ}[self._variant()]
        if kind == _kinds.KIND_LQ:
            return kind, (float(self.alpha), float(self.q))
        return kind, (float(self.alpha),)

    def _value_rows(self, x):
        xp = array_namespace(x)
        return float(self.alpha) * xp.sum(xp.abs(x) ** float(self.q), axis=1)

    def _prox(self, x, step, engine, out):
        c = step * float(self.alpha)
        variant = self._variant()
        if variant == "half":
            return self._dispatch("prox_lhalf", x, c, out, engine=engine)
        if variant == "twothirds":
            return self._dispatch("prox_ltwothirds", x, c, out, engine=engine)
        return self._dispatch("prox_lq", x, c, float(self.q), out, engine=engine)


class CEL0(Penalty):
    """Continuous Exact l0 penalty (Soubies, Blanc-Féraud and Aubert 2015).

    ``value(x) = sum_i phi(a_i, alpha; x_i)`` with
    ``phi(a, lam; u) = lam - a^2/2 (|u| - sqrt(2 lam)/a)^2 1{|u| <= sqrt(2 lam)/a}``.
    With ``a_i`` the norms of the columns of the operator ``A``, the relaxed objective
    ``G(x) = 1/2 ||y - A x||^2 + value(x)`` is an exact relaxation of
    ``1/2 ||y - A x||^2 + alpha ||x||_0``: both have the same minimum value, every
    global minimizer of the l0 objective minimizes ``G``, and a minimizer of ``G``
    becomes an l0 minimizer after zeroing its entries with
    ``0 < |x_i| < sqrt(2 alpha) / a_i``.

    Parameters
    ----------
    alpha : float, default=1.0
        The l0 weight ``lambda`` (``>= 0``); ``phi`` tends to ``alpha`` for large ``|u|``.
    a : float or array-like of shape (n_features,), default=1.0
        Norm of each column of the operator (``> 0``). An array is matched with the
        last axis of ``x``.

    Notes
    -----
    The prox with step ``gamma`` is firm thresholding and exists only when
    ``a_i^2 gamma < 1`` for every ``i``; :meth:`check_step` raises otherwise.

    References
    ----------
    .. [1] E. Soubies, L. Blanc-Féraud and G. Aubert, "A continuous exact l0
       penalty (CEL0) for least squares regularized problem", SIAM J. Imaging
       Sci. 8(3), 2015.

    Examples
    --------
    >>> import numpy as np
    >>> from sparsopt.penalties import CEL0
    >>> CEL0(alpha=0.5, a=1.0).prox(np.array([0.2, 1.0, 3.0]), step=0.5)
    array([0., 1., 3.])
    """

    is_convex = False

    def __init__(self, alpha=1.0, a=1.0):
        self.alpha = alpha
        self.a = a
        self._validate()

    def _a_array(self):
        return np.ascontiguousarray(np.atleast_1d(np.asarray(self.a, dtype=np.float64)))

    def _validate(self):
        _check_scalar(self.alpha, "alpha", "CEL0", lower=0.0)
        a = np.asarray(self.a, dtype=np.float64)
        if a.ndim > 1:
            raise ValueError(f"CEL0: a must be a scalar or a 1-D array, got shape {a.shape}.")
        if not np.all(np.isfinite(a)) or np.any(a <= 0):
            raise ValueError("CEL0: a (column norms) must be finite and > 0.")

    def check_step(self, step):
        amax = float(self._a_array().max())
        if amax * amax * step >= 1.0:
            raise ValueError(
                f"CEL0: the prox needs a**2 * step < 1, got max(a)**2 * step = "
                f"{amax * amax * step:.4g}. Use a step below {1.0 / (amax * amax):.4g} "
                "(e.g. 0.9 / ||A||_2**2 with unit-norm columns)."
            )

    def _kernel_spec(self):
        return _kinds.KIND_CEL0, (float(self.alpha),)

    def _a_on(self, like):
        """``a`` as a float64 array next to ``like`` (cached on the device)."""
        return self._on_device("a", like, self.a, self._a_array, "float64")

    def _value_rows(self, x):
        xp = array_namespace(x)
        a = self._a_on(x)
        lam = float(self.alpha)
        u = xp.abs(x)
        b = math.sqrt(2.0 * lam) / a
        # lam - a^2/2 (u - b)^2 expanded, exact 0 at u = 0
        inside_val = a * math.sqrt(2.0 * lam) * u - 0.5 * a * a * u * u
        return xp.sum(xp.where(u <= b, inside_val, lam), axis=1)

    def _prox(self, x, step, engine, out):
        a = self._a_on(x)
        na, nx = math.prod(a.shape), math.prod(x.shape)  # (torch's .size is a method)
        if na > 1 and nx % na:
            raise ValueError(
                f"CEL0: a has {na} entries but x's last axis does not match it."
            )
        return self._dispatch("prox_cel0", x, a, float(self.alpha), step, out, engine=engine)

    def prox(self, x, step=1.0, engine=None, out=None, check_finite=True):  # noqa: D102
        a = np.asarray(self.a)
        shape = x.shape if hasattr(x, "shape") else np.shape(x)
        if a.ndim == 1 and a.size > 1 and (len(shape) == 0 or shape[-1] != a.size):
            raise ValueError(
                f"CEL0: a has {a.size} entries but x has shape {shape}; its last axis "
                "must match a."
            )
        return super().prox(x, step, engine, out, check_finite)

    prox.__doc__ = Penalty.prox.__doc__


class MCP(Penalty):
    """Minimax concave penalty (Zhang 2010).

    ``p(x) = alpha |x| - x^2 / (2 gamma)`` if ``|x| <= gamma alpha``, else
    ``gamma alpha^2 / 2``.

    Parameters
    ----------
    alpha : float, default=1.0
        Regularization strength (``>= 0``).
    gamma : float, default=3.0
        Concavity parameter (``> 1``); the prox with step ``s`` needs ``gamma > s``.

    References
    ----------
    .. [1] C.-H. Zhang, "Nearly unbiased variable selection under minimax concave
       penalty", Ann. Statist. 38(2), 2010.

    Examples
    --------
    >>> import numpy as np
    >>> from sparsopt.penalties import MCP
    >>> MCP(alpha=1.0, gamma=3.0).prox(np.array([0.5, 2.0, 4.0]))
    array([0. , 1.5, 4. ])
    """

    is_convex = False

    def __init__(self, alpha=1.0, gamma=3.0):
        self.alpha = alpha
        self.gamma = gamma
        self._validate()

    def _validate(self):
        _check_scalar(self.alpha, "alpha", "MCP", lower=0.0)
        _check_scalar(self.gamma, "gamma", "MCP", lower=1.0, lower_inclusive=False)

    def check_step(self, step):
        if self.gamma <= step:
            raise ValueError(
                f"MCP: the prox needs gamma > step, got gamma={self.gamma} and step={step:.4g}."
                " Increase gamma or decrease the step."
            )

    def _kernel_spec(self):
        return _kinds.KIND_MCP, (float(self.alpha), float(self.gamma))

    def _value_rows(self, x):
        xp = array_namespace(x)
        lam, g = float(self.alpha), float(self.gamma)
        u = xp.abs(x)
        return xp.sum(xp.where(u <= g * lam, lam * u - u * u / (2 * g), 0.5 * g * lam * lam),
                      axis=1)

    def _prox(self, x, step, engine, out):
        return self._dispatch("prox_mcp", x, float(self.alpha), float(self.gamma), step,
                              out, engine=engine)


class SCAD(Penalty):
    """Smoothly clipped absolute deviation penalty (Fan and Li 2001).

    ``p(x) = alpha |x|`` for ``|x| <= alpha``,
    ``(2 gamma alpha |x| - x^2 - alpha^2) / (2 (gamma - 1))`` for
    ``alpha < |x| <= gamma alpha``, and ``alpha^2 (gamma + 1) / 2`` beyond.

    Parameters
    ----------
    alpha : float, default=1.0
        Regularization strength (``>= 0``).
    gamma : float, default=3.7
        Shape parameter (``> 2``); the prox with step ``s`` needs ``gamma > 1 + s``.

    References
    ----------
    .. [1] J. Fan and R. Li, "Variable selection via nonconcave penalized
       likelihood and its oracle properties", JASA 96(456), 2001.

    Examples
    --------
    >>> import numpy as np
    >>> from sparsopt.penalties import SCAD
    >>> SCAD(alpha=1.0, gamma=3.7).prox(np.array([0.5, 1.5, 5.0]))
    array([0. , 0.5, 5. ])
    """

    is_convex = False

    def __init__(self, alpha=1.0, gamma=3.7):
        self.alpha = alpha
        self.gamma = gamma
        self._validate()

    def _validate(self):
        _check_scalar(self.alpha, "alpha", "SCAD", lower=0.0)
        _check_scalar(self.gamma, "gamma", "SCAD", lower=2.0, lower_inclusive=False)

    def check_step(self, step):
        if self.gamma <= 1.0 + step:
            raise ValueError(
                f"SCAD: the prox needs gamma > 1 + step, got gamma={self.gamma} and "
                f"step={step:.4g}. Increase gamma or decrease the step."
            )

    def _kernel_spec(self):
        return _kinds.KIND_SCAD, (float(self.alpha), float(self.gamma))

    def _value_rows(self, x):
        xp = array_namespace(x)
        lam, a = float(self.alpha), float(self.gamma)
        u = xp.abs(x)
        mid = (2 * a * lam * u - u * u - lam * lam) / (2 * (a - 1))
        val = xp.where(u <= lam, lam * u, xp.where(u <= a * lam, mid, lam * lam * (a + 1) / 2))
        return xp.sum(val, axis=1)

    def _prox(self, x, step, engine, out):
        return self._dispatch("prox_scad", x, float(self.alpha), float(self.gamma), step,
                              out, engine=engine)


class Log(Penalty):
    """Log penalty ``alpha * sum_i log(1 + |x_i| / eps)`` (reweighted-l1 surrogate).

    Parameters
    ----------
    alpha : float, default=1.0
        Regularization strength (``>= 0``).
    eps : float, default=1.0
        Scale below which the penalty behaves like ``(alpha/eps) |x|`` (``> 0``).

    References
    ----------
    .. [1] E. J. Candès, M. B. Wakin and S. P. Boyd, "Enhancing sparsity by
       reweighted l1 minimization", J. Fourier Anal. Appl. 14, 2008.

    Examples
    --------
    >>> import numpy as np
    >>> from sparsopt.penalties import Log
    >>> Log(alpha=0.5, eps=1.0).prox(np.array([0.2, 3.0])).round(4)
    array([0.    , 2.8708])
    """

    is_convex = False

    def __init__(self, alpha=1.0, eps=1.0):
        self.alpha = alpha
        self.eps = eps
        self._validate()

    def _validate(self):
        _check_scalar(self.alpha, "alpha", "Log", lower=0.0)
        _check_scalar(self.eps, "eps", "Log", lower=0.0, lower_inclusive=False)

    def _kernel_spec(self):
        return _kinds.KIND_LOG, (float(self.alpha), float(self.eps))

    def _value_rows(self, x):
        xp = array_namespace(x)
        return float(self.alpha) * xp.sum(xp.log1p(xp.abs(x) / float(self.eps)), axis=1)

    def _prox(self, x, step, engine, out):
        return self._dispatch("prox_log", x, step * float(self.alpha), float(self.eps),
                              out, engine=engine)


class ElasticNet(Penalty):
    """Elastic-net penalty ``alpha * (l1_ratio ||x||_1 + (1 - l1_ratio)/2 ||x||_2^2)``.

    Same parametrization as :class:`sklearn.linear_model.ElasticNet`.

    Parameters
    ----------
    alpha : float, default=1.0
        Regularization strength (``>= 0``).
    l1_ratio : float, default=0.5
        Mix between l1 (1.0) and squared l2 (0.0), in [0, 1].

    References
    ----------
    .. [1] H. Zou and T. Hastie, "Regularization and variable selection via the
       elastic net", J. R. Stat. Soc. B 67(2), 2005.

    Examples
    --------
    >>> import numpy as np
    >>> from sparsopt.penalties import ElasticNet
    >>> ElasticNet(alpha=1.0, l1_ratio=0.5).prox(np.array([-2.0, 0.2, 3.0]))
    array([-1.        ,  0.        ,  1.66666667])
    """

    def __init__(self, alpha=1.0, l1_ratio=0.5):
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self._validate()

    def _validate(self):
        _check_scalar(self.alpha, "alpha", "ElasticNet", lower=0.0)
        _check_scalar(self.l1_ratio, "l1_ratio", "ElasticNet", lower=0.0, upper=1.0)

    def _kernel_spec(self):
        return _kinds.KIND_ELASTICNET, (float(self.alpha), float(self.l1_ratio))

    def _value_rows(self, x):
        xp = array_namespace(x)
        r = float(self.l1_ratio)
        return float(self.alpha) * (r * xp.sum(xp.abs(x), axis=1)
                                    + 0.5 * (1 - r) * xp.sum(x * x, axis=1))

    def _prox(self, x, step, engine, out):
        a, r = float(self.alpha), float(self.l1_ratio)
        return self._dispatch("prox_elasticnet", x, step * a * r, 1.0 + step * a * (1.0 - r),
                              out, engine=engine)
