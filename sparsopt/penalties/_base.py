"""Base class of all penalties: parameters, validation, dispatch of the prox kernel."""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from ..backends import (
    array_namespace,
    asarray_on,
    device,
    dispatch,
    is_numpy_namespace,
    namespace_name,
)
from ..utils._params import ParamsMixin
from ..utils.validation import check_scalar as _check_scalar


def _as_float_array(x):
    """Return ``x`` as a float32/float64 array of its own namespace (NumPy, CuPy, ...).

    float32 stays float32; anything else becomes float64.
    """
    arr = x if hasattr(x, "dtype") and hasattr(x, "shape") else np.asarray(x)
    if isinstance(arr, np.ndarray):
        if arr.dtype not in (np.float32, np.float64):
            arr = arr.astype(np.float64)
        return arr
    xp = array_namespace(arr)
    if arr.dtype not in (xp.float32, xp.float64):
        arr = xp.astype(arr, xp.float64)
    return arr


class PenaltySpec(NamedTuple):
    """What a coordinate-wise kernel needs to know about a separable penalty.

    The one channel from a penalty to the kernels: a solver asks
    :meth:`Penalty.spec` and passes ``kind``, ``params`` and the bounds to its kernel,
    which applies the scalar prox of that kind (``backends._numba.prox.prox_apply``)
    and clips to ``[lower, upper]``. No solver branches on penalty classes.

    Attributes
    ----------
    kind : int
        One of the ``KIND_*`` codes of :mod:`sparsopt.backends._kinds`.
    params : ndarray of shape (n_params,)
        float64 parameters of that kind, ``alpha`` first.
    lower, upper : float
        Box constraint composed with the penalty (``-inf``/``inf`` when none).
    is_convex : bool
        Whether the penalty (with its constraint) is convex.
    """

    kind: int
    params: np.ndarray
    lower: float
    upper: float
    is_convex: bool


class GroupSpec(NamedTuple):
    """What a block (group-wise) kernel needs to know about a group-separable penalty.

    The penalty is ``sum_g thresholds[g] * ||x_g||_2`` over disjoint groups (group ``g``
    holds the features ``indices[indptr[g]:indptr[g+1]]``; features in no group are not
    penalized), optionally under the orthant constraint ``x >= 0`` (``lower == 0``). The
    prox of one group with step ``s`` is block soft thresholding:
    ``max(1 - s * thresholds[g] / ||v_g||, 0) * v_g`` (after ``max(v_g, 0)`` when
    ``lower == 0``).

    Attributes
    ----------
    indptr : ndarray of int64, shape (n_groups + 1,)
    indices : ndarray of int64, shape (n_grouped_features,)
    thresholds : ndarray of float64, shape (n_groups,)
        ``alpha * w_g``.
    lower : float
        0.0 under ``Positive()``, ``-inf`` otherwise.
    """

    indptr: np.ndarray
    indices: np.ndarray
    thresholds: np.ndarray
    lower: float


