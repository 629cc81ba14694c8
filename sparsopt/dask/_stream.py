"""Streaming fits: ``partial_fit`` block by block from a Dask array or dataframe."""

from __future__ import annotations

import dask
import dask.array as da
import numpy as np
from sklearn.utils import check_random_state

__all__ = ["fit_incremental"]


def _row_blocks(X, name, owner):
    """Delayed row blocks of a Dask array / dataframe / series (or one NumPy block)."""
    if isinstance(X, da.Array):
        if X.ndim == 2 and X.numblocks[1] > 1:
            X = X.rechunk({1: -1})
        if X.ndim not in (1, 2):
            raise ValueError(f"{owner}: {name} must be 1-D or 2-D, got shape {X.shape}.")
        blocks = X.to_delayed()
        return list(blocks[:, 0] if X.ndim == 2 else blocks), X.chunks[0]
    if hasattr(X, "__dask_graph__") and hasattr(X, "npartitions"):  # dask dataframe/series
        return list(X.to_delayed()), None
    if hasattr(X, "__dask_graph__"):
        raise TypeError(f"{owner}: {name} must be a dask array, dataframe or series, got "
                        f"{type(X).__name__}.")
    return None, None


def _default_client():
    try:
        from distributed import default_client
        return default_client()
    except (ImportError, ValueError):
        return None


