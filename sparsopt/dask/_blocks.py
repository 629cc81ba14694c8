"""Blockwise sparsopt functions on ``dask.array``: lazy in, lazy out.

Every function here builds a Dask graph whose block tasks call the in-memory sparsopt
function on one block, so a computed result equals the in-memory one on the same
data. Objects shared by all blocks (a dictionary, its Gram, a fitted estimator, a
shared marginal) enter the graph as **one** task each (``dask.delayed``) that every
block task references by key: they are serialised once, sent to each worker once and
kept there, never copied into each block's task.
"""

from __future__ import annotations

from collections import namedtuple

import dask
import dask.array as da
import numpy as np

__all__ = ["LazyOTResult", "fwht", "sinkhorn", "sinkhorn_newton_sparse",
           "sinkhorn_unbalanced", "sparse_encode", "transform"]


def _as_dask(X, name, owner):
    if isinstance(X, da.Array):
        return X
    if hasattr(X, "__dask_graph__"):
        raise TypeError(f"{owner}: {name} must be a dask.array.Array or an array-like, got "
                        f"{type(X).__name__} (use .to_dask_array(lengths=True) for a "
                        "dask dataframe).")
    arr = np.asarray(X)
    if arr.dtype == object:
        raise TypeError(f"{owner}: {name} must be numeric, got dtype object.")
    return da.from_array(arr)


def _rows_2d(X, name, owner):
    """A 2-D dask array chunked along rows only (one chunk of columns)."""
    X = _as_dask(X, name, owner)
    if X.ndim != 2:
        raise ValueError(f"{owner}: {name} must be 2-D (n_samples, n_features), got shape "
                         f"{X.shape}.")
    if X.numblocks[1] > 1:
        X = X.rechunk({1: -1})
    return X


def _in_memory(obj, name, owner):
    """A numpy array from an array-like or a (small) dask array."""
    if hasattr(obj, "__dask_graph__"):
        obj = dask.compute(obj)[0]
    arr = np.asarray(obj)
    if arr.dtype == object:
        raise TypeError(f"{owner}: {name} must be numeric, got dtype object.")
    return arr


def _shared(obj):
    """One graph task holding ``obj``, referenced by key from every block task."""
    return dask.delayed(obj, pure=True, traverse=False)


# ---------------------------------------------------------------- sparse coding

def _encode_block(X, dictionary, gram, init, kwargs):
    from ..decomposition import sparse_encode as _encode
    return _encode(X, dictionary, gram=gram, init=init, **kwargs)


