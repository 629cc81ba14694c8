"""Pieces shared by the dense and the Kronecker sparse Bayesian learning solvers."""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from ...backends import array_namespace
from ...utils.validation import check_scalar

SOLVERS = ("em", "mackay")
STOPS = ("gamma", "coef")
#: the stopping criteria's names, as the ConvergenceWarning and ``result.info["criterion"]``
#: spell them
CRITERIA = {"gamma": "relative change of gamma", "coef": "coef change sum |x_new - x_old|"}
_TINY = float(np.finfo(np.float64).tiny)
_EPS = float(np.finfo(np.float64).eps)


class SBLPosterior(NamedTuple):
    """The E-step of sparse Bayesian learning (what :func:`sbl_posterior` and
    :func:`kronecker_posterior` return).

    Attributes
    ----------
    mean : ndarray of shape (n_features, n_snapshots)
        Posterior mean ``mu``.
    sdiag : ndarray of shape (n_features,)
        Real diagonal of the posterior covariance ``Sigma``.
    logdet : float
        ``log det(sigma^2 I + X Gamma X^H)`` (for the evidence).
    rss : float
        ``||y - X mu||_F^2``, summed over the snapshots.
    cov : ndarray of shape (n_features, n_features) or None
        The full posterior covariance, only when asked for (``full=True`` of
        :func:`sbl_posterior`); ``None`` otherwise.
    """

    mean: Any
    sdiag: Any
    logdet: float
    rss: float
    cov: Any = None


def check_targets(y, n_rows, name):
    """``y`` as a 2-D finite array (M, L) and whether it was 1-D."""
    y = np.asarray(y)
    if y.ndim not in (1, 2):
        raise ValueError(f"{name}: y must be 1-D (M,) or 2-D (M, n_snapshots), got shape "
                         f"{y.shape}.")
    if y.shape[0] != n_rows:
        raise ValueError(f"{name}: y has {y.shape[0]} rows but the dictionary has {n_rows} "
                         "rows (measurements).")
    if not np.issubdtype(y.dtype, np.number) or np.issubdtype(y.dtype, np.bool_):
        raise TypeError(f"{name}: y must be numeric, got dtype {y.dtype}.")
    if not np.all(np.isfinite(y)):
        raise ValueError(f"{name}: y contains NaN or infinity.")
    return (y[:, None] if y.ndim == 1 else y), y.ndim == 1


def check_noise(name, noise_variance, learn_noise):
    """A positive ``noise_variance``, required when the noise is not learned."""
    if noise_variance is not None:
        check_scalar(noise_variance, "noise_variance", name, lower=0.0, lower_inclusive=False)
    elif not learn_noise:
        raise ValueError(f"{name}: learn_noise=False needs the known noise_variance (> 0).")


def check_common(name, solver, noise_variance, learn_noise, tol, stop, priors):
    if solver not in SOLVERS:
        raise ValueError(f"{name}: solver must be one of {SOLVERS}, got {solver!r}.")
    if stop not in STOPS:
        raise ValueError(f"{name}: stop must be one of {STOPS}, got {stop!r}.")
    check_scalar(tol, "tol", name, lower=0.0)
    check_noise(name, noise_variance, learn_noise)
    for key, val in priors.items():
        check_scalar(val, key, name, lower=0.0)


def _namespace(a):
    """NumPy itself for NumPy arrays (no lookup), else the array's namespace (CuPy ...)."""
    return np if isinstance(a, np.ndarray) else array_namespace(a)


def initial_noise(Y, noise_variance):
    """The user's value, else the variance of the targets (scikit-learn's ARD start), a host
    float (``Y`` of any namespace)."""
    if noise_variance is not None:
        return float(noise_variance)
    xp = _namespace(Y)
    return float(xp.mean(xp.abs(Y - xp.mean(Y, axis=0)) ** 2)) + _EPS


def gamma_update(solver, second_moment, sdiag, gamma, lambda_1, lambda_2):
    """M-step for the (unstructured) prior variances.

    EM: ``gamma = (E|x|^2 + 2 lambda_2) / (1 + 2 lambda_1)`` with ``E|x|^2 = |mu|^2 + Sigma_jj``;
    MacKay: ``gamma = (|mu|^2 + 2 lambda_2) / (g + 2 lambda_1)``, ``g = 1 - Sigma_jj / gamma``
    (the Gamma hyperpriors on the precisions 1/gamma as in scikit-learn's ARDRegression).
    """
    if solver == "em":
        return (second_moment + sdiag + 2.0 * lambda_2) / (1.0 + 2.0 * lambda_1)
    xp = _namespace(sdiag)
    g = xp.maximum(1.0 - sdiag / gamma, 0.0)
    return (second_moment + 2.0 * lambda_2) / xp.maximum(g + 2.0 * lambda_1, _TINY)


def noise_update(solver, rss, n_rows, sum_g, sigma2, alpha_1, alpha_2):
    """M-step for the noise variance; ``rss`` per snapshot, ``sum_g = sum_j 1 - Sigma_jj/gamma_j``
    with the E-step's gamma (not the one just updated)."""
    if solver == "em":
        val = (rss + sigma2 * sum_g + 2.0 * alpha_2) / (n_rows + 2.0 * alpha_1)
    else:
        val = (rss + 2.0 * alpha_2) / max(n_rows - sum_g + 2.0 * alpha_1, _TINY)
    return float(val)


def noise_floor(Y):
    """Smallest learned noise variance: 1e-12 of the data's power (noiseless data would
    otherwise drive sigma^2 to 0 and the E-step to a singular system); ``Y`` of any
    namespace, a host float."""
    xp = _namespace(Y)
    return 1e-12 * max(float(xp.mean(xp.abs(Y) ** 2)), _TINY)


def relative_change(new, old):
    """``||new - old|| / ||old||`` (``||new||`` when ``old`` is 0) as a host float; arrays
    of other namespaces are reduced there, with one scalar read."""
    if not isinstance(new, np.ndarray):
        xp = array_namespace(new, old)
        den = xp.linalg.vector_norm(old)
        num = xp.linalg.vector_norm(new - old)
        return float(xp.where(den > 0, num / xp.where(den > 0, den, 1.0),
                              xp.linalg.vector_norm(new)))
    den = float(np.linalg.norm(old))
    return float(np.linalg.norm(new - old)) / den if den > 0 else float(np.linalg.norm(new))


def shape_output(mu_full, was_1d, out_dtype):
    """The posterior mean as returned: 1-D for a 1-D ``y``, in the inputs' precision (complex
    when the data are)."""
    x = mu_full[:, 0] if was_1d else mu_full
    if np.iscomplexobj(x):
        return x.astype(np.result_type(out_dtype, np.complex64), copy=False)
    return x.astype(out_dtype, copy=False)