class Penalty(ParamsMixin):
    """Base class of penalties ``alpha * pen(x)``.

    Conventions shared by every penalty:

    * the objective is ``E(x) = loss(x) + value(x)``, where ``value`` already
      contains the regularization strength ``alpha``;
    * ``prox(t, step) = argmin_x 1/2 ||x - t||^2 + step * value(x)``;
    * arrays of any shape are accepted; non-separable penalties act on the last axis
      (each row of a 2-D batch of codes is penalized independently).

    Subclasses list their constructor parameters in ``__init__`` (scikit-learn
    style), implement ``_validate``, ``_value_rows`` and ``_prox``, and set the
    class attributes describing their capabilities.
    """

    #: the penalty is convex (proximal gradient converges to a global minimum)
    is_convex = True
    #: the penalty is a sum of one-dimensional terms (coordinate-wise prox)
    is_separable = True
    #: methods a solver can rely on
    capabilities = frozenset({"value", "prox", "spec"})

    def _validate(self):  # pragma: no cover - overridden
        pass

    # ------------------------------------------------------------------ interface
    def _check_finite(self, x, where):
        from .._core.loop import all_finite  # lazily: the loop imports scikit-learn

        if not all_finite(x):
            raise ValueError(
                f"{type(self).__name__}.{where}: x contains NaN or infinity. Remove or impute "
                "them, or pass check_finite=False if you handle them yourself."
            )

    def value(self, x, per_row=False, check_finite=True):
        """Penalty value ``alpha * pen(x)``.

        Parameters
        ----------
        x : ndarray of shape (..., n_features)
            Coefficients. For a 2-D batch, row ``i`` is one vector of coefficients.
            Any array-API array (CuPy, ...) is computed in its namespace, on its device.
        per_row : bool, default=False
            If True, return one value per vector (summing over the last axis only).
        check_finite : bool, default=True
            Raise ``ValueError`` if ``x`` contains NaN or infinity.

        Returns
        -------
        value : float or ndarray of shape (...)
            Total value (a host float: one synchronization for device arrays), or one
            value per row if ``per_row`` (a float64 array of ``x``'s namespace). ``inf``
            outside the domain of constraint penalties.
        """
        x = _as_float_array(x)
        if check_finite:
            self._check_finite(x, "value")
        if isinstance(x, np.ndarray):
            if x.ndim and x.shape[-1] == 0:  # no coefficients: the penalty is 0
                rows = np.zeros(int(np.prod(x.shape[:-1])))
            else:
                x2 = x.reshape(-1, x.shape[-1]) if x.ndim else x.reshape(1, 1)
                rows = np.asarray(self._value_rows(x2), dtype=np.float64)
            if per_row:
                return rows.reshape(x.shape[:-1]) if x.ndim else float(rows[0])
            return float(rows.sum())
        xp = array_namespace(x)
        if x.ndim and x.shape[-1] == 0:
            rows = xp.zeros(int(np.prod(x.shape[:-1])), dtype=xp.float64, device=device(x))
        else:
            x2 = xp.reshape(x, (-1, x.shape[-1]) if x.ndim else (1, 1))
            rows = xp.astype(self._value_rows(x2), xp.float64)
        if per_row:
            return xp.reshape(rows, x.shape[:-1]) if x.ndim else float(rows[0])
        return float(xp.sum(rows))

    def prox(self, x, step=1.0, engine=None, out=None, check_finite=True):
        """Proximal operator ``argmin_z 1/2 ||z - x||^2 + step * value(z)``.

        Parameters
        ----------
        x : ndarray of shape (..., n_features)
            Point at which the prox is evaluated. float32 stays float32. Any array-API
            array (CuPy, ...) is processed in its namespace, on its device (CuPy
            kernel where registered, else the namespace-generic NumPy reference).
        step : float, default=1.0
            Step size (positive).
        engine : {"auto", "numpy", "numba", "cupy"} or None
            Kernel backend; ``None`` uses the global configuration.
        out : ndarray or None, default=None
            C-contiguous array of the same shape and dtype as ``x`` to write the
            result into (it may be ``x`` itself); an array of ``x``'s namespace for
            non-NumPy ``x``. Solvers pass a buffer to avoid an allocation per iteration.
        check_finite : bool, default=True
            Raise ``ValueError`` if ``x`` contains NaN or infinity. Solvers that
            validated their inputs pass ``False`` in their inner loops.

        Returns
        -------
        z : ndarray of the same shape and dtype as ``x`` (``out`` if given)
        """
        step = _check_scalar(step, "step", type(self).__name__, lower=0.0,
                             lower_inclusive=False)
        self.check_step(step)
        x = _as_float_array(x)
        if check_finite:
            self._check_finite(x, "prox")
        shape = x.shape
        if not isinstance(x, np.ndarray):
            return self._prox_namespace(x, step, engine, out)
        xp = np
        if x.size == 0:
            res = xp.empty_like(x) if out is None else out
            return res
        if not self.is_separable and x.ndim == 0:
            raise ValueError(f"{type(self).__name__}: x must have at least one dimension.")
        flat_shape = (-1,) if self.is_separable else (-1, shape[-1] if shape else 1)
        flat = xp.ascontiguousarray(x).reshape(flat_shape)
        if out is None:
            res = xp.empty_like(flat)
        else:
            if out.shape != shape or out.dtype != x.dtype or not out.flags.c_contiguous:
                raise ValueError(
                    f"{type(self).__name__}.prox: out must be C-contiguous with shape {shape} "
                    f"and dtype {x.dtype}, got shape {out.shape} and dtype {out.dtype}."
                )
            res = out.reshape(flat_shape)
        self._prox(flat, step, engine, res)
        return out if out is not None else res.reshape(shape)

    def _prox_namespace(self, x, step, engine, out):
        """:meth:`prox` of a non-NumPy array, in its namespace (no ``.flags`` check)."""
        xp = array_namespace(x, out)
        shape = x.shape
        if out is not None and (out.shape != shape or out.dtype != x.dtype):
            raise ValueError(
                f"{type(self).__name__}.prox: out must have shape {shape} and dtype "
                f"{x.dtype}, got shape {out.shape} and dtype {out.dtype}."
            )
        if math.prod(x.shape) == 0:  # (torch's .size is a method)
            return xp.empty_like(x) if out is None else out
        if not self.is_separable and x.ndim == 0:
            raise ValueError(f"{type(self).__name__}: x must have at least one dimension.")
        if self.is_separable or x.ndim == 2:  # elementwise kernels take any shape
            flat = x
        else:
            flat = xp.reshape(x, (-1, shape[-1]))
        if out is not None and out.shape == flat.shape:
            self._prox(flat, step, engine, out)
            return out
        # a reshaped ``out`` need not be a view in every namespace: a buffer, then a copy
        res = xp.empty_like(flat)
        self._prox(flat, step, engine, res)
        if out is None:
            return xp.reshape(res, shape)
        out[...] = xp.reshape(res, shape)
        return out

    def _on_device(self, name, like, src, make, dtype):
        """Host parameter data as an array next to ``like``, cached per namespace and device.

        ``src`` is the host object the data derives from (the cache entry is rebuilt
        when it changes identity, e.g. after ``set_params``); ``make()`` builds the host
        array; ``dtype`` is a name (``"float64"``, ``"int64"``). NumPy ``like``: the host
        array itself. Used by the penalties so that a solver loop moves nothing to the
        device after its first iteration.
        """
        if isinstance(like, np.ndarray):  # the NumPy road, without a namespace lookup
            return make()
        xp = array_namespace(like)
        if is_numpy_namespace(xp):
            return make()
        return self._device_cached((name, dtype), xp, like, src,
                                   lambda: asarray_on(make(), like, dtype=getattr(xp, dtype)))

    def _device_cached(self, name, xp, like, src, build):
        """``build()`` (arrays of ``xp`` next to ``like``), cached per ``name``, namespace
        and device until ``src`` changes identity (not pickled)."""
        cache = self.__dict__.setdefault("_device_cache", {})
        key = (name, namespace_name(xp), str(device(like)))
        hit = cache.get(key)
        if hit is None or hit[0] is not src:
            hit = cache[key] = (src, build())
        return hit[1]

    def __getstate__(self):
        state = self.__dict__.copy()
        state.pop("_device_cache", None)
        return state

    def check_step(self, step):
        """Raise ``ValueError`` if the prox with this step is not well defined.

        Nonconvex penalties need the step small enough for the prox objective to be
        well posed (e.g. ``CEL0`` needs ``a^2 step < 1``); convex ones accept any
        positive step.
        """
        return None

    def spec(self, solver="this solver"):
        """The kernel spec of a separable penalty (see :class:`PenaltySpec`).

        Parameters
        ----------
        solver : str
            Name of the asking solver, for the error message.

        Returns
        -------
        spec : PenaltySpec

        Raises
        ------
        TypeError
            If the penalty has no coordinate-wise kernel (it is not separable): the
            message names the penalty, the solver and the solvers that only need a prox.

        Examples
        --------
        >>> from sparsopt.penalties import MCP, Positive
        >>> s = (MCP(alpha=0.1, gamma=3.0) + Positive()).spec()
        >>> s.params.tolist(), s.lower, s.upper, s.is_convex
        ([0.1, 3.0], 0.0, inf, False)
        """
        kernel_spec = getattr(self, "_kernel_spec", None)
        if not self.is_separable or kernel_spec is None:
            raise TypeError(
                f"{solver} needs a separable penalty with a coordinate-wise kernel (l1, l0, "
                f"lq, cel0, mcp, scad, log, elasticnet, optionally + Positive() or Box()); "
                f"{type(self).__name__} is not separable. Use proximal_gradient, which only "
                "needs its prox."
            )
        kind, params = kernel_spec()
        lower, upper = self._bounds()
        return PenaltySpec(int(kind), np.asarray(params, dtype=np.float64), lower, upper,
                           bool(self.is_convex))

    def group_spec(self, n_features, solver="this solver"):
        """The block spec of a group-separable penalty (see :class:`GroupSpec`).

        The group channel of block solvers (working-set block coordinate descent, block
        coordinate descent with blocks equal to groups), as :meth:`spec` is the coordinate
        channel. Only :class:`~sparsopt.penalties.GroupL21` (optionally ``+ Positive()``)
        has one.

        Parameters
        ----------
        n_features : int
            Length of the coefficient vector (``groups`` given as a size are laid out on it).
        solver : str
            Name of the asking solver, for the error message.

        Raises
        ------
        TypeError
            If the penalty is not a sum of group norms over disjoint groups.

        Examples
        --------
        >>> from sparsopt.penalties import GroupL21
        >>> g = GroupL21(alpha=0.5, groups=2, weights=[1.0, 2.0]).group_spec(4)
        >>> g.indptr.tolist(), g.indices.tolist(), g.thresholds.tolist(), g.lower
        ([0, 2, 4], [0, 1, 2, 3], [0.5, 1.0], -inf)
        """
        group = getattr(self, "_group_spec", None)
        if group is None:
            raise TypeError(
                f"{solver}: the group kernels need a sum of group norms over disjoint groups "
                f"(GroupL21, optionally + Positive()); {type(self).__name__} is not one."
            )
        indptr, indices, thresholds = group(n_features)
        lower = self._bounds()[0]
        return GroupSpec(np.asarray(indptr, dtype=np.int64), np.asarray(indices, dtype=np.int64),
                         np.asarray(thresholds, dtype=np.float64), float(lower))

    def _bounds(self):
        """Box constraint composed with the penalty (none by default)."""
        return -np.inf, np.inf

    def __add__(self, other):
        """``penalty + Positive()`` (or ``+ Box(...)``): the penalty under a constraint."""
        from .constraints import Box, Constrained

        if isinstance(other, Box) and not isinstance(self, (Box, Constrained)):
            return Constrained(self, other)
        if isinstance(self, Box) and isinstance(other, Penalty) \
                and not isinstance(other, (Box, Constrained)):
            return Constrained(other, self)
        raise TypeError(
            f"Only a constraint (Positive, Box) can be added to a penalty, once; got "
            f"{type(self).__name__} + {type(other).__name__}."
        )

    __radd__ = __add__

    def _dispatch(self, op, *args, engine=None, **kwargs):
        return dispatch(op, *args, engine=engine, **kwargs)