def sparse_encode(X, dictionary, *, gram=None, cov=None, init=None, **kwargs):
    """Sparse codes of the rows of a Dask array, block of rows by block of rows.

    The blockwise form of :func:`sparsopt.decomposition.sparse_encode`: each row
    block is encoded by it (with the same keyword arguments), so the computed codes
    equal the in-memory codes of the whole array. The dictionary and its Gram
    ``dictionary @ dictionary.T`` (computed here once, as the in-memory function
    does) are each a single task of the graph that every block task refers to: they
    are serialised once and sent once to each worker, not with every block.

    Parameters
    ----------
    X : dask.array.Array or array-like of shape (n_samples, n_features)
        Signals, chunked along rows (column chunks are merged into one). A NumPy
        array is wrapped with :func:`dask.array.from_array`. float32 stays float32.
    dictionary : array-like of shape (n_components, n_features)
        Atoms as rows (a small Dask array is computed first).
    gram : array-like of shape (n_components, n_components), default=None
        Precomputed ``dictionary @ dictionary.T`` (``None``: computed here once).
    cov : None
        Not supported (it is per sample): ``ValueError`` if given.
    init : dask.array.Array or array-like of shape (n_samples, n_components), default=None
        Warm start; rechunked to the row chunks of ``X``.
    **kwargs
        Any other keyword of :func:`sparsopt.decomposition.sparse_encode`
        (``algorithm``, ``alpha``, ``penalty``, ``solver``, ``n_nonzero_coefs``,
        ``tol``, ``max_iter``, ``n_jobs`` (threads within a block), ``engine``...).

    Returns
    -------
    codes : dask.array.Array of shape (n_samples, n_components)
        Lazy codes, with the row chunks of ``X``; float32 for float32 ``X``, else
        float64.

    Raises
    ------
    ValueError
        If ``X`` or ``dictionary`` is not 2-D, their numbers of features differ,
        ``gram`` has the wrong shape or ``cov`` is given.

    See Also
    --------
    sparsopt.decomposition.sparse_encode : The in-memory function run on each block.
    transform : ``SparseCoder.transform`` (or any fitted estimator's) over row blocks.

    References
    ----------
    .. [1] M. Rocklin, "Dask: parallel computation with blocked algorithms and task
       scheduling", Proc. 14th Python in Science Conference (SciPy), 2015.

    Examples
    --------
    >>> import dask.array as da
    >>> import numpy as np
    >>> from sparsopt.datasets import make_sparse_coding_problem
    >>> from sparsopt.decomposition import sparse_encode as encode_in_memory
    >>> from sparsopt.dask import sparse_encode
    >>> X, D, _ = make_sparse_coding_problem(50, 16, 32, 3, noise=0.01, random_state=0)
    >>> codes = sparse_encode(da.from_array(X, chunks=(20, 16)), D, alpha=0.05,
    ...                       penalty="l1")
    >>> codes.chunks
    ((20, 20, 10), (32,))
    >>> np.allclose(codes.compute(), encode_in_memory(X, D, alpha=0.05, penalty="l1"))
    True
    """
    owner = "sparsopt.dask.sparse_encode"
    if cov is not None:
        raise ValueError(f"{owner}: cov (one column per sample) is not supported; leave "
                         "it None (it is computed per block where an algorithm needs it).")
    X = _rows_2d(X, "X", owner)
    D = _in_memory(dictionary, "dictionary", owner)
    if D.ndim != 2:
        raise ValueError(f"{owner}: dictionary must be 2-D (n_components, n_features), "
                         f"got shape {D.shape}.")
    if D.shape[1] != X.shape[1]:
        raise ValueError(f"{owner}: dictionary has {D.shape[1]} features but X has "
                         f"{X.shape[1]}.")
    k = D.shape[0]
    dt = np.float32 if X.dtype == np.float32 else np.float64
    if gram is None:
        # the in-memory coders compute this Gram themselves (same formula); "lars" and
        # "threshold" (scikit-learn's) form theirs differently, so leave it to them
        if kwargs.get("algorithm") not in ("lars", "threshold"):
            gram = D.astype(dt) @ D.astype(dt).T
    else:
        gram = _in_memory(gram, "gram", owner)
        if gram.shape != (k, k):
            raise ValueError(f"{owner}: gram must have shape {(k, k)}, got {gram.shape}.")
    args = [X, "ij", _shared(D), None, None if gram is None else _shared(gram), None]
    if init is not None:
        init = _as_dask(init, "init", owner)
        if init.shape != (X.shape[0], k):
            raise ValueError(f"{owner}: init must have shape {(X.shape[0], k)}, got "
                             f"{init.shape}.")
        init = init.rechunk((X.chunks[0], -1))
        args += [init, "ik"]
        new_axes = {}
    else:
        args += [None, None]
        new_axes = {"k": k}
    return da.blockwise(_encode_block, "ik", *args, _shared(kwargs), None,
                        new_axes=new_axes, concatenate=True, meta=np.empty((0, 0), dt),
                        name="sparse_encode-" + dask.base.tokenize(X, D, gram, init,
                                                                    kwargs))


# ---------------------------------------------------------------- estimators

def _method_block(X, estimator, method):
    return getattr(estimator, method)(X)


