"""CuPy kernels of the dispatch (imported only when CuPy and a CUDA device are available).

This package registers **no** kernel: a hand-written CuPy kernel enters the dispatch only after
it ran on a device and matched the NumPy reference there. Until then CuPy arrays reach the
namespace-generic NumPy references (ops registered with ``array_api=True``, listed by
:func:`sparsopt.backends.array_api_kernels`), which run on the device; an op without one raises
``NotImplementedError`` naming the op and the array kind.

Kernels written but not yet run on a device live in :mod:`sparsopt.backends._cupy.pending`,
which nothing in the package imports; ``pending.register_pending()`` registers them for a
device check (``tests/gpu/test_cupy_pending.py``, ``gpu/bench_gpu.py --pending``). See
``gpu/README.md`` for the device run and for moving a verified kernel here.
"""
