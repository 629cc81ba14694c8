"""CPU checks of the CUDA sources in ``sparsopt/backends/_cupy/pending.py`` (no GPU needed).

Two tools, both driven by the same source strings that CuPy compiles on a device:

* :func:`cuda_translation_unit` / :func:`nvcc_ptx`: the sources wrapped as CuPy would (the
  prox bodies in ``__global__`` elementwise loops, the templates instantiated) and compiled
  to PTX with ``nvcc`` when it is installed: syntax, types and templates are checked;
* :func:`emulator`: the same sources compiled by the host C++ compiler against a small shim
  (``__global__`` to nothing, ``__shared__`` to ``static``, one ``std::thread`` per CUDA
  thread, ``__syncthreads`` a ``std::barrier``, blocks run one after the other) into a shared
  library called with ``ctypes``: the kernels' arithmetic, indexing and block reductions run
  on the CPU and are compared with the NumPy references. What this cannot check: the device
  math library (libdevice) versus glibc (ulp differences), warp scheduling and memory
  coalescing, CuPy's own argument handling and NVRTC itself.
"""

from __future__ import annotations

import ctypes
import os
import re
import shutil
import subprocess
import tempfile

import numpy as np

from sparsopt.backends._cupy import pending

_CTYPE = {"float64": "double", "int64": "long long", "float32": "float"}


def _prox_params(op):
    """``[(c_type, name)]`` of the prox op's parameters after ``x``."""
    out = []
    for item in pending.PROX_KERNELS[op][0].split(","):
        words = item.split()
        if words[0] == "raw":
            out.append((f"const {_CTYPE[words[1]]}*", words[2]))
        else:
            out.append((_CTYPE[words[0]], words[1]))
    return out


def _prox_cuda(op):
    params = _prox_params(op)
    decl = "".join(f", {t} {n}" for t, n in params)
    body = pending.prox_operation(op)
    kernel = (f"template<typename T>\n__global__ void k_{op}(const T* xs, T* ys, long long size"
              f"{decl}) {{\n  long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;\n"
              f"  if (i >= size) return;\n  const T &x = xs[i];\n  T &y = ys[i];\n{body}\n}}\n")
    types = ", ".join(t for t, _ in params)
    inst = "".join(f"template __global__ void k_{op}<{t}>(const {t}*, {t}*, long long, {types});\n"
                   for t in ("float", "double"))
    return kernel + inst


def cuda_translation_unit():
    """All pending kernels as one CUDA file, templates instantiated."""
    parts = [pending.PROX_PREAMBLE]
    parts += [_prox_cuda(op) for op in pending.PROX_KERNELS]
    parts.append(pending.LSE_SOURCE)
    for t in ("float", "double"):
        parts.append(f"template __global__ void so_lse_rows<{t}>(const {t}*, const double*, "
                     "double*, long long, long long);")
        parts.append(f"template __global__ void so_lse_cols_partial<{t}>(const {t}*, "
                     "const double*, double*, double*, int*, long long, long long, long long);")
    parts.append(pending.FWHT_SOURCE)
    for t in pending.FWHT_TYPES:
        parts.append(f"template __global__ void so_fwht_tile<{t}>({t}*, int);")
        for k in ("radix2", "radix4"):
            parts.append(f"template __global__ void so_fwht_{k}<{t}>({t}*, long long, int);")
    return "\n".join(parts)


def nvcc_ptx(arch="sm_90"):
    """Compile :func:`cuda_translation_unit` with ``nvcc --ptx``; return the PTX text."""
    nvcc = shutil.which("nvcc")
    if nvcc is None:
        raise FileNotFoundError("nvcc")
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "pending.cu")
        with open(src, "w") as fh:
            fh.write(cuda_translation_unit())
        ptx = os.path.join(tmp, "pending.ptx")
        proc = subprocess.run([nvcc, "--ptx", f"-arch={arch}", "-std=c++14", src, "-o", ptx],
                              capture_output=True, text=True, timeout=300)
        if proc.returncode:
            raise RuntimeError(f"nvcc failed:\n{proc.stderr}")
        with open(ptx) as fh:
            return fh.read()