def transform(estimator, X, *, method="transform"):
    """``estimator.transform`` of a fitted estimator over the row blocks of a Dask array.

    For estimators whose transform treats rows independently: a fitted
    :class:`~sparsopt.decomposition.SparseCoder`, the dictionary learners
    (codes of new signals), :class:`~sparsopt.completion.MatrixCompletion` (NaN
    entries of new rows filled from the model)... The estimator is one task of the
    graph, serialised once and sent once to each worker. The computed result equals
    ``getattr(estimator, method)(X.compute())``.

    Parameters
    ----------
    estimator : fitted estimator
        Must have ``method``; it is not refitted nor modified.
    X : dask.array.Array or array-like of shape (n_samples, n_features)
        Rows to transform, chunked along rows (column chunks are merged into one).
    method : str, default="transform"
        The row-wise method to map: ``"transform"``, ``"predict"``,
        ``"inverse_transform"``, ``"decision_function"``...

    Returns
    -------
    Y : dask.array.Array of shape (n_samples, n_outputs) or (n_samples,)
        Lazy output with the row chunks of ``X``; its dtype and width are those of
        the method on one row of zeros (computed eagerly, once).

    Raises
    ------
    TypeError
        If ``estimator`` has no ``method``.
    sklearn.exceptions.NotFittedError
        If the estimator is not fitted (raised by its method, eagerly).

    See Also
    --------
    sparse_encode : Codes against a bare dictionary.

    Examples
    --------
    >>> import dask.array as da
    >>> import numpy as np
    >>> from sparsopt.datasets import make_sparse_coding_problem
    >>> from sparsopt.decomposition import SparseCoder
    >>> from sparsopt.dask import transform
    >>> X, D, _ = make_sparse_coding_problem(40, 16, 24, 3, noise=0.01, random_state=0)
    >>> coder = SparseCoder(D, penalty="l0", alpha=0.01).fit(X)
    >>> Y = transform(coder, da.from_array(X, chunks=15))
    >>> np.allclose(Y.compute(), coder.transform(X))
    True
    """
    owner = "sparsopt.dask.transform"
    if not isinstance(method, str) or not callable(getattr(estimator, method, None)):
        raise TypeError(f"{owner}: estimator {type(estimator).__name__} has no method "
                        f"{method!r}.")
    X = _rows_2d(X, "X", owner)
    probe = np.asarray(getattr(estimator, method)(np.zeros((1, X.shape[1]), X.dtype)))
    est = dask.delayed(estimator, pure=False, traverse=False)  # a fresh key per call
    name = f"{method}-" + dask.base.tokenize(X, est.key, method)
    if probe.ndim == 1:
        return da.blockwise(_method_block, "i", X, "ij", est, None, method, None,
                            concatenate=True, meta=np.empty((0,), probe.dtype), name=name)
    if probe.ndim != 2:
        raise ValueError(f"{owner}: {method} returned a {probe.ndim}-D array; only 1-D "
                         "and 2-D row-wise outputs are mapped.")
    return da.blockwise(_method_block, "ik", X, "ij", est, None, method, None,
                        new_axes={"k": probe.shape[1]}, concatenate=True,
                        meta=np.empty((0, 0), probe.dtype), name=name)


# ---------------------------------------------------------------- fwht

def _fwht_block(x, axis, normalize, engine):
    from ..transforms import fwht as _fwht
    return _fwht(x, axis=axis, normalize=normalize, engine=engine)


