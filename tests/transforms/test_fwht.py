"""The dense fast Walsh-Hadamard transform: ``sparsopt.transforms.fwht`` / ``ifwht``.

Against ``scipy.linalg.hadamard`` (the matrix product, in exact integers and in
floats), against the NumPy reference kernel through the public function (any axis,
batches, both float dtypes), with the Numba kernel's cache geometry shrunk so that
every code path (L1 sub-blocks, L2 blocks, column panels, radix-8/4/2 remainders,
threads over rows and within a row) runs on small arrays.
"""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy.linalg import hadamard

import sparsopt.backends._numba.wht as nbwht
from sparsopt.transforms import fwht, ifwht

FLOATS = (np.float32, np.float64)


def _tol(x, n, dtype):
    eps = float(np.finfo(dtype).eps)
    mass = float(np.abs(np.asarray(x, dtype=np.float64)).sum()) if np.size(x) else 0.0
    return 8 * max(1, math.log2(n)) * eps * (mass + 1.0)


@st.composite
def _batch(draw, dtypes=FLOATS, max_log_n=8):
    dtype = draw(st.sampled_from(dtypes))
    log_n = draw(st.integers(0, max_log_n))
    ndim = draw(st.integers(1, 3))
    axis = draw(st.integers(-ndim, ndim - 1))
    shape = [draw(st.integers(0, 3)) for _ in range(ndim)]
    shape[axis] = 2**log_n
    x = draw(hnp.arrays(dtype, tuple(shape),
                        elements=st.floats(-100, 100, allow_nan=False, width=32)))
    return x, axis


@settings(max_examples=60, deadline=None)
@given(case=_batch(), normalize=st.sampled_from([None, "ortho"]), n_jobs=st.sampled_from([None, 2]))
def test_matches_numpy_reference_any_axis(case, normalize, n_jobs):
    x, axis = case
    n = x.shape[axis]
    got = fwht(x, axis=axis, normalize=normalize, n_jobs=n_jobs, engine="numba")
    ref = fwht(x, axis=axis, normalize=normalize, engine="numpy")
    assert got.dtype == x.dtype and got.shape == x.shape
    np.testing.assert_allclose(got, ref, rtol=0, atol=_tol(x, n, x.dtype))


@settings(max_examples=40, deadline=None)
@given(case=_batch(max_log_n=6))
def test_matches_scipy_hadamard_matrix(case):
    x, axis = case
    n = x.shape[axis]
    H = hadamard(n).astype(np.float64)
    ref = np.moveaxis(np.moveaxis(x.astype(np.float64), axis, -1) @ H, -1, axis)
    np.testing.assert_allclose(fwht(x, axis=axis), ref, rtol=0, atol=_tol(x, n, x.dtype))
    np.testing.assert_allclose(ifwht(x, axis=axis), ref / n, rtol=0,
                               atol=_tol(x, n, x.dtype) / n)