_SHIM = r"""
#include <math.h>
#include <cstring>
#include <barrier>
#include <thread>
#include <vector>
struct so_dim3 { unsigned x, y, z; };
thread_local so_dim3 threadIdx = {0, 0, 0};
thread_local so_dim3 blockIdx = {0, 0, 0};
so_dim3 blockDim = {1, 1, 1};
so_dim3 gridDim = {1, 1, 1};
std::barrier<>* so_bar = nullptr;
inline void __syncthreads() { so_bar->arrive_and_wait(); }
inline double __longlong_as_double(long long v) { double d; std::memcpy(&d, &v, 8); return d; }
alignas(16) unsigned char so_smem[1 << 16];
#define __global__
#define __device__
#define __forceinline__ inline
#define __restrict__ __restrict
template<class F> void so_launch(unsigned gx, unsigned gy, unsigned bx, F f) {
    gridDim = {gx, gy, 1};
    blockDim = {bx, 1, 1};
    for (unsigned by_ = 0; by_ < gy; ++by_) {
        for (unsigned bx_ = 0; bx_ < gx; ++bx_) {
            std::barrier<> bar(bx);
            so_bar = &bar;
            std::vector<std::thread> ts;
            for (unsigned t = 0; t < bx; ++t)
                ts.emplace_back([&, t] { threadIdx = {t, 0, 0}; blockIdx = {bx_, by_, 0}; f(); });
            for (auto& th : ts) th.join();
        }
    }
}
"""


def _emu_source():
    def host(src):
        src = re.sub(r"extern __shared__ unsigned char so_smem\[\];", "", src)
        return src.replace("__shared__", "static")

    parts = [_SHIM, host(pending.PROX_PREAMBLE)]
    for op in pending.PROX_KERNELS:
        params = _prox_params(op)
        decl = "".join(f", {t} {n}" for t, n in params)
        names = "".join(f", {n}" for _, n in params)
        parts.append(f"template<typename T> void e_{op}(const T* xs, T* ys, long long size{decl})"
                     f" {{\n for (long long i = 0; i < size; ++i) {{\n  const T &x = xs[i];\n"
                     f"  T &y = ys[i];\n{pending.prox_operation(op)}\n }}\n}}\n")
        for t, s in (("float", "f"), ("double", "d")):
            parts.append(f'extern "C" void emu_{op}_{s}(const {t}* xs, {t}* ys, long long size'
                         f"{decl}) {{ e_{op}<{t}>(xs, ys, size{names}); }}")
    parts.append(host(pending.LSE_SOURCE))
    for t, s in (("float", "f"), ("double", "d")):
        parts.append(
            f'extern "C" void emu_lse_rows_{s}(const {t}* K, const double* v, double* out, '
            "long long n, long long m, unsigned grid, unsigned block) {"
            f" so_launch(grid, 1, block, [=] {{ so_lse_rows<{t}>(K, v, out, n, m); }}); }}")
        parts.append(
            f'extern "C" void emu_lse_cols_partial_{s}(const {t}* K, const double* u, '
            "double* pm, double* ps, int* pb, long long n, long long m, long long rows, "
            "unsigned gx, unsigned gy, unsigned block) { so_launch(gx, gy, block, [=] {"
            f" so_lse_cols_partial<{t}>(K, u, pm, ps, pb, n, m, rows); }}); }}")
    parts.append(
        'extern "C" void emu_lse_cols_merge(const double* pm, const double* ps, const int* pb, '
        "double* out, long long m, long long nc, unsigned gx, unsigned block) {"
        " so_launch(gx, 1, block, [=] { so_lse_cols_merge(pm, ps, pb, out, m, nc); }); }")
    parts.append(host(pending.FWHT_SOURCE))
    for t, s in (("float", "f"), ("double", "d"), ("long long", "l")):
        parts.append(
            f'extern "C" void emu_fwht_tile_{s}({t}* x, int lt, unsigned grid, unsigned block) '
            f"{{ so_launch(grid, 1, block, [=] {{ so_fwht_tile<{t}>(x, lt); }}); }}")
        for k in ("radix2", "radix4"):
            parts.append(
                f'extern "C" void emu_fwht_{k}_{s}({t}* x, long long work, int lh, '
                f"unsigned grid, unsigned block) {{ so_launch(grid, 1, block, [=] {{"
                f" so_fwht_{k}<{t}>(x, work, lh); }}); }}")
    return "\n".join(parts)


