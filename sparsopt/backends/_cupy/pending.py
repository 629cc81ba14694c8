"""Hand-written CuPy kernels that have NOT run on a device yet (issue 23, Part 2 item 4).

Nothing in the package imports this module, and the dispatch does not know these kernels:
under the project's rule a CuPy kernel enters the dispatch only after it ran on a device and
matched the NumPy reference there. Until then a CuPy array reaches the namespace-generic NumPy
references (``register_kernel(op, "numpy", array_api=True)``).

What is here (sources reviewed and compiled with ``nvcc --ptx`` and emulated on the CPU by
``tests/gpu/test_pending_sources.py``, never run by CuPy on a GPU):

* one ``cupy.ElementwiseKernel`` per separable prox op of
  ``sparsopt/backends/_numpy/prox.py``, same signature ``(x, params..., out)`` (``prox_l1``,
  ``prox_l0``, ``prox_elasticnet``, ``prox_lhalf``, ``prox_ltwothirds``, ``prox_lq``,
  ``prox_cel0``, ``prox_mcp``, ``prox_scad``, ``prox_log``, ``prox_box``): the arithmetic in
  float64 as the reference, NaN entries of ``x`` kept NaN, the result cast to ``out``'s dtype;
* ``sinkhorn_log_iterations``: the log-domain Sinkhorn sweeps of
  ``sparsopt/backends/_numpy/sinkhorn.py`` with two ``RawKernel``-style reductions, an online
  (max-shifted) log-sum-exp per row (one block per row, shared-memory tree) and per column
  (threads over columns, coalesced, partial results over row chunks merged by a second kernel);
* ``fwht_rows``: the Walsh-Hadamard butterflies of ``sparsopt/backends/_numpy/wht.py``, the
  first ``log2(tile)`` stages on tiles held in shared memory (tile = 4,096 values or the row),
  the remaining stages as global radix-4 passes (one radix-2 pass when their count is odd).

Not written: the batched coding-step update of FISTA and the sparse Hessian assembly of SNS
(the generic paths are dense matrix products and masked dense work, see ``gpu/README.md``).

Use, on a machine with CuPy and a device::

    from sparsopt.backends._cupy import pending
    ops = pending.register_pending()      # the dispatch now routes CuPy arrays to them
    ...                                   # run tests/gpu/test_cupy_pending.py, gpu/bench_gpu.py
    pending.unregister_pending(ops)

CuPy is imported lazily (inside the functions), so this module imports without CuPy: the CUDA
sources can be read and checked anywhere.
"""

from __future__ import annotations

import functools

import numpy as np

# ----------------------------------------------------------------------------- prox
#: shared device helpers of the prox kernels
PROX_PREAMBLE = r"""
__device__ __forceinline__ double so_sgn(double v) {
    return v > 0.0 ? 1.0 : (v < 0.0 ? -1.0 : 0.0);
}
"""

