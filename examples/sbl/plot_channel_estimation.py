"""
===================================================
MIMO channel estimation in the angular domain
===================================================

A base station (BS) with a uniform linear array (ULA) of 16 antennas receives pilots
from a mobile station (MS) with a ULA of 6 antennas. Over a few paths, the channel is

.. math::

    H = \\sum_{p} \\alpha_p\\, a_{16}(u^\\text{BS}_p)\\, a_6(u^\\text{MS}_p)^H,
    \\qquad a_n(u) = \\tfrac{1}{\\sqrt n}\\big(1, e^{i\\pi u}, \\dots,
    e^{i\\pi (n-1) u}\\big)^\\top,

with :math:`u = \\sin\\theta` the direction of arrival or departure (half-wavelength
spacing). On a grid of angles, :math:`H = A_\\text{BS}\\, G\\, A_\\text{MS}^H` with
steering matrices :math:`A_\\text{BS}` (16 x 18) and :math:`A_\\text{MS}` (6 x 18) and an
angular-domain channel :math:`G` (18 x 18) with a few non-zeros. The MS sends 3 pilot
vectors, the columns of :math:`P` (6 x 3), fewer than its 6 antennas, and the BS receives
:math:`Y = H P + N` (16 x 3). Then

.. math::

    \\operatorname{vec}(Y) = \\big(A_\\text{BS} \\otimes P^\\top \\bar A_\\text{MS}\\big)
    \\operatorname{vec}(G) + \\operatorname{vec}(N),

a complex, compressed (48 measurements, 324 unknowns) sparse recovery problem with a
two-factor Kronecker dictionary: the setting of He and Joseph (2024), without their
intelligent reflecting surface. We estimate :math:`G` with
:class:`~sparsopt.linear_model.KroneckerSBL` through a complex
:class:`~sparsopt.linalg.KroneckerOperator`, learning the noise variance.
"""

# %%
# Dictionary, pilots and the index convention
# -------------------------------------------
# ``vec`` is NumPy's C-order ``ravel`` (row-major), the convention that pairs with
# :func:`numpy.kron` and with :class:`~sparsopt.linalg.KroneckerOperator`: for
# ``Y = A G B`` we have ``Y.ravel() == np.kron(A, B.T) @ G.ravel()``. With
# ``B = A_MS^H P`` the second factor is ``P.T @ A_MS.conj()``. The check below builds
# one channel both ways.

import warnings

import matplotlib.pyplot as plt
import numpy as np

from sparsopt.exceptions import ConvergenceWarning
from sparsopt.linalg import KroneckerOperator
from sparsopt.linear_model import KroneckerSBL


def steering(n_antennas, u):
    """ULA steering vectors (unit norm) for directions ``u = sin(theta)``, as columns."""
    return np.exp(1j * np.pi * np.outer(np.arange(n_antennas), u)) / np.sqrt(n_antennas)


def crandn(rng, *shape):
    """Circularly-symmetric complex Gaussian samples of unit variance."""
    return (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)) / np.sqrt(2)


n_bs, n_ms, n_pilots, n_grid = 16, 6, 3, 18
grid = np.linspace(-1, 1, n_grid, endpoint=False)  # u = sin(theta), as in the paper
A_bs, A_ms = steering(n_bs, grid), steering(n_ms, grid)
rng = np.random.default_rng(0)
pilots = np.exp(0.5j * np.pi * rng.integers(0, 4, (n_ms, n_pilots))) / np.sqrt(n_ms)  # QPSK

dictionary = KroneckerOperator([A_bs, pilots.T @ A_ms.conj()])
print(dictionary)

G_check = crandn(rng, n_grid, n_grid)
Y_check = A_bs @ G_check @ A_ms.conj().T @ pilots
print("vec(Y) == (A_BS ⊗ P^T conj(A_MS)) vec(G):",
      np.allclose(Y_check.ravel(), dictionary @ G_check.ravel()))

# %%
# A clustered channel
# -------------------
# The signal leaves the MS in one direction and reaches the BS through a cluster of
# scatterers spanning three adjacent grid angles, with independent complex gains: three
# paths. In the angular domain the support is the product of a BS set (3 angles) and an
# MS set (1 angle), exactly the structure of KroSBL's prior
# :math:`\gamma = \gamma_\text{BS} \otimes \gamma_\text{MS}`.


def random_channel(rng, cluster=3):
    """Angular-domain channel G (n_grid x n_grid): a BS cluster times one MS angle."""
    start = rng.integers(0, n_grid - cluster + 1)
    G = np.zeros((n_grid, n_grid), dtype=complex)
    G[start:start + cluster, rng.integers(n_grid)] = crandn(rng, cluster)
    return G


def measure(G, snr_db, rng):
    """Noisy received pilots vec(Y) and the noise variance for the SNR (in dB)."""
    y0 = dictionary @ G.ravel()
    noise_variance = np.mean(np.abs(y0) ** 2) / 10 ** (snr_db / 10)
    return y0 + np.sqrt(noise_variance) * crandn(rng, y0.size), noise_variance


