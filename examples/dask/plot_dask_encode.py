"""
==============================================
Encode a large lazy array on a Dask cluster
==============================================

A :class:`distributed.LocalCluster` stands in for a real cluster: the same code runs on
a SLURM or Kubernetes cluster by changing the line that makes the client (see
:ref:`user_guide_dask`). The example

1. starts the cluster and registers :class:`sparsopt.dask.SparsoptWorkerPlugin` (one
   BLAS / Numba thread per task, kernels warmed on each worker),
2. streams a dictionary fit (:func:`sparsopt.dask.fit_incremental`: ``partial_fit`` of
   :class:`~sparsopt.decomposition.MiniBatchDictionaryLearning` block by block), and
3. encodes a lazy array of image patches block by block with
   :func:`sparsopt.dask.sparse_encode` -- nothing is computed until the end, and the codes
   equal the in-memory ones.

The cluster runs in this process (``processes=False``) so that the documentation build
stays light; on a real cluster the workers are separate processes or machines.
"""

# %%
# A local cluster with the worker plugin
# --------------------------------------

import dask
import dask.array as da
import matplotlib.pyplot as plt
import numpy as np
from distributed import Client, LocalCluster

from sparsopt.dask import SparsoptWorkerPlugin, fit_incremental, sparse_encode
from sparsopt.datasets import load_image_patches
from sparsopt.decomposition import MiniBatchDictionaryLearning
from sparsopt.decomposition import sparse_encode as sparse_encode_in_memory

cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                       dashboard_address=":0")
client = Client(cluster)
client.register_plugin(SparsoptWorkerPlugin(warmup=False))

# %%
# A lazy array of patches
# -----------------------
# 8x8 patches of an image in 6 row blocks of 4,000: each block is a task that loads its own
# random patches (another seed per block), so no data sit in the graph and nothing is loaded
# before a task needs it -- on a cluster each task would read its block from shared storage.

SCALE = load_image_patches("china", n_patches=2_000, random_state=100).std()


def load_block(seed):
    return load_image_patches("china", n_patches=4_000, random_state=seed) / SCALE


X = da.concatenate([da.from_delayed(dask.delayed(load_block)(seed), (4_000, 64), float)
                    for seed in range(6)])
# both steps below read X: load it once into the workers' memory (lazy still: persist
# starts the loading tasks and returns at once)
X = X.persist()
X

# %%
# Stream a dictionary fit
# -----------------------
# ``partial_fit`` on one block at a time; with a client active the next block is computed
# on the cluster while the current one is fitted. The model equals the in-memory loop over
# the same blocks.

dl = MiniBatchDictionaryLearning(n_components=64, alpha=0.5, batch_size=256,
                                 random_state=0)
dl = fit_incremental(dl, X)
D = dl.components_

fig, axes = plt.subplots(8, 8, figsize=(5, 5))
for atom, ax in zip(D, axes.ravel()):
    ax.imshow(atom.reshape(8, 8), cmap="gray")
    ax.set_axis_off()
fig.suptitle("Dictionary streamed from 6 blocks")
plt.show()

# %%
# Encode the lazy array
# ---------------------
# OMP with 5 atoms per patch, block by block: the dictionary and its Gram are one task
# each in the graph, sent once to each worker. ``codes`` is lazy until ``compute``.

codes = sparse_encode(X, D, solver="omp", n_nonzero_coefs=5)
print(codes)
nnz_per_patch, residual = client.compute(
    [(codes != 0).sum(axis=1).mean(), ((X - codes @ D) ** 2).sum() / (X ** 2).sum()],
    sync=True)
print(f"{nnz_per_patch:.2f} atoms per patch, relative residual {residual:.3f}")

# %%
# The same codes as in memory
# ---------------------------

block = codes.blocks[0].compute()
ref = sparse_encode_in_memory(load_block(0), D, solver="omp", n_nonzero_coefs=5)
print("max |dask - in memory| on the first block:", np.abs(block - ref).max())

client.close()
cluster.close()
