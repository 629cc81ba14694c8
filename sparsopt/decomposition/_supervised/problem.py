"""The supervised factorization problem: validation, the multinomial logistic loss
(class 0 as reference) and the training data in float64."""

from __future__ import annotations

import numpy as np

from ...losses import Multinomial

_OWNER = "supervised_dictionary_learning"
MODES = ("filter", "feature")
SOLVERS = ("bcd", "lpgd")
_N_INNER = 5  # projected-gradient sub-steps per block (dictionary; feature-mode codes)
_CLF_MAXITER = 50  # L-BFGS iterations of the classifier block per BCD sweep
_MULTINOMIAL = Multinomial()


def _split_features(aux_features, n_features, owner=_OWNER):
    """Indices of the dictionary columns and of the auxiliary columns of ``X``."""
    all_idx = np.arange(n_features)
    if aux_features is None:
        return all_idx, all_idx[:0]
    if isinstance(aux_features, str):
        raise TypeError(f"{owner}: aux_features must be column indices or a boolean mask, "
                        f"got the string {aux_features!r}.")
    arr = np.asarray(aux_features)
    if arr.ndim != 1:
        raise ValueError(f"{owner}: aux_features must be 1-D (indices or a boolean mask), "
                         f"got shape {arr.shape}.")
    if arr.dtype == bool:
        if arr.shape[0] != n_features:
            raise ValueError(f"{owner}: the boolean mask aux_features has {arr.shape[0]} "
                             f"entries but X has {n_features} features.")
        aux = all_idx[arr]
    elif arr.size == 0:
        aux = all_idx[:0]
    elif arr.dtype.kind in "iu":
        if np.any(arr >= n_features) or np.any(arr < -n_features):
            raise ValueError(f"{owner}: aux_features has indices out of range for X with "
                             f"{n_features} features: {arr.tolist()}.")
        aux = np.where(arr < 0, arr + n_features, arr).astype(np.intp)
        if np.unique(aux).size != aux.size:
            raise ValueError(f"{owner}: aux_features has repeated columns: {arr.tolist()}.")
    else:
        raise TypeError(f"{owner}: aux_features must hold integer column indices or be a "
                        f"boolean mask, got dtype {arr.dtype}.")
    dict_idx = np.setdiff1d(all_idx, aux)
    if dict_idx.size == 0:
        raise ValueError(f"{owner}: aux_features selects all {n_features} columns of X; at "
                         "least one column must be left for the dictionary.")
    return dict_idx, np.sort(aux)


def _check_solver_options(mode, solver, alpha_code, alpha_dict, positive_code, positive_dict,
                          xi, owner=_OWNER):
    if mode not in MODES:
        raise ValueError(f"{owner}: mode must be one of {MODES}, got {mode!r}.")
    if solver not in SOLVERS:
        raise ValueError(f"{owner}: solver must be one of {SOLVERS}, got {solver!r}.")
    if solver == "lpgd":
        for name, bad in (("alpha_code", alpha_code > 0), ("alpha_dict", alpha_dict > 0),
                          ("positive_code", positive_code), ("positive_dict", positive_dict)):
            if bad:
                raise ValueError(
                    f"{owner}: solver='lpgd' solves the lifted problem, which has no l1 or "
                    f"sign constraint on the factors; {name} needs solver='bcd'.")
    if mode == "feature" and xi == 0:
        raise ValueError(f"{owner}: mode='feature' needs xi > 0 (the codes of new samples "
                         "come from the reconstruction term); got xi=0.")


def _check_feature_rank(mode, alpha_code, n_components, n_dict, owner=_OWNER):
    if mode == "feature" and alpha_code == 0 and n_components > n_dict:
        raise ValueError(
            f"{owner}: mode='feature' with alpha_code=0 needs n_components <= the number of "
            f"dictionary features (here n_features = {n_dict}, n_components = "
            f"{n_components}): the least-squares codes of new samples are not unique "
            "otherwise. Lower n_components or set alpha_code > 0.")


# ---------------------------------------------------------------------------------------
# the classification loss (multinomial logistic, class 0 as reference)
# ---------------------------------------------------------------------------------------


def _logistic(S, yidx):
    """Loss ``sum_i l(y_i, s_i)`` and probabilities of classes 1..K-1.

    ``S`` has shape (n, K-1): the logits of classes 1..K-1; class 0 has logit 0. For
    two classes this is ``log(1 + e^s) - y s``. The loss and its gradient are those of
    :class:`sparsopt.losses.Multinomial` on the logits ``[0, S]``.
    """
    n = S.shape[0]
    Z = np.empty((n, S.shape[1] + 1))
    Z[:, 0] = 0.0
    Z[:, 1:] = S
    P = _MULTINOMIAL.grad(yidx, Z)[:, 1:]  # softmax - one-hot, classes 1..K-1
    pos = np.flatnonzero(yidx > 0)
    P[pos, yidx[pos] - 1] += 1.0
    return float(_MULTINOMIAL.value(yidx, Z)), P


def _one_hot(yidx, n_classes):
    Y = np.zeros((yidx.shape[0], n_classes - 1))
    pos = yidx > 0
    Y[np.flatnonzero(pos), yidx[pos] - 1] = 1.0
    return Y


def _curvature(n_classes):
    """Bound on the Hessian of the logistic loss in the logits (Boehning's bound)."""
    return 0.25 if n_classes == 2 else 0.5


class _Data:
    """The training problem in scikit-learn layout, in float64."""

    def __init__(self, Xd, Z, yidx, n_classes, xi, nu, alpha_code, alpha_dict,
                 positive_code, positive_dict):
        self.Xd = Xd                                   # (n, p) dictionary features
        self.Z1 = np.hstack([np.ones((Xd.shape[0], 1)), Z])  # (n, 1 + q) classifier-only
        self.yidx = yidx
        self.Y = _one_hot(yidx, n_classes)             # (n, K-1)
        self.k = n_classes - 1
        self.c = _curvature(n_classes)
        self.xi, self.nu = xi, nu
        self.alpha_code, self.alpha_dict = alpha_code, alpha_dict
        self.positive_code, self.positive_dict = positive_code, positive_dict
        self.gmask = np.ones(self.Z1.shape[1])
        self.gmask[0] = 0.0                            # the intercept is not penalized
        self._xd_norm2 = None

    @property
    def xd_norm2(self):
        if self._xd_norm2 is None:
            self._xd_norm2 = float(np.linalg.norm(self.Xd, 2) ** 2)
        return self._xd_norm2
