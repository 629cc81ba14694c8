import threading

import pytest

import sparsopt


def test_defaults_and_set_config_roundtrip():
    assert sparsopt.get_config() == {"engine": "auto", "verbose": 0}
    sparsopt.set_config(engine="numpy", verbose=2)
    try:
        assert sparsopt.get_config() == {"engine": "numpy", "verbose": 2}
    finally:
        sparsopt.set_config(engine="auto", verbose=0)


def test_config_context_restores_on_error():
    with pytest.raises(RuntimeError):
        with sparsopt.config_context(engine="numba"):
            assert sparsopt.get_config()["engine"] == "numba"
            raise RuntimeError
    assert sparsopt.get_config()["engine"] == "auto"


@pytest.mark.parametrize("kw", [{"engine": "gpu"}, {"verbose": -1}])
def test_bad_config_names_parameter(kw):
    with pytest.raises(ValueError, match=next(iter(kw))):
        sparsopt.set_config(**kw)


def test_config_is_thread_local():
    seen = {}

    def worker():
        seen["engine"] = sparsopt.get_config()["engine"]

    with sparsopt.config_context(engine="numpy"):
        t = threading.Thread(target=worker)
        t.start()
        t.join()
    assert seen["engine"] == "auto"


def test_import_is_light():
    import subprocess
    import sys

    code = (
        "import sys, sparsopt; "
        "bad = [m for m in ('numba', 'cupy', 'dask', 'sklearn') if m in sys.modules]; "
        "print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_show_versions_reports_backends():
    import io

    buf = io.StringIO()
    rep = sparsopt.show_versions(file=buf)
    text = buf.getvalue()
    assert "numba" in text and "cupy" in text
    assert rep["backends"]["numpy"]["available"] is True
    assert set(rep["backends"]) == {"numpy", "numba", "cupy"}