class Emulator:
    """The pending kernels compiled for the CPU (see the module docstring)."""

    def __init__(self, lib):
        self.lib = lib

    @staticmethod
    def _p(a):
        return a.ctypes.data_as(ctypes.c_void_p)

    def prox(self, op, x, *params, in_place=False):
        """Run the prox kernel of ``op`` on a NumPy array; returns a new array, or ``x``
        overwritten (``in_place``: ``x`` and ``y`` bound to the same elements, as CuPy does
        when ``out is x``)."""
        x = np.ascontiguousarray(x)
        y = x if in_place else np.empty_like(x)
        fn = getattr(self.lib, f"emu_{op}_{'f' if x.dtype == np.float32 else 'd'}")
        if op == "prox_cel0":  # as the CuPy wrapper: (a, lam, step) -> (a, a.size, lam, step)
            a = np.ascontiguousarray(params[0], dtype=np.float64).ravel()
            params = (a, a.size, *params[1:])
        args = [self._p(x), self._p(y), ctypes.c_longlong(x.size)]
        keep = []
        for (ctype, _), value in zip(_prox_params(op), params):
            if ctype.endswith("*"):
                arr = np.ascontiguousarray(value, dtype=np.float64)
                keep.append(arr)
                args.append(self._p(arr))
            elif ctype == "long long":
                args.append(ctypes.c_longlong(int(value)))
            else:
                args.append(ctypes.c_double(float(value)))
        fn(*args)
        return y

    def lse_rows(self, K, v, grid=None):
        n, m = K.shape
        out = np.empty(n)
        s = "f" if K.dtype == np.float32 else "d"
        getattr(self.lib, f"emu_lse_rows_{s}")(
            self._p(K), self._p(v), self._p(out), ctypes.c_longlong(n), ctypes.c_longlong(m),
            ctypes.c_uint(grid or min(n, 3)), ctypes.c_uint(pending.LSE_THREADS))
        return out

    def lse_cols(self, K, u):
        n, m = K.shape
        nc, rows = pending.lse_col_chunks(n, m)
        pm, ps = np.empty((nc, m)), np.empty((nc, m))
        pb = np.empty((nc, m), dtype=np.int32)
        out = np.empty(m)
        blocks = -(-m // pending.LSE_THREADS)
        s = "f" if K.dtype == np.float32 else "d"
        getattr(self.lib, f"emu_lse_cols_partial_{s}")(
            self._p(K), self._p(u), self._p(pm), self._p(ps), self._p(pb), ctypes.c_longlong(n),
            ctypes.c_longlong(m), ctypes.c_longlong(rows), ctypes.c_uint(blocks),
            ctypes.c_uint(nc), ctypes.c_uint(pending.LSE_THREADS))
        self.lib.emu_lse_cols_merge(
            self._p(pm), self._p(ps), self._p(pb), self._p(out), ctypes.c_longlong(m),
            ctypes.c_longlong(nc), ctypes.c_uint(blocks), ctypes.c_uint(pending.LSE_THREADS))
        return out

    def sinkhorn_log_iterations(self, K, u, v, loga, logb, a, tau_a, tau_b, n_iter, tol):
        """The pending wrapper's loop (``pending.log_sweeps``) on the emulated reductions."""
        K = np.ascontiguousarray(K)
        return pending.log_sweeps(
            np, K, u, v, loga, logb, a, tau_a, tau_b, n_iter, tol,
            lambda K_, v_: self.lse_rows(K_, np.ascontiguousarray(v_, dtype=np.float64)),
            lambda K_, u_: self.lse_cols(K_, np.ascontiguousarray(u_, dtype=np.float64)))

    def fwht_rows(self, x, scale=1, log_tile=pending.FWHT_LOG_TILE, max_grid=3):
        """The pending wrapper's launches (``pending.fwht_launches``) on the emulated kernels,
        in place; ``max_grid`` caps the radix passes' grids to exercise their stride loops."""
        assert x.flags.c_contiguous and x.ndim == 2
        s = {np.dtype(np.float32): "f", np.dtype(np.float64): "d",
             np.dtype(np.int64): "l"}[x.dtype]
        for kind, grid, block, args, shared in pending.fwht_launches(*x.shape, x.itemsize,
                                                                     log_tile):
            fn = getattr(self.lib, f"emu_fwht_{kind}_{s}")
            if kind == "tile":
                assert shared <= 1 << 16
                fn(self._p(x), ctypes.c_int(args[0]), ctypes.c_uint(grid), ctypes.c_uint(block))
            else:
                fn(self._p(x), ctypes.c_longlong(args[0]), ctypes.c_int(args[1]),
                   ctypes.c_uint(min(grid, max_grid)), ctypes.c_uint(block))
        if scale != 1:
            x *= x.dtype.type(scale)
        return x


def emulator(workdir):
    """Compile the emulation library in ``workdir`` with the host C++ compiler."""
    cxx = shutil.which(os.environ.get("CXX", "g++")) or shutil.which("c++")
    if cxx is None:
        raise FileNotFoundError("a C++ compiler (g++)")
    src = os.path.join(workdir, "pending_emu.cpp")
    lib = os.path.join(workdir, "pending_emu.so")
    with open(src, "w") as fh:
        fh.write(_emu_source())
    proc = subprocess.run([cxx, "-std=c++20", "-O1", "-shared", "-fPIC", "-pthread", src, "-o",
                           lib], capture_output=True, text=True, timeout=300)
    if proc.returncode:
        raise RuntimeError(f"{cxx} failed:\n{proc.stderr[-4000:]}")
    return Emulator(ctypes.CDLL(lib))