#: op -> (input params after ``T x``, body); the body reads ``x`` (type T) and writes ``y``
#: (type T); ``xv`` is ``x`` in double; ``i`` is the element's C-order index. CuPy binds
#: ``x`` and ``y`` as references to the arrays' elements, and ``out`` may be ``x`` itself: every
#: body reads ``x`` before its single write of ``y``.
PROX_KERNELS = {
    "prox_l1": ("float64 thresh", r"""
        if (isnan(xv)) { y = x; } else {
            double r = fabs(xv) - thresh;
            y = (T)(so_sgn(xv) * (r > 0.0 ? r : 0.0));
        }"""),
    "prox_l0": ("float64 thresh", r"""
        y = (isnan(xv) || fabs(xv) > thresh) ? x : (T)0;"""),
    "prox_elasticnet": ("float64 thresh, float64 scale", r"""
        if (isnan(xv)) { y = x; } else {
            double r = fabs(xv) - thresh;
            y = (T)(so_sgn(xv) * (r > 0.0 ? r : 0.0) / scale);
        }"""),
    "prox_lhalf": ("float64 c", r"""
        if (c == 0.0 || isnan(xv)) { y = x; } else {
            double t = fabs(xv);
            double ell = 2.0 * c;
            double thr = (pow(54.0, 1.0 / 3.0) / 4.0) * pow(ell, 2.0 / 3.0);
            double res = 0.0;
            if (t > thr) {
                double arg = (ell / 8.0) * pow(t / 3.0, -1.5);
                arg = arg < -1.0 ? -1.0 : (arg > 1.0 ? 1.0 : arg);
                double phi = acos(arg);
                res = (2.0 / 3.0) * t
                      * (1.0 + cos(2.0 * 3.141592653589793 / 3.0 - (2.0 / 3.0) * phi));
            }
            y = (T)(so_sgn(xv) * res);
        }"""),
    "prox_ltwothirds": ("float64 c", r"""
        if (c == 0.0 || isnan(xv)) { y = x; } else {
            const double k = 2.0 / 3.0;
            double s = pow(c, 0.75);
            double t = fabs(xv) / s;
            if (t > 1e150) { y = x; } else {
                double arg = 3.0 * sqrt(3.0) * t * t / (16.0 * pow(k, 1.5));
                double base = 2.0 * sqrt(k / 3.0);
                double m = arg >= 1.0 ? base * cosh(acosh(arg) / 3.0)
                                      : base * cos(acos(arg) / 3.0);
                double r = sqrt(2.0 * m);
                double disc = 2.0 * t / r - 2.0 * m;
                double z = 0.5 * (r + sqrt(disc > 0.0 ? disc : 0.0));
                double cand = z * z * z;
                bool keep = disc >= 0.0 && t >= 2.0 * pow(k, 0.75)
                            && 0.5 * (cand - t) * (cand - t) + z * z < 0.5 * t * t;
                y = keep ? (T)(so_sgn(xv) * cand * s) : (T)0;
            }
        }"""),
    "prox_lq": ("float64 c, float64 q", r"""
        if (c == 0.0 || isnan(xv)) { y = x; } else {
            double s = pow(c, 1.0 / (2.0 - q));
            double t = fabs(xv) / s;
            if (t > 1e150) { y = x; } else {
                double xs = pow(q * (1.0 - q), 1.0 / (2.0 - q));
                double gmin = xs + q * pow(xs, q - 1.0);
                double res = 0.0;
                if (t > gmin) {
                    double z = t;
                    for (int it = 0; it < 100; ++it) {
                        double h = z + q * pow(z, q - 1.0) - t;
                        double dh = 1.0 - q * (1.0 - q) * pow(z, q - 2.0);
                        double step = h / dh;
                        z -= step;
                        if (fabs(step) <= 1e-15 * (t > 1.0 ? t : 1.0)) break;
                    }
                    if (0.5 * (z - t) * (z - t) + pow(fabs(z), q) < 0.5 * t * t)
                        res = so_sgn(xv) * z * s;
                }
                y = (T)res;
            }
        }"""),
    "prox_cel0": ("raw float64 a, int64 na, float64 lam, float64 step", r"""
        if (isnan(xv)) { y = x; } else {
            double aj = a[i % na];
            double t = fabs(xv);
            double thr = sqrt(2.0 * lam) * aj * step;
            double v = (t - thr > 0.0 ? t - thr : 0.0) / (1.0 - aj * aj * step);
            y = (T)(so_sgn(xv) * (t < v ? t : v));
        }"""),
    "prox_mcp": ("float64 lam, float64 gamma, float64 step", r"""
        if (isnan(xv)) { y = x; } else {
            double t = fabs(xv);
            if (t <= step * lam) { y = (T)0; }
            else if (t <= gamma * lam) {
                y = (T)(so_sgn(xv) * (t - step * lam) / (1.0 - step / gamma));
            } else { y = x; }
        }"""),
    "prox_scad": ("float64 lam, float64 a, float64 step", r"""
        if (isnan(xv)) { y = x; } else {
            double t = fabs(xv);
            if (t <= lam * (1.0 + step)) {
                double r = t - step * lam;
                y = (T)(so_sgn(xv) * (r > 0.0 ? r : 0.0));
            } else if (t <= a * lam) {
                y = (T)(so_sgn(xv) * ((a - 1.0) * t - a * step * lam) / (a - 1.0 - step));
            } else { y = x; }
        }"""),
    "prox_log": ("float64 c, float64 eps", r"""
        if (isnan(xv)) { y = x; } else {
            double t = fabs(xv);
            double disc = (t + eps) * (t + eps) - 4.0 * c;
            double xp = 0.5 * ((t - eps) + sqrt(disc > 0.0 ? disc : 0.0));
            bool ok = disc >= 0.0 && xp > 0.0;
            if (!ok) xp = 0.0;
            double obj = 0.5 * (xp - t) * (xp - t) + c * log1p(xp / eps);
            y = (ok && obj < 0.5 * t * t) ? (T)(so_sgn(xv) * xp) : (T)0;
        }"""),
    "prox_box": ("float64 lower, float64 upper", r"""
        T lo = (T)lower;
        T hi = (T)upper;
        T v = x < lo ? lo : x;
        y = v > hi ? hi : v;"""),
}


