"""The progress reporter of long fits: off, plain lines, tqdm."""

import io

import pytest

import sparsopt
from sparsopt._core.progress import progress


def test_off_prints_nothing():
    out = io.StringIO()
    with progress(5, "fit", verbose=0, file=out) as bar:
        for _ in range(5):
            bar.update(1, objective=1.0)
    assert out.getvalue() == "" and bar.n == 5 and bar.backend == "off"


def test_plain_lines_throttled_and_last_line_printed():
    out = io.StringIO()
    with progress(50, "fit", verbose=1, use_tqdm=False, file=out, min_interval=3600) as bar:
        for _ in range(50):
            bar.update(1, objective=0.25)
    lines = out.getvalue().splitlines()
    assert bar.backend == "plain"
    # the first update prints, then nothing until the last one
    assert len(lines) == 2
    assert lines[-1].startswith("fit: 50/50") and "objective=0.25" in lines[-1]


def test_unknown_total_and_close_prints_once():
    out = io.StringIO()
    with progress(None, "cv", verbose=1, use_tqdm=False, file=out, min_interval=0) as bar:
        bar.update(2)
    assert out.getvalue().splitlines() == [out.getvalue().splitlines()[0]]
    assert out.getvalue().startswith("cv: 2 [")


def test_verbose_none_reads_config():
    out = io.StringIO()
    with sparsopt.config_context(verbose=1):
        with progress(1, "fit", use_tqdm=False, file=out, min_interval=0) as bar:
            bar.update(1)
    assert bar.backend == "plain" and out.getvalue()


def test_tqdm_bar_when_installed():
    pytest.importorskip("tqdm")
    out = io.StringIO()
    with progress(4, "fit", verbose=1, file=out) as bar:
        for _ in range(4):
            bar.update(1, objective=2.0)
    assert bar.backend == "tqdm"
    assert "4/4" in out.getvalue()


def test_bad_verbose_is_refused():
    with pytest.raises(ValueError, match="verbose"):
        progress(1, "fit", verbose=-1)
