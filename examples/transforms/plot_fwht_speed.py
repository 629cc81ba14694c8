"""
===========================================
Speed of the dense Walsh-Hadamard transform
===========================================

:func:`~sparsopt.transforms.fwht` computes ``X = H_n x`` (``H_n`` the Sylvester-Hadamard
matrix) with ``n log2(n)`` additions. A textbook implementation makes one pass over the
whole array per stage, ``log2(n)`` passes in all; sparsopt's NumPy reference kernel does
that, vectorised. The Numba kernel fuses three stages per pass and works on blocks that
stay in the CPU caches, so a long signal is read and written about twice.

This example times both on batches of signals (``2**16`` values in all, whatever
``n``), checks them against each other and against the matrix product, and plots the
time per value. It runs in a few seconds; ``benchmarks/bench_wht.py`` goes up to
``n = 2**24`` and adds other libraries.
"""

# %%
# Check against the Hadamard matrix
# ---------------------------------
# The transform is the product with ``scipy.linalg.hadamard(n)``, in natural order.

import time

import matplotlib.pyplot as plt
import numpy as np
from scipy.linalg import hadamard

from sparsopt.transforms import fwht, ifwht

rng = np.random.default_rng(0)
x = rng.standard_normal((3, 64))
print("max |fwht(x) - x H|:", np.abs(fwht(x) - x @ hadamard(64)).max())
print("max |ifwht(fwht(x)) - x|:", np.abs(ifwht(fwht(x)) - x).max())

# %%
# Time per value
# --------------
# Each size transforms ``2**16 / n`` signals of length ``n`` in place (``out=buf``).
# The minimum of a few runs is kept; the first call (Numba compilation, or loading
# the compiled kernel from the disk cache) is excluded.


def best_time(fn, x, repeat=5):
    buf = x.copy()
    fn(buf)  # warm-up
    best = np.inf
    for _ in range(repeat):
        np.copyto(buf, x)
        t0 = time.perf_counter()
        fn(buf)
        best = min(best, time.perf_counter() - t0)
    return best


sizes = [2**k for k in range(4, 17, 2)]
engines = {"NumPy reference": "numpy", "sparsopt (Numba)": "numba"}
times = {name: [] for name in engines}
for n in sizes:
    x = rng.standard_normal((2**16 // n, n))
    ref = fwht(x, engine="numpy")
    for name, engine in engines.items():
        np.testing.assert_allclose(fwht(x, engine=engine), ref, atol=1e-9 * np.sqrt(n))
        times[name].append(best_time(lambda b, e=engine: fwht(b, out=b, engine=e), x))

for name in engines:
    print(f"{name:>18}: " + "  ".join(f"{t * 1e3:7.3f} ms" for t in times[name]))
speedup = np.array(times["NumPy reference"]) / np.array(times["sparsopt (Numba)"])
print("speed-up per n:", np.round(speedup, 1))

# %%
# The NumPy reference pays one pass per stage (its time per value grows like
# ``log2(n)``) plus a Python call per stage; the fused, cache-blocked kernel stays
# well under a nanosecond per value.

fig, ax = plt.subplots(figsize=(6, 4))
for name, ts in times.items():
    ax.loglog(sizes, np.array(ts) / 2**16 * 1e9, "o-", label=name)
ax.set_xscale("log", base=2)
ax.set_xlabel("signal length n (batch of 2**16 / n signals)")
ax.set_ylabel("time per value (ns)")
ax.set_title("Dense fast Walsh-Hadamard transform, float64")
ax.legend()
ax.grid(True, which="both", alpha=0.3)
fig.tight_layout()
plt.show()