def prox_operation(op):
    """The ``ElementwiseKernel`` operation of ``op`` (its body after ``double xv = x``)."""
    return "double xv = (double)x;\n" + PROX_KERNELS[op][1].strip("\n")


@functools.cache
def _prox_kernel(op):
    import cupy as cp

    params, _ = PROX_KERNELS[op]
    return cp.ElementwiseKernel(f"T x, {params}", "T y", prox_operation(op),
                                f"sparsopt_{op}", preamble=PROX_PREAMBLE)


def _float_param(p):
    """A scalar stays a host scalar; an array parameter becomes a float64 device array."""
    if isinstance(p, (int, float, np.integer, np.floating)):
        return float(p)
    import cupy as cp

    return cp.asarray(p, dtype=cp.float64)


def _check_x(op, x, out):
    import cupy as cp

    if not isinstance(x, cp.ndarray) or not isinstance(out, cp.ndarray):
        raise TypeError(f"{op} (CuPy kernel): x and out must be cupy arrays.")
    if x.dtype not in (cp.float32, cp.float64) or out.dtype != x.dtype:
        raise TypeError(f"{op} (CuPy kernel): float32 or float64 x and out of the same dtype, "
                        f"got {x.dtype} and {out.dtype}.")
    if out.shape != x.shape:
        raise ValueError(f"{op} (CuPy kernel): out has shape {out.shape}, x {x.shape}.")


def _make_prox(op):
    def kernel(x, *args):
        *params, out = args
        _check_x(op, x, out)
        if op == "prox_cel0":
            import cupy as cp

            a, lam, step = params
            a = cp.asarray(a, dtype=cp.float64).ravel()
            params = (a, a.size, float(lam), float(step))
        else:
            params = tuple(_float_param(p) for p in params)
        _prox_kernel(op)(x, *params, out)
        return out

    kernel.__name__ = f"{op}_cupy"
    kernel.__doc__ = f"CuPy ElementwiseKernel of ``{op}`` (pending: not yet run on a device)."
    return kernel


PROX_FUNCTIONS = {op: _make_prox(op) for op in PROX_KERNELS}