@pytest.mark.parametrize("log_n", [0, 1, 2, 3, 5, 6, 7, 9, 10])
def test_integer_exact_mode_equals_hadamard_product(log_n):
    n = 2**log_n
    rng = np.random.default_rng(log_n)
    # entries near 2**44: a float64 transform would round, the int64 one must not
    x = rng.integers(-(2**44), 2**44, size=(3, n)) + (2**44 + 1)
    X = fwht(x)
    assert X.dtype == np.int64
    H = hadamard(n).astype(object)
    ref = np.array([[int(v) for v in row] for row in x], dtype=object) @ H
    assert X.tolist() == ref.tolist()
    np.testing.assert_array_equal(fwht(x, engine="numpy"), X)
    np.testing.assert_array_equal(fwht((x // 2**20).astype(np.int32)), fwht(x // 2**20))


def test_integer_dtypes_and_booleans():
    assert fwht(np.array([1, 0, 1, 1], dtype=np.uint8)).tolist() == [3, 1, -1, 1]
    assert fwht(np.array([True, False])).dtype == np.int64
    assert fwht(np.arange(4, dtype=np.int16), normalize="ortho").dtype == np.float64
    assert ifwht(np.arange(4)).dtype == np.float64
    assert fwht(np.arange(4, dtype=np.float16)).dtype == np.float32
    np.testing.assert_array_equal(fwht([1, 2, 3, 4]), [10, -2, -4, 0])


@pytest.mark.parametrize("n", [1, 2, 4])
def test_scaled_integer_input_is_float64_at_every_length(n):
    # a length-1 transform scales by 1.0: still the float64 of every other length, so
    # that code written for any n (out= included) does not break at n = 1
    x = np.arange(2 * n).reshape(2, n)
    assert ifwht(x).dtype == np.float64
    assert fwht(x, normalize="ortho").dtype == np.float64
    assert fwht(x).dtype == np.int64
    out = np.empty((2, n))
    assert ifwht(x, out=out) is out
    np.testing.assert_allclose(out, ifwht(x.astype(np.float64)))


def test_integer_overflow_is_refused():
    n = 1024
    ok = np.full(n, (2**63 - 1) // n, dtype=np.int64)
    assert fwht(ok)[0] == ok[0] * n
    with pytest.raises(ValueError, match="overflow int64.*astype"):
        fwht(ok + 1)
    with pytest.raises(ValueError, match="overflow"):
        fwht(np.array([np.iinfo(np.int64).min, 0]))
    with pytest.raises(ValueError, match="overflow"):
        fwht(np.array([2**63, 0], dtype=np.uint64))


@pytest.mark.parametrize("dtype", FLOATS)
def test_ortho_is_orthogonal_and_involutive(dtype):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 256)).astype(dtype)
    X = fwht(x, normalize="ortho")
    rtol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(np.sum(X.astype(np.float64) ** 2, axis=1),
                               np.sum(x.astype(np.float64) ** 2, axis=1), rtol=rtol)  # Parseval
    np.testing.assert_allclose(fwht(X, normalize="ortho"), x, rtol=0, atol=50 * rtol)
    np.testing.assert_allclose(ifwht(X, normalize="ortho"), x, rtol=0, atol=50 * rtol)
    np.testing.assert_allclose(ifwht(fwht(x)), x, rtol=0, atol=50 * rtol)
    H = hadamard(256) / 16.0
    np.testing.assert_allclose(fwht(np.eye(256), normalize="ortho"), H, atol=1e-15)


def test_round_trip_is_exact_on_integers():
    x = np.random.default_rng(1).integers(-1000, 1000, size=(5, 64))
    np.testing.assert_array_equal(ifwht(fwht(x)), x)  # power-of-two scaling, exact


@pytest.mark.parametrize("dtype", FLOATS)
def test_in_place_without_copy(dtype):
    x = np.random.default_rng(2).standard_normal((3, 64)).astype(dtype)
    ref = fwht(x)
    y = x.copy()
    ptr = y.__array_interface__["data"][0]
    out = fwht(y, out=y)
    assert out is y and y.__array_interface__["data"][0] == ptr
    np.testing.assert_array_equal(y, ref)
    z = x.copy()
    assert ifwht(z, out=z, normalize="ortho") is z
    np.testing.assert_allclose(z, ref / 8.0, rtol=1e-6)
    # in place along another axis, and into a separate out
    w = np.ascontiguousarray(x.T)
    assert fwht(w, axis=0, out=w) is w
    np.testing.assert_array_equal(w, ref.T)
    o = np.empty_like(x)
    assert fwht(x, out=o) is o
    np.testing.assert_array_equal(o, ref)
    o2 = np.empty((64, 3), dtype=dtype).T  # not C-contiguous
    assert fwht(x, out=o2) is o2
    np.testing.assert_array_equal(o2, ref)


def test_input_is_not_modified_without_out():
    x = np.arange(16.0)
    x0 = x.copy()
    fwht(x)
    fwht(x.reshape(4, 4), axis=0)
    np.testing.assert_array_equal(x, x0)
    x.setflags(write=False)
    assert fwht(x)[0] == x0.sum()


@pytest.fixture
def tiny_geometry(monkeypatch):
    """Cache blocks of 16 float64 elements, L1 sub-blocks of 8, panels of 2: every code
    path of the Numba kernel at n <= 2**12."""
    monkeypatch.setattr(nbwht, "BLOCK_BYTES", 128)
    monkeypatch.setattr(nbwht, "L1_BYTES", 64)
    monkeypatch.setattr(nbwht, "PANEL_BYTES", 16)
    monkeypatch.setattr(nbwht, "PANEL_MAX_BYTES", 256)
    monkeypatch.setattr(nbwht, "MIN_PARALLEL_BYTES", 0)
    monkeypatch.setattr(nbwht, "POOL_MIN_BYTES", 0)
    return monkeypatch


@pytest.mark.parametrize("dtype", (np.float32, np.float64, np.int64))
@pytest.mark.parametrize("log_n", [4, 5, 6, 7, 8, 9, 10, 11, 12])
def test_blocked_paths_and_threads(tiny_geometry, dtype, log_n):
    n = 2**log_n
    rng = np.random.default_rng(log_n)
    x = (rng.standard_normal((3, n)) * 100).astype(dtype)
    ref = fwht(x, engine="numpy")
    one = fwht(x, engine="numba")
    if dtype == np.int64:
        np.testing.assert_array_equal(one, ref)
    else:
        np.testing.assert_allclose(one, ref, rtol=0, atol=_tol(x[0], n, dtype) * 10)
    for n_jobs in (2, 3, -1):
        np.testing.assert_array_equal(fwht(x, n_jobs=n_jobs), one)  # rows shared
        np.testing.assert_array_equal(fwht(x[:1], n_jobs=n_jobs), one[:1])  # one row shared
    if dtype != np.int64:
        np.testing.assert_array_equal(fwht(x[:1], n_jobs=2, normalize="ortho"),
                                      fwht(x[:1], normalize="ortho"))


@pytest.mark.parametrize("dtype", (np.float32, np.float64, np.int64))
def test_every_in_l1_length_at_default_geometry(dtype):
    """Every length up to 2**13 at the default geometry: the fixed-stride radix-8 passes
    (h = 8, 64, 512) and each radix-2 / radix-4 tail after them, in short-row batches
    and as one row."""
    rng = np.random.default_rng(7)
    for log_n in range(14):
        n = 2**log_n
        x = (rng.standard_normal((5, n)) * 100).astype(dtype)
        ref = fwht(x, engine="numpy")
        got = fwht(x, engine="numba")
        if dtype == np.int64:
            np.testing.assert_array_equal(got, ref)
            np.testing.assert_array_equal(fwht(x[:1], engine="numba"), ref[:1])
        else:
            np.testing.assert_allclose(got, ref, rtol=0, atol=_tol(x[0], n, dtype) * 10)


@pytest.mark.parametrize("dtype", (np.float32, np.float64, np.int64))
def test_at_most_sixteen_blocks_at_2_20(dtype, monkeypatch):
    """2**20 (and 2**19) take at most ``MAX_BLOCKS`` = 16 blocks, so a column panel has at
    most 16 rows (it stays in the 16-way L2 even in 2 MiB pages); results equal the
    reference, threads included (a row shared between two threads: blocks, then column
    panels, whose width is a whole number of vectors)."""
    n = 2**20
    x = (np.random.default_rng(5).standard_normal((1, n)) * 100).astype(dtype)
    block, l1, width = nbwht._geometry(x)
    assert nbwht.MAX_BLOCKS == 16 and 1 < n // block <= 16 and block % l1 == 0
    assert width % (64 // x.itemsize) == 0
    assert n // 2 // nbwht._geometry(x[:, : n // 2])[0] <= 16
    ref = fwht(x, engine="numpy")
    got = fwht(x)
    if dtype == np.int64:
        np.testing.assert_array_equal(got, ref)
    else:
        np.testing.assert_allclose(got, ref, rtol=0, atol=_tol(x, n, dtype))
    np.testing.assert_array_equal(fwht(x, n_jobs=2), got)
    np.testing.assert_array_equal(fwht(x[:, : n // 2]), fwht(x[:, : n // 2], n_jobs=2))


@pytest.mark.parametrize("dtype", FLOATS)
def test_threads_give_identical_results_at_default_geometry(dtype):
    x = np.random.default_rng(3).standard_normal((1, 2**18)).astype(dtype)
    one = fwht(x)
    np.testing.assert_array_equal(fwht(x, n_jobs=2), one)
    np.testing.assert_array_equal(fwht(np.repeat(x[:, :4096], 4, axis=0), n_jobs=2),
                                  np.repeat(fwht(x[:, :4096]), 4, axis=0))
    ref = fwht(x, engine="numpy")
    np.testing.assert_allclose(one, ref, rtol=0, atol=_tol(x, x.size, dtype))


def test_nan_and_inf_propagate_to_the_row():
    x = np.zeros((2, 8))
    x[0, 3] = np.nan
    X = fwht(x)
    assert np.isnan(X[0]).all() and np.all(X[1] == 0)
    x[0, 3] = np.inf
    assert np.isinf(fwht(x)[0]).all()


@pytest.mark.parametrize("bad, match", [
    (np.zeros(3), "power of two"),
    (np.zeros(12), "power of two"),
    (np.zeros((2, 0)), "power of two.*got 0"),
])
def test_length_not_a_power_of_two(bad, match):
    with pytest.raises(ValueError, match=match):
        fwht(bad)
    with pytest.raises(ValueError, match=match):
        ifwht(bad)


def test_bad_arguments():
    x = np.zeros((2, 8))
    with pytest.raises(ValueError, match="normalize"):
        fwht(x, normalize="forward")
    with pytest.raises(ValueError, match="out must have the shape"):
        fwht(x, out=np.zeros((2, 4)))
    with pytest.raises(TypeError, match="out must have dtype float64"):
        fwht(x, out=np.zeros((2, 8), dtype=np.float32))
    with pytest.raises(TypeError, match="out must have dtype int64"):
        fwht(np.zeros(8, dtype=np.int64), out=np.zeros(8))
    with pytest.raises(TypeError, match="out must be"):
        fwht(x, out=[0.0] * 16)
    with pytest.raises(TypeError, match="complex"):
        fwht(np.zeros(4, dtype=complex))
    with pytest.raises(TypeError, match="real numeric"):
        fwht(np.array(["a", "b"]))
    with pytest.raises(ValueError, match="at least one dimension"):
        fwht(np.float64(1.0))
    with pytest.raises(ValueError, match="axis 2 is out of bounds"):
        fwht(x, axis=2)
    with pytest.raises(TypeError, match="axis must be an integer"):
        fwht(x, axis=1.0)
    with pytest.raises(ValueError, match="n_jobs"):
        fwht(x, n_jobs=0)
    with pytest.raises(ValueError, match="engine"):
        fwht(x, engine="fortran")
    with pytest.raises(ValueError, match="engine"):  # twice: an error is never cached
        fwht(x, engine="fortran")
    with pytest.raises(ValueError, match="engine"):  # unhashable: the registry's error
        fwht(x, engine=["numba"])
    ro = np.zeros((2, 8))
    ro.setflags(write=False)
    with pytest.raises(ValueError, match="read-only"):
        fwht(x, out=ro)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # Python >= 3.12: fork + threads
def test_threads_work_in_a_forked_child(tiny_geometry):
    """The kernel's thread pool is per process: a fork after a threaded call must not
    wait on the parent's (absent) worker threads."""
    import multiprocessing

    x = np.random.default_rng(4).standard_normal((1, 256))
    ref = fwht(x, n_jobs=2)
    try:
        ctx = multiprocessing.get_context("fork")
    except ValueError:
        pytest.skip("no fork on this platform")
    with ctx.Pool(1) as pool:
        got = pool.apply_async(fwht, (x,), {"n_jobs": 2}).get(timeout=60)
    np.testing.assert_array_equal(got, ref)


@pytest.mark.parametrize("dtype", (np.float32, np.float64, np.int64))
@pytest.mark.parametrize("shape, axis", [
    ((3, 64, 20), 1), ((64, 100), 0), ((2, 16, 4, 4), 1), ((8, 2, 9), 0),
    ((4, 8, 2, 8), 1), ((2, 1024, 16), -2), ((1, 1024, 8), -2),  # the last one is moved
])
def test_inner_axis_transformed_where_it_lies(dtype, shape, axis):
    rng = np.random.default_rng(5)
    x = (rng.standard_normal(shape) * 50).astype(dtype)
    n = x.shape[axis]
    H = hadamard(n).astype(np.float64)
    ref = np.moveaxis(np.moveaxis(x.astype(np.float64), axis, -1) @ H, -1, axis)
    got = fwht(x, axis=axis)
    assert got.dtype == x.dtype
    ref_np = fwht(x, axis=axis, engine="numpy")
    if dtype == np.int64:
        np.testing.assert_array_equal(got, ref.astype(np.int64))
        np.testing.assert_array_equal(ref_np, got)
    else:
        np.testing.assert_allclose(got, ref, rtol=0, atol=_tol(x, n, dtype) * n)
        np.testing.assert_allclose(ref_np, got, rtol=0, atol=_tol(x, n, dtype) * n)
    y = x.copy()
    ptr = y.__array_interface__["data"][0]
    assert fwht(y, axis=axis, out=y) is y and y.__array_interface__["data"][0] == ptr
    np.testing.assert_array_equal(y, got)


def test_inner_axis_threads_and_long_axis_fallback(monkeypatch):
    monkeypatch.setattr(nbwht, "MIN_PARALLEL_BYTES", 0)
    monkeypatch.setattr(nbwht, "POOL_MIN_BYTES", 0)
    rng = np.random.default_rng(6)
    for shape, axis in [((4, 256, 33), 1), ((1, 512, 300), 1), ((256, 64), 0)]:
        x = rng.standard_normal(shape)
        one = fwht(x, axis=axis)
        for n_jobs in (2, 3):
            np.testing.assert_array_equal(fwht(x, axis=axis, n_jobs=n_jobs), one)
    x = rng.standard_normal((2**15, 8))  # longer than the strided kernel takes: moved last
    np.testing.assert_allclose(fwht(x, axis=0), fwht(np.ascontiguousarray(x.T)).T,
                               rtol=0, atol=1e-9)


def test_small_arrays_run_on_one_thread(monkeypatch):
    """Below ``MIN_PARALLEL_BYTES`` the kernel runs on one thread whatever ``n_jobs``
    says (two threads measured slower while a transform takes a few microseconds);
    above, on the ``prange`` kernels with the threads asked for (at most Numba's)."""
    import numba

    seen = []
    monkeypatch.setattr(nbwht, "_with_numba_threads",
                        lambda chunks, kernel, *args: seen.append((chunks, kernel.__name__)))
    x = np.ones((4, 8))
    fwht(x, n_jobs=2)
    assert seen == []
    monkeypatch.setattr(nbwht, "MIN_PARALLEL_BYTES", 64)
    fwht(x, n_jobs=2)
    fwht(np.ones((1, 8)), n_jobs=2)  # one row shorter than an L1 sub-block: one thread
    fwht(np.ones((2, 8, 64)), axis=1, n_jobs=2)
    if numba.config.NUMBA_NUM_THREADS >= 2 and nbwht._prange_ok():
        assert seen == [(2, "_rows_par"), (2, "_axis_par")]
    else:  # one core, or no thread-safe layer: the pool, from POOL_MIN_BYTES on
        assert seen == []


def test_each_thread_gets_at_least_half_the_threshold(monkeypatch):
    """Many cores do not split a small array thinly: a thread per half of
    ``MIN_PARALLEL_BYTES`` at most, and never more than asked or than Numba has."""
    import numba

    monkeypatch.setattr(numba.config, "NUMBA_NUM_THREADS", 64)
    half = nbwht.MIN_PARALLEL_BYTES // 2
    assert nbwht._chunks(np.empty(2 * half, np.uint8), 64) == 2
    assert nbwht._chunks(np.empty(2 * half, np.uint8), 1) == 1
    assert nbwht._chunks(np.empty(32 * half, np.uint8), 64) == 32
    assert nbwht._chunks(np.empty(32 * half, np.uint8), 8) == 8
    monkeypatch.setattr(numba.config, "NUMBA_NUM_THREADS", 2)
    assert nbwht._chunks(np.empty(32 * half, np.uint8), 8) == 2


def test_prange_kernels_restore_the_thread_count():
    import numba

    if numba.config.NUMBA_NUM_THREADS < 2 or not nbwht._prange_ok():
        pytest.skip("needs two Numba threads on a thread-safe layer")
    before = numba.get_num_threads()
    x = np.random.default_rng(8).standard_normal((3, 2**16))
    np.testing.assert_array_equal(fwht(x, n_jobs=2), fwht(x))
    assert numba.get_num_threads() == before


@settings(max_examples=40, deadline=None)
@given(dtype=st.sampled_from([np.float64, np.float32, np.int64]), groups=st.integers(1, 12),
       seed=st.integers(0, 2**31 - 1), offset=st.integers(0, 7), scaled=st.booleans())
def test_vector_register_stages_match_the_radix2_reference_exactly(dtype, groups, seed,
                                                                   offset, scaled):
    """Stages 1-6 in vector registers (the ``bfly_1_6`` intrinsics: one or two groups at
    a time, software-pipelined from three on) add in the order of the radix-2 reference:
    every 64-group's transform is bit-identical to it, at any offset from a cache line,
    and times ``scale`` in the same pass gives the bits of multiplying afterwards. So do
    float32's stages 1-7 on 128-groups (``bfly_1_7``)."""
    from sparsopt.backends._numpy.wht import fwht_rows as reference

    rng = np.random.default_rng(seed)
    sizes = (64, 128) if dtype == np.float32 else (64,)
    for g in sizes:
        x = (rng.standard_normal(g * groups) * 1e3).astype(dtype)
        buf = np.empty(x.size + 8, dtype)[offset:offset + x.size]  # offset values in
        buf[:] = x
        scale = dtype(3) if scaled else None
        (nbwht._stages_1_7 if g == 128 else nbwht._stages_1_6)(buf, scale)
        want = reference(x.copy().reshape(groups, g)).reshape(-1)
        if scaled:
            want = want * dtype(3)
        np.testing.assert_array_equal(buf, want)


@pytest.mark.parametrize("dtype", (np.float32, np.float64, np.int64))
@pytest.mark.parametrize("rows", [1, 2, 3, 5])
@pytest.mark.parametrize("log_n", [6, 9, 12])
def test_threads_share_uneven_rows_and_single_blocks(tiny_geometry, dtype, rows, log_n):
    """Rows that do not split evenly among the threads: whole rows a thread, the rest
    shared (blocks, then column panels), also rows that fit in one block (cut in 8
    blocks); bit-identical to one thread, on the ``prange`` kernels and on the pool."""
    monkeypatch = tiny_geometry
    monkeypatch.setattr(nbwht, "BLOCK_BYTES", 2**12)  # 512 float64: some rows fit
    x = (np.random.default_rng(rows + log_n).standard_normal((rows, 2**log_n)) * 100
         ).astype(dtype)
    one = fwht(x)
    for n_jobs in (2, 3):
        np.testing.assert_array_equal(fwht(x, n_jobs=n_jobs), one)
    monkeypatch.setattr(nbwht, "_prange_ok", lambda: False)
    np.testing.assert_array_equal(fwht(x, n_jobs=2), one)
    xt = np.ascontiguousarray(x[: 1 << (rows.bit_length() - 1)].T)  # an inner axis
    np.testing.assert_array_equal(fwht(xt, axis=0, n_jobs=2), fwht(xt, axis=0))


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int64])
def test_result_is_cache_line_aligned(dtype):
    """A new result of >= 16 KiB starts on a 64-byte boundary (the kernel's vectors then
    never straddle two cache lines); its values are those of the reference."""
    from sparsopt.transforms import _fwht

    x = np.random.default_rng(3).integers(-9, 9, size=(3, 4096)).astype(dtype)
    for view in (x, x[:, ::-1][:, ::-1], x[1:]):
        y = fwht(view)
        assert y.ctypes.data % 64 == 0 and y.flags.c_contiguous and y.dtype == dtype
        np.testing.assert_array_equal(y, fwht(view, engine="numpy"))
    small = np.ones(_fwht._ALIGN_MIN_BYTES // 16, dtype=np.float64)
    assert fwht(small)[0] == small.size


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int64])
def test_rows_as_large_as_the_last_level_cache_take_small_sub_blocks(dtype, monkeypatch):
    """A row of at least the L3's size gets L1 sub-blocks of at most 16 KiB (float64: 512
    values instead of 4096; float32 4096, or 2048 on Zen 4, instead of 4096 or 8192),
    and the same result as the reference."""
    from sparsopt.backends._numpy.wht import fwht_rows as reference

    n = 2**15
    row = np.empty((1, n), dtype=dtype)
    _, l1_default, _ = nbwht._geometry(row)
    monkeypatch.setattr(nbwht, "_L3", [n * row.itemsize // 2])
    block, l1, _ = nbwht._geometry(row)
    assert l1 * row.itemsize <= nbwht.STREAM_L1_BYTES
    # (float32 2**12, sixteen groups of 256; on Zen 4, where they come last, 2**11)
    assert l1 == (512 if row.itemsize == 8 else 2048 if nbwht._half_width() else 4096)
    x = np.random.default_rng(4).integers(-50, 50, size=(2, n)).astype(dtype)
    got = nbwht.fwht_rows(x.copy())
    want = reference(x.copy())
    if dtype == np.int64:
        np.testing.assert_array_equal(got, want)
    else:
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-3 * np.abs(want).max())
    monkeypatch.setattr(nbwht, "_L3", [0])   # unknown cache: the default sub-blocks
    assert nbwht._geometry(row)[1] == l1_default


def test_rows_streamed_from_memory_take_larger_blocks_where_that_saves_a_pass(monkeypatch):
    """A row of at least the L3's size takes blocks of up to ``STREAM_BLOCK_BYTES`` (past
    L2) where that makes fewer passes, ``BLOCK_BYTES`` on a tie: float64 2**24 as 64
    blocks of 2**18 (3 + 3 + 2 passes, not 3 + 3 + 3 in 128 blocks of 2**17), float32
    2**25 as 64 of 2**19; float64 2**22 and float32 2**24 keep 1 MiB blocks. Rows that
    are not streamed never take them. The transform with such blocks is the
    reference's."""
    from sparsopt.backends._numpy.wht import fwht_rows as reference

    monkeypatch.setattr(nbwht, "_L3", [32 << 20])
    cases = {(np.float64, 24): 2**18, (np.float64, 22): 2**17, (np.float64, 25): 2**17,
             (np.float32, 25): 2**19, (np.float32, 24): 2**18}
    for (dtype, log_n), want in cases.items():
        row = np.empty((1, 2**log_n), dtype=dtype)  # not touched: no memory used
        block, l1, _ = nbwht._geometry(row)
        assert block == want, (dtype, log_n, block)
        passes = nbwht._block_split(row.shape[1], l1, block)[0] if block > l1 else 0
        if block * row.itemsize > nbwht.BLOCK_BYTES:
            narrow = nbwht._block_split(row.shape[1], l1, nbwht.BLOCK_BYTES // row.itemsize)
            assert passes < narrow[0]
    monkeypatch.setattr(nbwht, "_L3", [1 << 30])  # the same rows, not streamed
    assert nbwht._geometry(np.empty((1, 2**24)))[0] * 8 <= nbwht.BLOCK_BYTES
    # shrunk: a 2 MiB row streamed, blocks of 32 KiB rather than 8 KiB save a pass
    monkeypatch.setattr(nbwht, "_L3", [1 << 20])
    monkeypatch.setattr(nbwht, "BLOCK_BYTES", 1 << 13)
    monkeypatch.setattr(nbwht, "STREAM_BLOCK_BYTES", 1 << 15)
    for dtype in (np.float64, np.int64):
        x = np.random.default_rng(6).integers(-50, 50, size=(1, 2**18)).astype(dtype)
        block, l1, _ = nbwht._geometry(x)
        assert block * x.itemsize > nbwht.BLOCK_BYTES
        got = nbwht.fwht_rows(x.copy())
        np.testing.assert_array_equal(got, reference(x.copy()))


@settings(max_examples=30, deadline=None)
@given(dtype=st.sampled_from([np.float64, np.float32, np.int64]),
       radix=st.sampled_from([2, 4, 8, 16]), vectors=st.integers(1, 3),
       gap=st.integers(0, 2), offset=st.integers(0, 7), seed=st.integers(0, 2**31 - 1),
       scaled=st.booleans())
def test_butterflies_between_vectors_match_the_slices_exactly(dtype, radix, vectors, gap,
                                                              offset, seed, scaled):
    """The ``bfly_cross`` intrinsics (one 512-bit vector per stream; on AVX-512 every
    other butterfly as two FMAs with ``±1``) give the bits of the radix-2 stages on
    slices, at any offset (unaligned vectors) and stride; with a ``scale``, those bits
    multiplied afterwards."""
    from sparsopt.backends._numba._wht_simd import (
        bfly_cross2,
        bfly_cross4,
        bfly_cross8,
        bfly_cross16,
    )

    lanes = 64 // np.dtype(dtype).itemsize
    stride = lanes * (vectors + gap)
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal(offset + radix * stride) * 1e3).astype(dtype)
    got = x.copy()
    kernel = {2: bfly_cross2, 4: bfly_cross4, 8: bfly_cross8, 16: bfly_cross16}[radix]

    scale = (dtype(3) if dtype == np.int64 else dtype(0.3)) if scaled else None

    @nbwht.njit
    def run(v, start, s, n, scale):
        for k in range(0, n, lanes):
            kernel(v, start + k, s, scale)

    run(got, offset, stride, vectors * lanes, scale)
    want = x.copy()
    streams = want[offset:].reshape(radix, stride)[:, :vectors * lanes].copy()
    h = 1
    while h < radix:  # radix-2 stages between the streams, in the order of h
        for i in range(0, radix, 2 * h):
            for k in range(i, i + h):
                a, b = streams[k].copy(), streams[k + h].copy()
                streams[k], streams[k + h] = a + b, a - b
        h *= 2
    if scale is not None:
        streams *= scale
    want[offset:].reshape(radix, stride)[:, :vectors * lanes] = streams
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("cpu", ["znver4", "znver5"])
def test_half_width_cores_take_fewer_fmas_between_vectors(dtype, cpu, monkeypatch):
    """On an AVX-512 core with 256-bit pipes (Zen 4) the butterflies between 16 and 8
    vectors take an FMA pair every third and every fourth butterfly (``FMA_PATTERNS``),
    elsewhere every other one: as many ``llvm.fma`` calls in the code, the same bits
    as the radix-2 stages on slices either way."""
    from numba.core.registry import cpu_target

    from sparsopt.backends._numba import _wht_simd as simd

    monkeypatch.setattr(simd, "_target_cpu", lambda context: cpu)
    half = cpu in simd.HALF_WIDTH_CPUS
    assert simd._fma_pattern(None, 16) == ("001" if half else "01")
    assert simd._fma_pattern(None, 8) == ("0001" if half else "01")
    assert simd._fma_pattern(None, 4) == simd._fma_pattern(None, 2) == "01"
    lanes = 64 // np.dtype(dtype).itemsize
    rng = np.random.default_rng(7)

    def compiled(kernel):  # a fresh function: its code is emitted for the patched CPU
        @nbwht.njit
        def run(v, s, n):
            for k in range(0, n, lanes):
                kernel(v, k, s, None)

        return run

    for radix, kernel in ((16, simd.bfly_cross16), (8, simd.bfly_cross8)):
        run = compiled(kernel)
        stride = 2 * lanes
        x = (rng.standard_normal(radix * stride) * 1e3).astype(dtype)
        got = x.copy()
        run(got, stride, stride)
        streams = x.reshape(radix, stride).copy()
        h = 1
        while h < radix:
            for i in range(0, radix, 2 * h):
                for k in range(i, i + h):
                    a, b = streams[k].copy(), streams[k + h].copy()
                    streams[k], streams[k + h] = a + b, a - b
            h *= 2
        np.testing.assert_array_equal(got, streams.reshape(-1))
        if nbwht._narrow() or not simd._fma_adds(cpu_target.target_context):
            continue  # the 256-bit code, or no FMA pipes to share the additions with
        pattern = simd._fma_pattern(None, radix)
        butterflies = (radix.bit_length() - 1) * radix // 2
        want_fmas = 2 * sum(pattern[c % len(pattern)] == "1" for c in range(butterflies))
        ir = "".join(run.inspect_llvm().values())
        fmas = sum(line.count("@llvm.fma.v") for line in ir.splitlines() if " call " in line)
        assert fmas == want_fmas, (radix, fmas)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("cpu", ["znver4", "znver5"])
def test_half_width_cores_run_register_groups_in_256_bit_halves(dtype, cpu, monkeypatch):
    """On an AVX-512 core with 256-bit pipes (Zen 4) the register stages of the groups of
    sixteen vectors (float64 128-groups, float32 256-groups), and float32's
    software-pipelined 64-groups, run in 256-bit halves (the stage between the halves of
    a vector as additions between registers, no lane permutation): 256-bit additions in
    the emitted code there, 512-bit ones elsewhere, and the bits of the radix-2
    reference either way, at any offset, scaled or not."""
    from numba.core.registry import cpu_target

    from sparsopt.backends._numba import _wht_simd as simd
    from sparsopt.backends._numpy.wht import fwht_rows as reference

    monkeypatch.setattr(simd, "_target_cpu", lambda context: cpu)
    halves = cpu in simd.HALF_WIDTH_CPUS and simd._fma_adds(cpu_target.target_context)
    width = 256 if halves and not nbwht._narrow() else None
    lanes = 64 // np.dtype(dtype).itemsize
    sixteen = simd.bfly_1_7 if dtype == np.float64 else simd.bfly_1_8

    def one_at_a_time(kernel, g):  # fresh functions: their code is for the patched CPU
        @nbwht.njit
        def run(v, scale):
            for i in range(0, v.size, g):
                kernel(v, i, scale)

        return run

    @nbwht.njit
    def pipelined(v, scale):
        simd.bfly_1_6_run(v, 0, v.size, scale)

    cases = [(one_at_a_time(sixteen, 16 * lanes), 16 * lanes, True)]
    if dtype == np.float32:
        cases.append((pipelined, 64, True))
    if dtype == np.float64:
        cases.append((pipelined, 64, False))  # 48 halves in flight would spill: 512-bit
    rng = np.random.default_rng(11)
    for run, g, in_halves in cases:
        for groups, offset, scaled in ((3, 0, False), (4, 3, True), (5, 1, False)):
            x = (rng.standard_normal(g * groups) * 1e3).astype(dtype)
            buf = np.empty(x.size + 16, dtype)[offset:offset + x.size]
            buf[:] = x
            run(buf, dtype(3) if scaled else None)
            want = reference(x.copy().reshape(groups, g)).reshape(-1)
            if scaled:
                want = want * dtype(3)
            np.testing.assert_array_equal(buf, want)
        if width is None:
            continue
        ir = "".join(run.inspect_llvm().values())
        short = "<4 x double>" if dtype == np.float64 else "<8 x float>"
        adds = [line for line in ir.splitlines() if " fadd " in line or " fsub " in line]
        assert any(short in line for line in adds) == in_halves, (g, in_halves)


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int64])
def test_the_pass_model_knows_the_register_groups_the_kernels_take(dtype):
    """``_geometry`` counts passes with the Python copy of ``_group_for``'s rule: the
    same group as the kernels' branch-free overload for every length."""
    @nbwht.njit
    def group(v, m):
        return nbwht._group_for(v, m)

    v = np.zeros(8, dtype=dtype)
    for log_m in range(6, 16):
        m = 2**log_m
        assert group(v, m) == nbwht._group_py(np.dtype(dtype), m), m


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int64])
def test_sub_blocks_of_sixteen_register_groups_where_they_save_a_pass(dtype, monkeypatch):
    """L1 sub-blocks of 16 register groups (float64 and int64 2**10, float64 2**11 with
    its groups of 128, float32 2**11 and, with its groups of 256, 2**12: register
    stages and one radix-16 pass) where that
    makes the fewest passes; among as many passes, the fewest above L1, then float32's
    cheaper groups (of 128 in float32, of 64 in float64). The results are the
    reference's, aligned or not, scaled in the last pass, on two threads."""
    size = np.dtype(dtype).itemsize
    # the rules of cores with full-width AVX-512 pipes (or of AVX2 cores) here
    monkeypatch.setattr(nbwht, "HALF_WIDTH_CPUS", ())
    if dtype == np.float64:  # 2048: sixteen groups of 128 (sixteen vectors each)
        want_l1 = {13: 1024, 14: 2048, 15: 4096, 16: 1024, 17: 2048, 18: 4096, 19: 1024,
                   20: 2048}
    elif dtype == np.int64:
        want_l1 = {13: 1024, 14: 4096, 15: 4096, 16: 1024, 17: 4096, 18: 4096, 19: 1024,
                   20: 4096}
    else:
        want_l1 = {13: 8192, 14: 2048, 15: 4096, 16: 8192, 17: 2048, 18: 4096, 19: 8192,
                   20: 2048}
        if nbwht._narrow():  # the 256-bit code: groups of 256 cost no more; no 2**13
            want_l1.update({13: 4096, 14: 4096, 16: 4096, 17: 4096, 19: 4096, 20: 4096})
    for log_n, l1_want in want_l1.items():
        row = np.empty((1, 2**log_n), dtype=dtype)
        block, l1, _ = nbwht._geometry(row)
        assert l1 == l1_want, log_n
        assert l1 * size <= nbwht.L1_BYTES and block % l1 == 0
    # float64 1024: 2 passes (6 + 4 stages), 2048: 2 (7 + 4), 4096: 3 (6 + 3 + 3); int64
    # 2048: 3 (6 + 3 + 2); float32 2048: 2 (7 + 4), 4096: 2 (8 + 4), 8192: 3 (7 + 3 + 3)
    f64, f32 = np.dtype(np.float64), np.dtype(np.float32)
    assert nbwht._l1_passes(1024, f64) == 2 and nbwht._l1_passes(4096, f64) == 3
    assert nbwht._l1_passes(2048, f64) == 2
    assert nbwht._l1_passes(2048, np.dtype(np.int64)) == 3
    assert nbwht._l1_passes(2048, f32) == 2 and nbwht._l1_passes(4096, f32) == 2
    assert nbwht._l1_passes(8192, f32) == 3
    takes_16 = {13, 14, 16} if size == 8 else {14, 15, 17}  # (float32: groups of 256 too)
    rng = np.random.default_rng(16)
    for log_n in sorted(takes_16):
        x = (rng.standard_normal((2, 2**log_n)) * 100).astype(dtype)
        want = fwht(x, engine="numpy")
        got = fwht(_buffer_at(x, 0))
        if dtype == np.int64:
            np.testing.assert_array_equal(got, want)
        else:
            np.testing.assert_allclose(got, want, rtol=0, atol=_tol(x[0], x.shape[1], dtype))
        for offset in (1, 64 // size - 1):
            buf = _buffer_at(x, offset)
            fwht(buf, out=buf)
            np.testing.assert_array_equal(buf, got)
        np.testing.assert_array_equal(fwht(x, n_jobs=2), got)
        np.testing.assert_array_equal(fwht(x[:1], n_jobs=2), got[:1])
        if dtype != np.int64:
            ortho = got * dtype(1 / math.sqrt(x.shape[1]))
            np.testing.assert_array_equal(fwht(x, normalize="ortho"), ortho)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_half_width_avx512_cores_take_the_groups_of_sixteen_vectors_last(dtype,
                                                                        monkeypatch):
    """On an AVX-512 core with 256-bit pipes (Zen 4) the sub-blocks of sixteen groups of
    sixteen vectors (float64 2**11, float32 2**12) come after every other sub-block,
    even one that makes a pass more, and the column panels of rows streamed from memory
    have rows of 16 KiB; the rows still match the reference."""
    if nbwht._narrow():
        pytest.skip("the 256-bit code's groups of sixteen vectors cost no more")
    monkeypatch.setattr(nbwht, "_HOST_CPU", ["znver4"])
    assert nbwht._half_width()
    if dtype == np.float64:
        want_l1 = {13: 1024, 14: 4096, 16: 1024, 17: 4096, 19: 1024, 20: 4096}
    else:
        want_l1 = {14: 2048, 15: 8192, 17: 2048, 18: 8192, 20: 2048}
    for log_n, l1_want in want_l1.items():
        assert nbwht._geometry(np.empty((1, 2**log_n), dtype=dtype))[1] == l1_want, log_n
    row = np.empty((1, 2**15), dtype=dtype)  # streamed from memory: sub-blocks of 16 KiB
    monkeypatch.setattr(nbwht, "_L3", [row.nbytes // 2])
    assert nbwht._geometry(row)[1] == (512 if dtype == np.float64 else 2048)
    # rows streamed from memory and longer than a block: column panels of 16 KiB rows,
    # whatever the number of blocks (4 or 8 KiB where the full-width rules hold)
    long_row = np.empty((1, 2**22), dtype=dtype)
    monkeypatch.setattr(nbwht, "_L3", [long_row.nbytes // 4])
    monkeypatch.setattr(nbwht, "STREAM_BLOCK_BYTES", nbwht.BLOCK_BYTES)  # 1 MiB blocks
    block, _, width = nbwht._geometry(long_row)
    assert long_row.shape[1] // block >= 16
    assert width * long_row.itemsize == nbwht.STREAM_PANEL_BYTES
    x = (np.random.default_rng(3).standard_normal((2, 2**15)) * 100).astype(dtype)
    np.testing.assert_allclose(fwht(x), fwht(x, engine="numpy"), rtol=0,
                               atol=_tol(x[0], x.shape[1], dtype))
    one = np.ones((), dtype=dtype)[()]
    y = (np.random.default_rng(5).standard_normal(2**18) * 100).astype(dtype)
    got = y.copy().reshape(1, -1)
    nbwht.fwht_rows_serial(got, one, False, 2**12, 2**9, width)  # 64 blocks, wide panels
    np.testing.assert_allclose(got[0], fwht(y, engine="numpy"), rtol=0,
                               atol=_tol(y, y.size, dtype))
    monkeypatch.setattr(nbwht, "_HOST_CPU", ["znver5"])
    assert not nbwht._half_width()
    assert nbwht._geometry(long_row)[2] * long_row.itemsize < nbwht.STREAM_PANEL_BYTES


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int64])
def test_column_panels_of_whole_vectors_match_the_slices(dtype):
    """A column panel a whole number of vectors wide takes the vector butterflies, any
    other width the slices: the same bits either way."""
    rng = np.random.default_rng(11)
    n_blk, block = 32, 256
    x = (rng.standard_normal(n_blk * block) * 100).astype(dtype)
    one = np.array(1, dtype=dtype)[()]
    vec = x.copy()
    nbwht._columns(vec, block, 64, 0, block, one, False)
    sliced = x.copy()
    nbwht._columns(sliced, block, 63, 0, block, one, False)
    np.testing.assert_array_equal(vec, sliced)
    want = fwht(np.ascontiguousarray(x.reshape(n_blk, block).T), engine="numpy").T
    np.testing.assert_allclose(vec.reshape(n_blk, block), want, rtol=1e-5, atol=1e-3)


def _buffer_at(x, offset):
    """A C-contiguous copy of ``x`` starting ``offset`` items past a 64-byte boundary."""
    lanes = 64 // x.itemsize
    raw = np.empty(x.size + 2 * lanes, dtype=x.dtype)
    start = (offset - raw.ctypes.data // x.itemsize) % lanes
    buf = raw[start:start + x.size].reshape(x.shape)
    buf[...] = x
    assert (buf.ctypes.data // x.itemsize) % lanes == offset
    return buf


@settings(max_examples=40, deadline=None)
@given(dtype=st.sampled_from([np.float64, np.float32, np.int64]), log_n=st.integers(1, 6),
       rows=st.integers(1, 40), offset=st.integers(0, 7), seed=st.integers(0, 2**31 - 1))
def test_short_rows_in_registers_match_the_radix2_reference_exactly(dtype, log_n, rows,
                                                                   offset, seed):
    """Rows of 2-64 values run 64 values at a time in vector registers (the stages
    inside the vectors, then between them; the scaling in the same pass) and the rest
    by the scalar butterflies: bit-identical to the radix-2 reference, at any offset
    from a cache line, and scaled rows are the unscaled ones multiplied."""
    n = 2**log_n
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal((rows, n)) * 1e3).astype(dtype)
    want = fwht(x, engine="numpy")
    buf = _buffer_at(x, offset % (64 // x.itemsize))
    np.testing.assert_array_equal(fwht(buf, out=buf), want)
    if dtype != np.int64:
        buf = _buffer_at(x, offset % (64 // x.itemsize))
        np.testing.assert_array_equal(ifwht(buf, out=buf), want * dtype(1 / n))


@pytest.mark.parametrize("dtype", (np.float32, np.float64))
@pytest.mark.parametrize("geometry", ["default", "tiny"])
def test_scaling_in_the_last_pass_gives_the_bits_of_scaling_afterwards(request, dtype,
                                                                       geometry):
    """``normalize="ortho"`` and :func:`ifwht` multiply in the last pass of the
    transform, not in a pass of their own: the bits of the unscaled transform
    multiplied afterwards, on every path (short rows with each last radix, blocks and
    column panels at the tiny geometry, buffers off the cache lines, threads, an inner
    axis)."""
    if geometry == "tiny":
        request.getfixturevalue("tiny_geometry")
    rng = np.random.default_rng(3)
    lanes = 64 // np.dtype(dtype).itemsize
    for log_n in range(14 if geometry == "default" else 11):
        n = 2**log_n
        x = (rng.standard_normal((3, n)) * 100).astype(dtype)
        plain = fwht(x)
        ortho = plain * dtype(1 / math.sqrt(n))
        inverse = plain * dtype(1 / n)
        for offset in (0, lanes // 4):
            buf = _buffer_at(x, offset)
            np.testing.assert_array_equal(fwht(buf, out=buf, normalize="ortho"), ortho)
            buf = _buffer_at(x, offset)
            np.testing.assert_array_equal(ifwht(buf, out=buf), inverse)
        np.testing.assert_array_equal(fwht(x, normalize="ortho", n_jobs=2), ortho)
        np.testing.assert_array_equal(fwht(x[:1], normalize="ortho", n_jobs=2), ortho[:1])
        xa = (rng.standard_normal((n, 16)) * 100).astype(dtype)  # transformed in place
        np.testing.assert_array_equal(fwht(xa, axis=0, normalize="ortho"),
                                      fwht(xa, axis=0) * dtype(1 / math.sqrt(n)))


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int64])
@pytest.mark.parametrize("n, rows", [(64, 9), (512, 3), (1024, 4), (2048, 2), (4096, 2),
                                     (2**13, 1), (2**18, 1)])
def test_results_do_not_depend_on_the_buffer_alignment(dtype, n, rows):
    """In place on a buffer off the cache lines, the passes between vectors take whole
    lines plus one masked vector for the partial lines of each range: the bits are
    those of an aligned buffer, at every offset (short rows, L1 sub-blocks, a block in
    L2, column panels)."""
    rng = np.random.default_rng(n)
    x = (rng.standard_normal((rows, n)) * 100).astype(dtype)
    want = fwht(_buffer_at(x, 0), out=None)
    lanes = 64 // x.itemsize
    for offset in sorted({1, 2, lanes // 2, lanes - 1}):
        buf = _buffer_at(x, offset)
        fwht(buf, out=buf)
        np.testing.assert_array_equal(buf, want)
    if n == 2**18:
        buf = _buffer_at(x, 1)
        np.testing.assert_array_equal(fwht(buf, out=buf, n_jobs=2), want)


@pytest.mark.parametrize("dtype", (np.float32, np.float64, np.int64))
def test_misaligned_buffers_in_the_blocked_paths(tiny_geometry, dtype):
    """The tiny geometry (blocks of 16 float64, sub-blocks of 8, panels of 2) on buffers
    off the cache lines: every path of the kernel, same bits as aligned."""
    rng = np.random.default_rng(2)
    for log_n in range(4, 13):
        x = (rng.standard_normal((2, 2**log_n)) * 100).astype(dtype)
        want = fwht(_buffer_at(x, 0))
        for offset in (1, 64 // x.itemsize - 1):
            buf = _buffer_at(x, offset)
            fwht(buf, out=buf)
            np.testing.assert_array_equal(buf, want)


def test_misaligned_inner_axis_panels():
    """The column kernel on a middle axis whose rows are whole vectors apart, off the
    cache lines: same bits as aligned."""
    x = np.random.default_rng(8).standard_normal((3, 64, 48))
    want = fwht(_buffer_at(x, 0), axis=1)
    buf = _buffer_at(x, 3)
    fwht(buf, axis=1, out=buf)
    np.testing.assert_array_equal(buf, want)


def test_numpy_inputs_follow_the_configured_engine():
    # fwht looks the NumPy kernel up per engine (not through dispatch on every call):
    # it must still follow config_context and an explicit engine, as dispatch does
    import sparsopt
    from sparsopt.backends import get_kernel
    from sparsopt.transforms._fwht import _host_kernel

    x = np.ones((2, 8))
    numba_k, numpy_k = get_kernel("fwht_rows", "numba"), get_kernel("fwht_rows", "numpy")
    assert _host_kernel("fwht_rows", x, None) is numba_k
    with sparsopt.config_context(engine="numpy"):
        assert _host_kernel("fwht_rows", x, None) is numpy_k
        assert _host_kernel("fwht_rows", x, "numba") is numba_k
        np.testing.assert_array_equal(fwht(x), fwht(x, engine="numba"))
    assert _host_kernel("fwht_rows", x, None) is numba_k
    assert _host_kernel("fwht_axis", x, "numpy") is get_kernel("fwht_axis", "numpy")
    with pytest.raises(TypeError, match="cupy"):
        _host_kernel("fwht_rows", x, "cupy")


@pytest.mark.parametrize("offset", [0, 4])
def test_float32_arrays_from_16_mib_take_the_prefetching_passes(offset):
    # float32 arrays of at least PREFETCH_MIN_BYTES prefetch the next L1 sub-block during
    # the radix-8 passes (8-byte items always do, and the other tests cover them): the
    # same butterflies, so values whose every partial sum is exact in float32 (+-1 and 0,
    # |sums| <= 2**22 < 2**24) match the exact integer transform, aligned or not
    assert nbwht.PREFETCH_MIN_BYTES <= 2**24
    n = nbwht.PREFETCH_MIN_BYTES // 4
    x = np.random.default_rng(5).integers(-1, 2, size=(1, n)).astype(np.float32)
    buf = _buffer_at(x, offset)
    fwht(buf, out=buf)
    np.testing.assert_array_equal(buf, fwht(x.astype(np.int64)).astype(np.float32))


@pytest.mark.parametrize("dtype, n", [(np.float32, 2048), (np.float32, 4096),
                                      (np.float64, 1024)])
def test_rows_of_sixteen_register_groups_from_16_mib_prefetch(dtype, n):
    """Batches of rows of 16 register groups (one radix-16 pass after the register
    stages, :func:`_sub16`) from ``PREFETCH_MIN_BYTES`` on prefetch the next row: the
    same bits as a smaller batch, aligned or not."""
    rows = nbwht.PREFETCH_MIN_BYTES // (n * np.dtype(dtype).itemsize)
    small = np.random.default_rng(n).integers(-50, 50, size=(4, n)).astype(dtype)
    want = fwht(small)
    x = np.tile(small, (rows // 4, 1))
    assert x.nbytes >= nbwht.PREFETCH_MIN_BYTES
    for offset in (0, 1):
        buf = _buffer_at(x, offset)
        fwht(buf, out=buf)
        np.testing.assert_array_equal(buf[:4], want)
        np.testing.assert_array_equal(buf[-4:], want)