def fwht(x, *, axis=-1, normalize=None, engine=None, rechunk=True):
    """Fast Walsh-Hadamard transform of a Dask array along one axis.

    The blockwise form of :func:`sparsopt.transforms.fwht`: every block holds the
    whole transform axis and is transformed in memory; the other axes are a batch
    chunked as they come.

    Parameters
    ----------
    x : dask.array.Array or array-like of shape (..., n, ...)
        Input; ``n`` (its length along ``axis``) must be a power of two. float32 stays
        float32 (dtypes as in :func:`sparsopt.transforms.fwht`).
    axis : int, default=-1
        Axis to transform.
    normalize : {None, "ortho"}, default=None
        Scaling: none, or ``1 / sqrt(n)``.
    engine : {"auto", "numpy", "numba"}, default=None
        Kernel backend of each block.
    rechunk : bool, default=True
        If ``axis`` is split into several chunks, merge them into one (a shuffle of
        the data); ``False`` raises ``ValueError`` instead.

    Returns
    -------
    X : dask.array.Array of the shape of ``x``
        The lazy transform.

    Raises
    ------
    ValueError
        If the length along ``axis`` is not a power of two, ``axis`` is out of range
        or (``rechunk=False``) ``axis`` has several chunks.

    See Also
    --------
    sparsopt.transforms.fwht : The in-memory transform run on each block.

    References
    ----------
    .. [1] M. Fino and V. Algazi, "Unified matrix treatment of the fast Walsh-Hadamard
       transform", IEEE Trans. Computers C-25(11), 1976.

    Examples
    --------
    >>> import dask.array as da
    >>> import numpy as np
    >>> from sparsopt.dask import fwht
    >>> x = np.arange(24.0).reshape(3, 8)
    >>> X = fwht(da.from_array(x, chunks=(2, 8)), axis=1)
    >>> X.compute()[0, :4]
    array([28., -4., -8.,  0.])
    """
    from ..transforms import fwht as _fwht

    owner = "sparsopt.dask.fwht"
    x = _as_dask(x, "x", owner)
    if not isinstance(axis, (int, np.integer)) or isinstance(axis, bool) or \
            not -x.ndim <= axis < x.ndim:
        raise ValueError(f"{owner}: axis must be an integer in [{-x.ndim}, {x.ndim}), "
                         f"got {axis!r}.")
    axis = int(axis) % x.ndim
    # eager validation (power of two, dtype) and the output dtype, on one lane of zeros
    lane = [1] * x.ndim
    lane[axis] = x.shape[axis]
    dt = _fwht(np.zeros(lane, dtype=x.dtype), axis=axis, normalize=normalize,
               engine=engine).dtype
    if x.numblocks[axis] > 1:
        if not rechunk:
            raise ValueError(f"{owner}: axis={axis} is split into {x.numblocks[axis]} "
                             "chunks; the transform axis must be one chunk (rechunk "
                             "with x.rechunk({axis: -1}) or pass rechunk=True).")
        x = x.rechunk({axis: -1})
    return x.map_blocks(_fwht_block, axis, normalize, engine,
                        meta=np.empty((0,) * x.ndim, dt),
                        name="fwht-" + dask.base.tokenize(x, axis, normalize, engine))


# ---------------------------------------------------------------- transport

LazyOTResult = namedtuple("LazyOTResult",
                          ["plan", "f", "g", "cost", "n_iter", "stop_crit", "converged"])
LazyOTResult.__doc__ = """Lazy fields of a batch of transport problems (Dask arrays).

``plan`` (B, n, m), ``f`` (B, n), ``g`` (B, m), ``cost``, ``n_iter``, ``stop_crit``
and ``converged`` (B,): the fields of the in-memory batched
:class:`~sparsopt.ot.OTResult`, computed by one solve task per chunk of problems
that all fields share (``dask.compute(*res)`` solves each chunk once)."""

_OT_FIELDS = LazyOTResult._fields


def _solve_block(solver, a, b, M, reg, args, kwargs):
    return solver(a, b, M, reg, *args, **kwargs)


def _marginal(v, length, name, M, owner):
    """None, a shared 1-D marginal (one graph task) or a stack chunked as M."""
    if v is None:
        return lambda i: None
    if isinstance(v, da.Array) and v.ndim == 2:
        if v.shape != (M.shape[0], length):
            raise ValueError(f"{owner}: {name} must have shape ({length},) or "
                             f"{(M.shape[0], length)}, got {v.shape}.")
        blocks = v.rechunk((M.chunks[0], -1)).to_delayed()[:, 0]
        return lambda i: blocks[i]
    arr = _in_memory(v, name, owner)
    if arr.ndim == 1:
        if arr.shape[0] != length:
            raise ValueError(f"{owner}: {name} must have length {length}, got "
                             f"{arr.shape[0]}.")
        shared = _shared(arr)
        return lambda i: shared
    if arr.ndim == 2:
        return _marginal(da.from_array(arr), length, name, M, owner)
    raise ValueError(f"{owner}: {name} must be 1-D or 2-D, got shape {arr.shape}.")


