import numpy as np
import pytest

from sparsopt.penalties import CEL0, L0, L1, MCP, SCAD, Box, ElasticNet, GroupL21, KSupport, Log, Lq

PENALTIES = [L1(0.1), L0(0.1), Lq(0.1), CEL0(0.1), MCP(0.1), SCAD(0.1), Log(0.1),
             ElasticNet(0.1), Box(-1.0, 1.0), GroupL21(0.1, groups=2), KSupport(0.1, k=1)]


@pytest.mark.parametrize("pen", PENALTIES, ids=lambda p: type(p).__name__)
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_nonfinite_input_is_refused_with_a_clear_error(pen, bad, dtype):
    x = np.array([[0.5, bad, 1.0, -2.0]], dtype=dtype)
    name = type(pen).__name__
    with pytest.raises(ValueError, match=rf"{name}\.prox: x contains NaN or infinity"):
        pen.prox(x, 0.5)
    with pytest.raises(ValueError, match=rf"{name}\.value: x contains NaN or infinity"):
        pen.value(x)


def test_check_finite_false_lets_callers_skip_the_pass():
    x = np.array([np.nan, 3.0])
    for engine in ("numpy", "numba"):
        out = L1(1.0).prox(x, 1.0, check_finite=False, engine=engine)
        assert np.isnan(out[0]) and out[1] == 2.0


@pytest.mark.parametrize("pen", PENALTIES + [Lq(0.1, q=2.0 / 3.0), Lq(0.1, q=0.3)],
                         ids=lambda p: repr(p))
@pytest.mark.parametrize("engine", ["numpy", "numba"])
def test_nan_propagates_through_every_kernel_when_unchecked(pen, engine):
    # A solver skipping the check must see NaN iterates (its guard rolls back), never zeros.
    x = np.array([[0.01, np.nan, 3.0, -2.0]])
    out = pen.prox(x, 0.5, engine=engine, check_finite=False)
    assert np.isnan(out[0, 1])
    if pen.is_separable:
        ref = pen.prox(x[:, [0, 2, 3]], 0.5, engine=engine)
        np.testing.assert_array_equal(out[:, [0, 2, 3]], ref)