# ----------------------------------------------------------------------------- sinkhorn
#: online (max-shifted) log-sum-exp reductions: rows with one block per row, columns with
#: threads over columns and partial results over row chunks
LSE_SOURCE = r"""
#define SO_LSE_THREADS 256
#define SO_INF __longlong_as_double(0x7ff0000000000000LL)
#define SO_NAN __longlong_as_double(0x7ff8000000000000LL)

// running (max m, sum s of exp(value - m), NaN seen) of a log-sum-exp
__device__ __forceinline__ void so_lse_add(double &m, double &s, int &bad, double val) {
    if (val != val) { bad = 1; return; }
    if (val == -SO_INF || m == SO_INF) return;   // exp(-inf) = 0; the sum is +inf already
    if (val > m) { s = s * exp(m - val) + 1.0; m = val; }
    else { s += exp(val - m); }
}

__device__ __forceinline__ void so_lse_merge(double &m, double &s, int &bad,
                                             double m2, double s2, int bad2) {
    bad |= bad2;
    if (m2 == -SO_INF || m == SO_INF) return;
    if (m2 == SO_INF) { m = SO_INF; s = 1.0; return; }
    if (m2 > m) { s = s * exp(m - m2) + s2; m = m2; }
    else { s += s2 * exp(m2 - m); }
}

__device__ __forceinline__ double so_lse_finish(double m, double s, int bad) {
    if (bad) return SO_NAN;
    if (m == -SO_INF || m == SO_INF) return m;
    return m + log(s);
}

// out[i] = log sum_j exp(v[j] + K[i, j]) for a C-contiguous K (n, m); blockDim.x = 256
template<typename T>
__global__ void so_lse_rows(const T* __restrict__ K, const double* __restrict__ v,
                            double* __restrict__ out, long long n, long long m) {
    __shared__ double sh_m[SO_LSE_THREADS];
    __shared__ double sh_s[SO_LSE_THREADS];
    __shared__ int sh_b[SO_LSE_THREADS];
    const int tid = threadIdx.x;
    for (long long i = blockIdx.x; i < n; i += gridDim.x) {
        const T* row = K + i * m;
        double mx = -SO_INF, s = 0.0;
        int bad = 0;
        for (long long j = tid; j < m; j += blockDim.x)
            so_lse_add(mx, s, bad, v[j] + (double)row[j]);
        sh_m[tid] = mx; sh_s[tid] = s; sh_b[tid] = bad;
        __syncthreads();
        for (int off = blockDim.x / 2; off > 0; off >>= 1) {
            if (tid < off)
                so_lse_merge(sh_m[tid], sh_s[tid], sh_b[tid],
                             sh_m[tid + off], sh_s[tid + off], sh_b[tid + off]);
            __syncthreads();
        }
        if (tid == 0) out[i] = so_lse_finish(sh_m[0], sh_s[0], sh_b[0]);
        __syncthreads();  // the shared arrays are reused by the next row
    }
}

// partial column log-sum-exps of u[i] + K[i, j] over the rows of chunk blockIdx.y
template<typename T>
__global__ void so_lse_cols_partial(const T* __restrict__ K, const double* __restrict__ u,
                                    double* __restrict__ pm, double* __restrict__ ps,
                                    int* __restrict__ pb, long long n, long long m,
                                    long long rows_per_chunk) {
    const long long j = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (j >= m) return;
    const long long c = blockIdx.y;
    const long long i0 = c * rows_per_chunk;
    const long long i1 = i0 + rows_per_chunk < n ? i0 + rows_per_chunk : n;
    double mx = -SO_INF, s = 0.0;
    int bad = 0;
    for (long long i = i0; i < i1; ++i)
        so_lse_add(mx, s, bad, u[i] + (double)K[i * m + j]);
    pm[c * m + j] = mx; ps[c * m + j] = s; pb[c * m + j] = bad;
}

__global__ void so_lse_cols_merge(const double* __restrict__ pm, const double* __restrict__ ps,
                                  const int* __restrict__ pb, double* __restrict__ out,
                                  long long m, long long n_chunks) {
    const long long j = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (j >= m) return;
    double mx = -SO_INF, s = 0.0;
    int bad = 0;
    for (long long c = 0; c < n_chunks; ++c)
        so_lse_merge(mx, s, bad, pm[c * m + j], ps[c * m + j], pb[c * m + j]);
    out[j] = so_lse_finish(mx, s, bad);
}
"""
LSE_THREADS = 256
LSE_NAMES = ("so_lse_rows<float>", "so_lse_rows<double>", "so_lse_cols_partial<float>",
             "so_lse_cols_partial<double>", "so_lse_cols_merge")