def _batched(solver, owner, a, b, M, reg, args, kwargs):
    if kwargs.get("init") is not None:
        raise ValueError(f"{owner}: init is not supported over a Dask stack; solve "
                         "in memory to warm start.")
    if kwargs.get("callback") is not None:
        raise ValueError(f"{owner}: callback is not supported over a Dask stack (it "
                         "would run on the workers).")
    M = _as_dask(M, "M", owner)
    if M.ndim != 3:
        raise ValueError(f"{owner}: M must be a 3-D stack of costs (B, n, m), got shape "
                         f"{M.shape}.")
    B, n, m = M.shape
    if M.numblocks[1] > 1 or M.numblocks[2] > 1:
        M = M.rechunk({1: -1, 2: -1})
    # eager check of the arguments and the output dtypes, on one small problem
    probe = solver(None, None, np.zeros((1, 2, 2), dtype=M.dtype), reg, *args,
                   **{k: v for k, v in kwargs.items() if k not in ("n_jobs", "verbose")})
    dtypes = {f: np.asarray(getattr(probe, f)).dtype for f in _OT_FIELDS}
    a_of = _marginal(a, n, "a", M, owner)
    b_of = _marginal(b, m, "b", M, owner)
    solve = dask.delayed(_solve_block, pure=True)
    shared_kwargs = _shared(kwargs)
    fields = {f: [] for f in _OT_FIELDS}
    for i, Mi in enumerate(M.to_delayed()[:, 0, 0]):
        bi = M.chunks[0][i]
        res = solve(solver, a_of(i), b_of(i), Mi, reg, args, shared_kwargs)
        shapes = {"plan": (bi, n, m), "f": (bi, n), "g": (bi, m)}
        for f in _OT_FIELDS:
            part = dask.delayed(getattr, pure=True)(res, f)
            if f not in shapes:
                part = dask.delayed(np.asarray, pure=True)(part)
            fields[f].append(da.from_delayed(part, shapes.get(f, (bi,)), dtype=dtypes[f]))
    return LazyOTResult(**{f: da.concatenate(parts, axis=0) if len(parts) > 1 else parts[0]
                           for f, parts in fields.items()})


_STACK_DOC = """

    The stack ``M`` of shape ``(B, n, m)`` is solved chunk of problems by chunk of
    problems (its chunks along the first axis), each chunk by the in-memory batched
    solver, so the computed fields equal those of the in-memory call on the whole
    stack. ``a`` and ``b`` are ``None`` (uniform), one marginal shared by all problems
    (one task of the graph) or a stack ``(B, n)`` / ``(B, m)`` chunked like ``M``.
    Every other keyword is the in-memory solver's (``init`` and ``callback`` are
    refused). Returns a :class:`LazyOTResult` of Dask arrays; the arguments are
    checked eagerly on one small problem.

    References
    ----------
    .. [1] M. Cuturi, "Sinkhorn distances: lightspeed computation of optimal
       transport", NeurIPS 2013.

    Examples
    --------
    >>> import dask
    >>> import dask.array as da
    >>> import numpy as np
    >>> from sparsopt import ot
    >>> from sparsopt.dask import sinkhorn
    >>> M = np.random.default_rng(0).random((10, 4, 5))
    >>> res = sinkhorn(None, None, da.from_array(M, chunks=(3, 4, 5)), 0.1)
    >>> plan, cost = dask.compute(res.plan, res.cost)
    >>> bool(np.array_equal(plan, ot.sinkhorn(None, None, M, 0.1).plan))
    True
"""


def sinkhorn(a, b, M, reg, **kwargs):
    """Batched :func:`sparsopt.ot.sinkhorn` over a Dask stack of cost matrices."""
    from .. import ot
    return _batched(ot.sinkhorn, "sparsopt.dask.sinkhorn", a, b, M, reg, (), kwargs)


def sinkhorn_unbalanced(a, b, M, reg, reg_m, **kwargs):
    """Batched :func:`sparsopt.ot.sinkhorn_unbalanced` over a Dask stack of costs."""
    from .. import ot
    return _batched(ot.sinkhorn_unbalanced, "sparsopt.dask.sinkhorn_unbalanced", a, b, M,
                    reg, (reg_m,), kwargs)


def sinkhorn_newton_sparse(a, b, M, reg, **kwargs):
    """Batched :func:`sparsopt.ot.sinkhorn_newton_sparse` over a Dask stack of costs."""
    from .. import ot
    return _batched(ot.sinkhorn_newton_sparse, "sparsopt.dask.sinkhorn_newton_sparse", a,
                    b, M, reg, (), kwargs)


for _f in (sinkhorn, sinkhorn_unbalanced, sinkhorn_newton_sparse):
    _f.__doc__ += _STACK_DOC
del _f
