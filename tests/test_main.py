import os
import subprocess
import sys

import sparsopt
from sparsopt._demo import run_demo


def test_demo_quick_runs_every_task_and_writes_plots(tmp_path, capsys):
    rows = run_demo(out=str(tmp_path), quick=True)
    tasks = {r[0] for r in rows}
    assert len(tasks) == 13
    out = capsys.readouterr().out
    assert "task" in out and "quality" in out and "[15/15]" in out
    assert sorted(os.listdir(tmp_path)) == ["denoising.png", "dictionary.png",
                                            "logistic_digits.png", "recovery.png",
                                            "sparse_coding.png", "transport.png"]
    # a dictionary learned on the image beats the fixed DCT at equal sparsity
    dl = [(r[1], float(r[2].split()[1])) for r in rows if r[0].startswith("learn")]
    learned = next(e for m, e in dl if m.startswith("MiniBatchDictionaryLearning"))
    assert learned < next(e for m, e in dl if m.startswith("overcomplete DCT"))
    # small-reg OT: Sinkhorn-Newton-Sparse reaches machine precision, Sinkhorn does not
    ot = {r[1]: float(r[2].split()[2]) for r in rows if r[0].startswith("entropic OT")}
    assert ot["sinkhorn_newton_sparse"] <= 1e-12 < 1e-6 <= ot["sinkhorn (log, 1000 sweeps)"]
    # matrix completion: AltMin recovers to the solver's tolerance, soft-impute has a floor
    mc = {r[1]: float(r[2].split()[2]) for r in rows if r[0].startswith("complete")}
    assert mc["altmin_complete"] < 1e-6 < 1e-2 < mc["soft_impute (nuclear norm)"]
    # beyond l1: at matched sparsity the nonconvex codes reconstruct better than l1
    err = {r[1]: float(r[2].split()[1]) for r in rows if r[0].startswith("code china")}
    assert err["SparseCoder(cel0)"] < err["SparseCoder(l1)"]
    assert err["SparseCoder(l1/2)"] < err["SparseCoder(l1)"]
    # sparse regression: every penalty of the one engine predicts (held-out R^2)
    r2 = {r[1]: float(r[2].split()[2].rstrip(",")) for r in rows if r[0].startswith("diabetes")}
    # the dense Walsh-Hadamard transform inverts to rounding
    wht = {r[1]: float(r[2].split()[2].rstrip(",")) for r in rows if r[0].startswith("WHT")}
    assert wht["fwht (Numba)"] < 1e-12
    assert len(r2) == 3 and all(v > 0.3 for v in r2.values())
    # SPRIGHT recovers the sparse spectrum exactly from a fraction of the values
    assert any(r[0].startswith("sparse WHT") and "exact True" in r[2] for r in rows)
    # denoising must actually improve on the noisy input
    psnr = {r[1]: float(r[2].split()[1]) for r in rows if r[0].startswith("denoise")}
    noisy = psnr.pop("noisy input")
    assert all(p > noisy for p in psnr.values())
    assert psnr[next(k for k in psnr if k.startswith("prox l1 (soft)"))] > noisy + 1.0
    # nonconvex penalties recover the support exactly on this easy problem
    rec = [r for r in rows if r[0].startswith("recover") and "mcp" in r[1]]
    assert "support F1 1.00" in rec[0][2]
    # truncated EM (BSC) recovers every bar of the bars test
    bsc = next(r for r in rows if r[0].startswith("bars test"))
    assert float(bsc[2].split()[2]) < 0.5
    # pruning: the 10 % network keeps its density and fine-tuning recovers accuracy
    pr = {r[1]: r[2] for r in rows if r[0].startswith("prune")}
    ft = next(v for k, v in pr.items() if k.startswith("MLPPruner") and ", 0 " not in k)
    no_ft = next(v for k, v in pr.items() if k.startswith("MLPPruner") and ", 0 " in k)
    acc = [float(v.split()[1].rstrip(",")) for v in (no_ft, ft)]
    assert "density 0.10" in ft and acc[1] > max(0.88, acc[0])


def test_warmup_compiles_both_dtypes():
    t = sparsopt.warmup(dtypes=("float32", "float64"))
    assert {k[1] for k in t} == {"float32", "float64"}
    import pytest

    with pytest.raises(ValueError, match="dtypes"):
        sparsopt.warmup(dtypes=("int8",))


def test_cli_versions_and_warmup():
    out = subprocess.run([sys.executable, "-m", "sparsopt", "versions"], capture_output=True,
                         text=True, check=True).stdout
    assert "backends:" in out
    out = subprocess.run([sys.executable, "-m", "sparsopt", "warmup", "--dtypes", "float64"],
                         capture_output=True, text=True, check=True).stdout
    assert "kernel signatures ready" in out


def test_cli_unknown_bench_fails_cleanly():
    res = subprocess.run([sys.executable, "-m", "sparsopt", "bench", "nope"],
                         capture_output=True, text=True)
    assert res.returncode != 0 and "No benchmark" in res.stderr