def channel_nmse(G_hat, G):
    """NMSE of the channel matrix H = A_BS G A_MS^H (what a receiver uses)."""
    H, H_hat = (A_bs @ g @ A_ms.conj().T for g in (G, G_hat))
    return float(np.sum(np.abs(H_hat - H) ** 2) / np.sum(np.abs(H) ** 2))


def make_estimators():
    return {
        "KroSBL, SVD": KroneckerSBL(solver="svd"),
        "KroSBL, AM": KroneckerSBL(solver="am"),
        # pattern coupling on the BS factor only: its support is a cluster
        "PC-KroSBL (AM)": KroneckerSBL(solver="am", coupling=(0.8, 0.0)),
    }


rng = np.random.default_rng(1)
G_true = random_channel(rng)
y, noise_variance = measure(G_true, snr_db=10, rng=rng)

estimates = {}
with warnings.catch_warnings():
    warnings.simplefilter("ignore", ConvergenceWarning)
    for name, estimator in make_estimators().items():
        estimator.fit(dictionary, y)
        estimates[name] = estimator.coef_.reshape(n_grid, n_grid)  # C-order, as vec
        print(f"{name:15s} channel NMSE {channel_nmse(estimates[name], G_true):.3f}  "
              f"noise variance {estimator.noise_variance_:.2e} (true {noise_variance:.2e})  "
              f"{estimator.n_iter_} iterations")

# %%
# The angular spectra :math:`|G|`, true and estimated, on the grid: BS angles vertically,
# MS angles horizontally. Several snapshots sharing the angles (``y`` of shape ``(M, L)``)
# would be fitted together in the same way; see :ref:`user_guide_sbl`.

panels = {"true channel": G_true, **estimates}
fig, axes = plt.subplots(1, len(panels), figsize=(12, 3.4), layout="constrained",
                         sharey=True)
vmax = np.abs(G_true).max()
lo, hi = -1 - 1 / n_grid, 1 - 1 / n_grid  # pixel edges around the grid angles
for ax, (title, G) in zip(axes, panels.items()):
    im = ax.imshow(np.abs(G), cmap="magma", vmin=0, vmax=vmax, origin="lower",
                   extent=(lo, hi, lo, hi))
    ax.set_title(title)
    ax.set_xlabel("MS angle, sin θ")
axes[0].set_ylabel("BS angle, sin θ")
fig.colorbar(im, ax=axes, shrink=0.8, label="|G|")
plt.show()

# %%
# All three find the cluster and the MS direction from 48 noisy measurements, the AM
# variants with a little more leakage into neighbouring angles. Each learned the noise
# variance from a start at the variance of ``y``; here the estimates are low by up to a
# factor of two. Passing the true value instead (``noise_variance=...,
# learn_noise=False``, as the paper does) roughly halves the channel error of this draw:
# a good noise estimate is worth having.
#
# NMSE against SNR
# ----------------
# Two channel draws per SNR, to keep the example fast (the paper averages 50 at a larger
# size); the linear channel NMSE is averaged over the draws.

snrs = [0, 5, 10, 15, 20]
n_trials = 2
methods = list(make_estimators())
errors = {name: np.zeros((len(snrs), n_trials)) for name in methods}
with warnings.catch_warnings():
    warnings.simplefilter("ignore", ConvergenceWarning)
    for i, snr in enumerate(snrs):
        for trial in range(n_trials):
            rng = np.random.default_rng(100 * snr + trial)
            G_true = random_channel(rng)
            y, _ = measure(G_true, snr, rng)
            for name, estimator in make_estimators().items():
                G_hat = estimator.fit(dictionary, y).coef_.reshape(n_grid, n_grid)
                errors[name][i, trial] = channel_nmse(G_hat, G_true)

fig, ax = plt.subplots(figsize=(6.5, 4.5), layout="constrained")
for (name, err), marker in zip(errors.items(), "os^"):
    ax.semilogy(snrs, err.mean(axis=1), marker + "-", label=name)
ax.set_xlabel("SNR (dB)")
ax.set_ylabel("channel NMSE (mean over draws)")
ax.set_title("16 x 6 MIMO channel, 3 pilots, 18-angle grids")
ax.grid(alpha=0.3, which="both")
ax.legend()
plt.show()

for name in methods:
    print(f"{name:15s} " + "  ".join(f"{e:.3f}" for e in errors[name].mean(axis=1)))

# %%
# SVD-KroSBL is the most accurate at low SNR. The pattern-coupled prior of PC-KroSBL
# (``coupling=(0.8, 0.0)``: a tridiagonal coupling of neighbouring BS angles) improves
# on plain AM there, where knowing that the support is a cluster matters most, but it
# does not catch up with SVD in this setting; at high SNR the three agree. With two
# draws per point these curves are indicative only (with more draws the ranking at low
# SNR stays the same). The paper's IRS experiment, with a much more compressed factor,
# reports a larger gain for the coupled prior.
