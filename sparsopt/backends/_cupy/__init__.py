"""CuPy kernels (imported only when CuPy and a CUDA device are available).

No CuPy kernels are registered yet: they are written only where they can be
run and tested on a device (see ``gpu/README.md``). Dispatching a CuPy array
therefore raises ``NotImplementedError`` naming the op and the backend.
"""
