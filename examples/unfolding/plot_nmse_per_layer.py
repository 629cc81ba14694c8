"""
======================================================
Recovery error per layer: unfolded ISTA against ISTA
======================================================

T iterations of ISTA become T layers whose step sizes are learned from data
(:class:`~sparsopt.unfolding.UnfoldedISTA`). We train the layers two ways on the same
signals: *supervised* (mean squared error to the true codes) and *unsupervised* (the
Lasso objective :math:`F_1(x) = \\tfrac12\\lVert y - Ax\\rVert^2 + \\lambda\\lVert
x\\rVert_1` at the last layer, which needs no true codes), then plot the normalised
mean squared error (NMSE, in dB) of every layer on held-out signals, next to ISTA and
FISTA with the step :math:`1/L`. When the LISTA models are available (``LISTA``),
LISTA-CP and ALISTA are added.

The operator is fixed (a 50 x 100 Gaussian matrix), the codes Bernoulli-Gaussian with 8%
non-zeros, the noise small. Training takes a few seconds.
"""

# %%
# Data and the baselines
# ----------------------
# :func:`~sparsopt.unfolding.nmse_db` sums squared errors over the batch before taking
# the log.

import matplotlib.pyplot as plt
import numpy as np

import sparsopt.unfolding as unfolding
from sparsopt.unfolding import UnfoldedISTA, nmse_db

rng = np.random.default_rng(0)
m, n, T, lam = 50, 100, 12, 0.05
A = rng.standard_normal((m, n)) / np.sqrt(m)


def draw(k):
    X = rng.standard_normal((k, n)) * (rng.random((k, n)) < 0.08)
    return X @ A.T + 0.01 * rng.standard_normal((k, m)), X


Y, X = draw(1000)
Y_test, X_test = draw(500)
L = np.linalg.norm(A, 2) ** 2


def soft(R, t):
    return np.sign(R) * np.maximum(np.abs(R) - t, 0)


def ista_layers(Y, n_iter, fista=False):
    Z = Zprev = V = np.zeros((Y.shape[0], n))
    s = 1.0
    out = []
    for _ in range(n_iter):
        Z = soft(V + (Y - V @ A.T) @ A / L, lam / L)
        if fista:
            s_next = (1 + np.sqrt(1 + 4 * s * s)) / 2
            V = Z + (s - 1) / s_next * (Z - Zprev)
            s, Zprev = s_next, Z
        else:
            V = Z
        out.append(Z)
    return out


curves = {
    "ISTA": nmse_db(ista_layers(Y_test, T), X_test),
    "FISTA": nmse_db(ista_layers(Y_test, T, fista=True), X_test),
}

# %%
# Training
# --------
# ``fit(Y, X)`` trains on the true codes (supervised), ``fit(Y)`` on the objective
# (unsupervised). The default schedule is incremental: layer t is added and trained
# with all the earlier ones, ``max_iter`` Adam steps per layer.

kw = dict(n_layers=T, alpha=lam, max_iter=60, learning_rate=0.05, random_state=0)
sup = UnfoldedISTA(A, **kw).fit(Y, X)
uns = UnfoldedISTA(A, **kw).fit(Y)
curves["DU-ISTA (supervised)"] = nmse_db(sup.layer_outputs(Y_test), X_test)
curves["DU-ISTA (unsupervised)"] = nmse_db(uns.layer_outputs(Y_test), X_test)

if hasattr(unfolding, "LISTA"):  # the LISTA family, when built
    for variant, label in (("cp", "LISTA-CP"), ("alista", "ALISTA")):
        est = unfolding.LISTA(A, variant=variant, **kw).fit(Y, X)
        curves[label] = nmse_db(est.layer_outputs(Y_test), X_test)

print("learned steps x L, supervised:  ", np.round(sup.steps_ * L, 2))
print("learned steps x L, unsupervised:", np.round(uns.steps_ * L, 2))

# %%
# NMSE per layer
# --------------
# The learned steps are larger than 1/L and non-monotone: a few large steps followed by
# corrective ones, the mechanism by which unfolding accelerates ISTA.

fig, ax = plt.subplots(figsize=(6, 4))
for label, c in curves.items():
    ax.plot(np.arange(1, T + 1), c, "o-", ms=3, label=label)
ax.set(xlabel="layer / iteration t", ylabel="NMSE (dB)", title="held-out NMSE per layer")
ax.legend()
fig.tight_layout()
plt.show()