def fit_incremental(estimator, X, y=None, *, classes=None, shuffle_blocks=False,
                    random_state=None, prefetch=True, **fit_params):
    """Fit an estimator with ``partial_fit`` on the blocks of a Dask array or dataframe.

    Blocks (row chunks of a Dask array, partitions of a Dask dataframe) are computed
    one at a time, in order (or in a random order of blocks with
    ``shuffle_blocks=True``), and passed to ``estimator.partial_fit``: the whole data
    set is never in memory, and the fitted model equals the one of the in-memory loop
    ``for Xb, yb in blocks: estimator.partial_fit(Xb, yb)`` over the same blocks.
    With a ``distributed`` client active and ``prefetch=True`` the next block is
    computed on the cluster while the current one is fitted (at most two blocks in
    the driver's memory).

    Works for every estimator with an honest ``partial_fit``:
    :class:`~sparsopt.decomposition.MiniBatchDictionaryLearning`,
    :class:`~sparsopt.decomposition.OrthogonalDictionaryLearning`, the unfolded
    networks (``LISTA``, ``UnfoldedISTA``...), ``SparseMLPClassifier`` /
    ``SparseMLPRegressor``, ``MLPPruner``, and scikit-learn's incremental estimators.
    This is sparsopt's own form of dask-ml's ``Incremental`` wrapper (which does not
    import with scikit-learn >= 1.7).

    Parameters
    ----------
    estimator : estimator with ``partial_fit``
        Updated in place (a fresh or an already partially fitted one).
    X : dask.array.Array or dask.dataframe.DataFrame of shape (n_samples, n_features)
        Data, in row blocks (a Dask array's column chunks are merged into one). A
        NumPy array or pandas frame is one block. Dataframe partitions are passed as
        pandas frames (feature names kept).
    y : dask.array.Array, dask Series or array-like of shape (n_samples,), default=None
        Targets; a Dask array is rechunked to the row chunks of ``X``; a Dask
        series/dataframe must have the partitions of ``X``; a NumPy array is cut at
        the row chunks of ``X`` (which must then be known).
    classes : array-like, default=None
        All the classes, passed to every ``partial_fit`` call (classifiers need them
        on the first call).
    shuffle_blocks : bool, default=False
        Visit the blocks in a random order (the rows inside a block keep their order).
    random_state : int, RandomState instance or None, default=None
        Seed of the block order when ``shuffle_blocks=True``.
    prefetch : bool, default=True
        With a ``distributed`` client, compute the next block while fitting one.
    **fit_params
        Passed to every ``partial_fit`` call.

    Returns
    -------
    estimator : the estimator, fitted.

    Raises
    ------
    TypeError
        If ``estimator`` has no ``partial_fit`` or ``X`` is not a Dask collection or
        array-like.
    ValueError
        If the blocks of ``y`` do not match those of ``X``.

    Notes
    -----
    Blocks with no rows (empty dataframe partitions) are skipped. For the
    dictionary learners, blocks whose sizes are multiples of ``batch_size`` give the
    same model as one in-memory ``partial_fit`` over all the data.

    See Also
    --------
    sparsopt.decomposition.MiniBatchDictionaryLearning.partial_fit

    References
    ----------
    .. [1] J. Mairal, F. Bach, J. Ponce and G. Sapiro, "Online learning for matrix
       factorization and sparse coding", JMLR 11, 2010.

    Examples
    --------
    >>> import dask.array as da
    >>> import numpy as np
    >>> from sparsopt.decomposition import MiniBatchDictionaryLearning
    >>> from sparsopt.dask import fit_incremental
    >>> X = np.random.default_rng(0).standard_normal((120, 8))
    >>> est = MiniBatchDictionaryLearning(n_components=4, batch_size=10, random_state=0)
    >>> est = fit_incremental(est, da.from_array(X, chunks=40))
    >>> est.components_.shape
    (4, 8)
    """
    owner = "sparsopt.dask.fit_incremental"
    if not callable(getattr(estimator, "partial_fit", None)):
        raise TypeError(f"{owner}: estimator {type(estimator).__name__} has no "
                        "partial_fit; use estimator.fit on computed data instead.")
    x_blocks, row_chunks = _row_blocks(X, "X", owner)
    if x_blocks is None:
        if not hasattr(X, "shape") and not hasattr(X, "__array__"):
            X = np.asarray(X)
        x_blocks, row_chunks = [X], (X.shape[0],)
    n_blocks = len(x_blocks)
    if y is None:
        y_blocks = [None] * n_blocks
    elif isinstance(y, da.Array):
        if row_chunks is None or any(np.isnan(c) for c in row_chunks):
            if y.numblocks[0] != n_blocks:
                raise ValueError(f"{owner}: y has {y.numblocks[0]} row blocks, X has "
                                 f"{n_blocks}.")
        else:
            if y.shape[0] != sum(row_chunks):
                raise ValueError(f"{owner}: y has {y.shape[0]} rows, X has "
                                 f"{sum(row_chunks)}.")
            y = y.rechunk({0: row_chunks} if y.ndim == 1 else (row_chunks, -1))
        y_blocks, _ = _row_blocks(y, "y", owner)
    elif hasattr(y, "__dask_graph__"):
        y_blocks, _ = _row_blocks(y, "y", owner)
        if len(y_blocks) != n_blocks:
            raise ValueError(f"{owner}: y has {len(y_blocks)} partitions, X has "
                             f"{n_blocks}.")
    else:
        y = np.asarray(y)
        if row_chunks is None or any(np.isnan(c) for c in row_chunks):
            raise ValueError(f"{owner}: an in-memory y needs the row chunks of X to be "
                             "known (use a Dask y with the partitions of X).")
        if y.shape[0] != sum(row_chunks):
            raise ValueError(f"{owner}: y has {y.shape[0]} rows, X has "
                             f"{sum(row_chunks)}.")
        y_blocks = np.split(y, np.cumsum(row_chunks)[:-1])
    order = np.arange(n_blocks)
    if shuffle_blocks:
        order = check_random_state(random_state).permutation(n_blocks)
    kwargs = dict(fit_params)
    if classes is not None:
        kwargs["classes"] = classes

    client = _default_client() if prefetch else None

    def start(i):
        pair = (x_blocks[i], y_blocks[i])
        if client is not None and any(hasattr(p, "__dask_graph__") for p in pair):
            return client.compute(list(pair))
        return pair

    def finish(pending):
        if client is not None and not isinstance(pending, tuple):
            return tuple(client.gather(pending))
        return dask.compute(*pending)

    pending = start(order[0]) if n_blocks else None
    for pos in range(n_blocks):
        Xb, yb = finish(pending)
        pending = start(order[pos + 1]) if pos + 1 < n_blocks else None
        if Xb.shape[0] == 0:
            continue
        if yb is None:
            estimator.partial_fit(Xb, **kwargs)
        else:
            estimator.partial_fit(Xb, yb, **kwargs)
    return estimator