@functools.cache
def _lse_module():
    import cupy as cp

    return cp.RawModule(code=LSE_SOURCE, name_expressions=LSE_NAMES)


def _ctype(dtype):
    return {np.dtype(np.float32): "float", np.dtype(np.float64): "double",
            np.dtype(np.int64): "long long"}[np.dtype(dtype)]


def lse_rows(K, v):
    """``log sum_j exp(v_j + K_ij)`` for every row ``i`` (float64)."""
    import cupy as cp

    n, m = K.shape
    out = cp.empty(n, dtype=cp.float64)
    if n == 0:
        return out
    fn = _lse_module().get_function(f"so_lse_rows<{_ctype(K.dtype)}>")
    fn((min(n, 2**31 - 1),), (LSE_THREADS,), (K, v, out, np.int64(n), np.int64(m)))
    return out


def lse_col_chunks(n, m):
    """``(n_chunks, rows_per_chunk)`` of the column reduction of an ``(n, m)`` matrix.

    Enough threads (``n_chunks * m``, about 2^18) to fill the device, chunks of at least 16
    rows, at most 65,535 chunks (the grid's y limit). Host-side and pure (tested without a
    device).
    """
    n_chunks = int(max(1, min(-(-n // 16), -(-(2**18) // max(m, 1)), 65535)))
    return n_chunks, max(1, -(-n // n_chunks))


def lse_cols(K, u):
    """``log sum_i exp(u_i + K_ij)`` for every column ``j`` (float64)."""
    import cupy as cp

    n, m = K.shape
    out = cp.empty(m, dtype=cp.float64)
    if m == 0:
        return out
    n_chunks, rows = lse_col_chunks(n, m)
    pm = cp.empty((n_chunks, m), dtype=cp.float64)
    ps = cp.empty((n_chunks, m), dtype=cp.float64)
    pb = cp.empty((n_chunks, m), dtype=cp.int32)
    mod = _lse_module()
    blocks = -(-m // LSE_THREADS)
    mod.get_function(f"so_lse_cols_partial<{_ctype(K.dtype)}>")(
        (blocks, n_chunks), (LSE_THREADS,),
        (K, u, pm, ps, pb, np.int64(n), np.int64(m), np.int64(rows)))
    mod.get_function("so_lse_cols_merge")(
        (blocks,), (LSE_THREADS,), (pm, ps, pb, out, np.int64(m), np.int64(n_chunks)))
    return out


def log_sweeps(xp, K, u, v, loga, logb, a, tau_a, tau_b, n_iter, tol, rows, cols):
    """The sweep loop of ``sinkhorn_log_iterations`` with the reductions ``rows(K, v)`` and
    ``cols(K, u)`` passed in (CuPy kernels on a device; emulated ones in the tests)."""
    err = float("inf")
    for it in range(int(n_iter)):
        lse = rows(K, v)
        err = float(xp.sum(xp.abs(xp.exp(u + lse) - a)))
        if err <= tol:
            return it, err
        u[...] = tau_a * (loga - lse)
        lse_c = cols(K, u)
        v[...] = tau_b * (logb - lse_c)
    return int(n_iter), err


def sinkhorn_log_iterations(K, u, v, loga, logb, a, tau_a, tau_b, n_iter, tol):
    """CuPy log-domain Sinkhorn sweeps (pending); same contract as the NumPy reference.

    ``u`` and ``v`` are updated in place; returns ``(sweeps done, last L1 row error)``.
    One host synchronisation per sweep (the error test), as the reference.
    """
    import cupy as cp

    if K.dtype not in (cp.float32, cp.float64):
        raise TypeError(f"sinkhorn_log_iterations (CuPy kernel): K must be float32 or float64, "
                        f"got {K.dtype}.")
    K = cp.ascontiguousarray(K)
    return log_sweeps(
        cp, K, u, v, loga, logb, a, tau_a, tau_b, n_iter, tol,
        lambda K_, v_: lse_rows(K_, cp.ascontiguousarray(v_, dtype=cp.float64)),
        lambda K_, u_: lse_cols(K_, cp.ascontiguousarray(u_, dtype=cp.float64)))


# ----------------------------------------------------------------------------- fwht
#: butterflies: stages 0 .. log_tile-1 on shared-memory tiles, then global radix-4/2 passes
FWHT_SOURCE = r"""
// stages h = 1, 2, ..., 2^(log_tile - 1) on consecutive tiles of 2^log_tile values
// (a tile never crosses a row: the row length is a power of two >= the tile)
template<typename T>
__global__ void so_fwht_tile(T* __restrict__ x, int log_tile) {
    extern __shared__ unsigned char so_smem[];
    T* s = reinterpret_cast<T*>(so_smem);
    const int tile = 1 << log_tile;
    const long long base = (long long)blockIdx.x * tile;
    for (int k = threadIdx.x; k < tile; k += blockDim.x) s[k] = x[base + k];
    __syncthreads();
    for (int lh = 0; lh < log_tile; ++lh) {
        const int h = 1 << lh;
        for (int p = threadIdx.x; p < tile / 2; p += blockDim.x) {
            const int i = ((p >> lh) << (lh + 1)) | (p & (h - 1));
            const T a = s[i];
            const T b = s[i + h];
            s[i] = a + b;
            s[i + h] = a - b;
        }
        __syncthreads();
    }
    for (int k = threadIdx.x; k < tile; k += blockDim.x) x[base + k] = s[k];
}

// one stage h = 2^lh over the whole array: n_pairs = x.size / 2 butterflies
template<typename T>
__global__ void so_fwht_radix2(T* __restrict__ x, long long n_pairs, int lh) {
    const long long h = 1LL << lh;
    const long long stride = (long long)gridDim.x * blockDim.x;
    for (long long p = (long long)blockIdx.x * blockDim.x + threadIdx.x; p < n_pairs;
         p += stride) {
        const long long i = ((p >> lh) << (lh + 1)) | (p & (h - 1));
        const T a = x[i];
        const T b = x[i + h];
        x[i] = a + b;
        x[i + h] = a - b;
    }
}

// two stages h = 2^lh and 2h at once: n_quads = x.size / 4 groups of four values
template<typename T>
__global__ void so_fwht_radix4(T* __restrict__ x, long long n_quads, int lh) {
    const long long h = 1LL << lh;
    const long long stride = (long long)gridDim.x * blockDim.x;
    for (long long p = (long long)blockIdx.x * blockDim.x + threadIdx.x; p < n_quads;
         p += stride) {
        const long long i = ((p >> lh) << (lh + 2)) | (p & (h - 1));
        const T a0 = x[i];
        const T a1 = x[i + h];
        const T a2 = x[i + 2 * h];
        const T a3 = x[i + 3 * h];
        const T b0 = a0 + a1;
        const T b1 = a0 - a1;
        const T b2 = a2 + a3;
        const T b3 = a2 - a3;
        x[i] = b0 + b2;
        x[i + h] = b1 + b3;
        x[i + 2 * h] = b0 - b2;
        x[i + 3 * h] = b1 - b3;
    }
}
"""
FWHT_TYPES = ("float", "double", "long long")
FWHT_NAMES = tuple(f"so_fwht_{k}<{t}>" for k in ("tile", "radix2", "radix4") for t in FWHT_TYPES)
FWHT_LOG_TILE = 12  # 4,096 values: 32 KiB of shared memory in float64/int64
FWHT_THREADS = 256


@functools.cache
def _fwht_module():
    import cupy as cp

    return cp.RawModule(code=FWHT_SOURCE, name_expressions=FWHT_NAMES)


def fwht_plan(n, log_tile=FWHT_LOG_TILE):
    """The launches of a length-``n`` transform: ``[("tile", L)] + [("radix4"|"radix2", lh)]``.

    Host-side and pure, so that it is tested without a device.
    """
    log_n = int(n).bit_length() - 1
    if n < 1 or (1 << log_n) != n:
        raise ValueError(f"the row length must be a power of two, got {n}")
    if log_n == 0:
        return []
    lt = min(log_n, int(log_tile))
    plan = [("tile", lt)]
    lh = lt
    while lh < log_n:
        if lh + 1 < log_n:
            plan.append(("radix4", lh))
            lh += 2
        else:
            plan.append(("radix2", lh))
            lh += 1
    return plan


def fwht_launches(n_rows, n, itemsize, log_tile=FWHT_LOG_TILE):
    """Kernel launches of :func:`fwht_rows` on an ``(n_rows, n)`` array.

    A list of ``(kind, grid, block, args, shared_bytes)``: ``kind`` in ``"tile"`` (args
    ``(log_tile,)``), ``"radix4"``/``"radix2"`` (args ``(work items, lh)``). Host-side and
    pure (the tests emulate these launches on the CPU).
    """
    total = n_rows * n
    launches = []
    for kind, arg in (fwht_plan(n, log_tile) if total else []):
        if kind == "tile":
            tile = 1 << arg
            launches.append(("tile", total // tile, max(1, min(FWHT_THREADS, tile // 2)),
                             (arg,), tile * itemsize))
        else:
            work = total // (4 if kind == "radix4" else 2)
            blocks = int(min(-(-work // FWHT_THREADS), 2**31 - 1))
            launches.append((kind, blocks, FWHT_THREADS, (work, arg), 0))
    return launches


def fwht_rows(x, scale=1, n_threads=1):
    """CuPy Walsh-Hadamard transform of the rows of ``x`` in place (pending).

    Same contract as the NumPy reference: a C-contiguous 2-D float32, float64 or int64
    array, unnormalised natural order, then multiplied by ``scale``; ``n_threads`` ignored.
    """
    import cupy as cp

    if x.ndim != 2 or not x.flags.c_contiguous:
        raise ValueError("fwht_rows (CuPy kernel): x must be a C-contiguous 2-D array.")
    if x.dtype not in (cp.float32, cp.float64, cp.int64):
        raise TypeError(f"fwht_rows (CuPy kernel): float32, float64 or int64, got {x.dtype}.")
    ctype = _ctype(x.dtype)
    mod = _fwht_module()
    for kind, grid, block, args, shared in fwht_launches(*x.shape, x.itemsize):
        fn = mod.get_function(f"so_fwht_{kind}<{ctype}>")
        if kind == "tile":
            fn((grid,), (block,), (x, np.int32(args[0])), shared_mem=shared)
        else:
            fn((grid,), (block,), (x, np.int64(args[0]), np.int32(args[1])))
    if scale != 1:
        x *= x.dtype.type(scale)
    return x


# ----------------------------------------------------------------------------- registry
PENDING = dict(PROX_FUNCTIONS, sinkhorn_log_iterations=sinkhorn_log_iterations,
               fwht_rows=fwht_rows)


def register_pending(ops=None):
    """Register the pending kernels (all, or ``ops``) as the ``"cupy"`` kernels of their ops.

    For a device check only (tests, benchmark): dispatch then sends CuPy arrays to them.
    Returns the list of ops registered; :func:`unregister_pending` undoes it.
    """
    from .._registry import cupy_available, register_kernel

    if not cupy_available():
        raise RuntimeError("register_pending needs CuPy and a CUDA device.")
    names = list(PENDING) if ops is None else list(ops)
    unknown = sorted(set(names) - set(PENDING))
    if unknown:
        raise ValueError(f"no pending CuPy kernel for {unknown}; pending: {sorted(PENDING)}.")
    for op in names:
        register_kernel(op, "cupy")(PENDING[op])
    return names


def unregister_pending(ops=None):
    """Remove the pending kernels registered by :func:`register_pending` from the dispatch."""
    from .. import _registry

    with _registry._lock:
        for op in list(PENDING) if ops is None else list(ops):
            if _registry._KERNELS.get((op, "cupy")) is PENDING.get(op):
                del _registry._KERNELS[(op, "cupy")]
