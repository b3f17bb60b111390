"""ooc demo --plot and the example scripts (each checks its answers against planted truth)."""
import pathlib
import subprocess
import sys

import numpy as np
import pytest

from ooc import cli

EXAMPLES = pathlib.Path(__file__).resolve().parent.parent / "examples"


def test_demo_plot(tmp_path, capsys):
    png = tmp_path / "map.png"
    code = cli.main(["demo", "--size", "1MiB", "--no-progress", "--plot", str(png)])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "argmax map drawn" in out
    import matplotlib.image
    img = matplotlib.image.imread(png)
    assert img.ndim == 3 and img.shape[0] > 200 and img.shape[1] > 400
    assert np.unique(img.reshape(-1, img.shape[2]), axis=0).shape[0] > 50   # not blank


def test_demo_plot_without_matplotlib_is_a_one_line_hint(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)      # import matplotlib fails
    code = cli.main(["demo", "--size", "1MiB", "--no-progress", "--plot", str(tmp_path / "m.png")])
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert err.strip().count("\n") == 0 and "pip install 'ooc[plot]'" in err
    assert not (tmp_path / "m.png").exists()


@pytest.mark.parametrize("script", sorted(p.name for p in EXAMPLES.glob("*.py")))
def test_example_runs(script, tmp_path):
    args = [str(tmp_path / "out.png")] if script == "day_of_maximum.py" else []
    proc = subprocess.run([sys.executable, str(EXAMPLES / script), *args], capture_output=True,
                          text=True, timeout=300, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    if args:
        assert (tmp_path / "out.png").stat().st_size > 10_000


def test_benchmark_json_and_plot(tmp_path):
    """bench_core and bench_store write JSON (answers checked against numpy first), plot.py
    draws them."""
    bench = EXAMPLES.parent / "benchmarks"
    core, store, png = tmp_path / "core.json", tmp_path / "store.json", tmp_path / "t.png"
    for argv in ([bench / "bench_core.py", "--rows", "256", "--cols", "512", "--chunks", "64",
                  "128", "--repeat", "1", "--json", core],
                 [bench / "bench_store.py", "--quick", "--repeat", "1", "--no-variants",
                  "--dir", tmp_path, "--json", store],
                 [bench / "plot.py", "--core", core, "--store", store, "--out", png]):
        proc = subprocess.run([sys.executable, *map(str, argv)], capture_output=True, text=True,
                              timeout=600, cwd=bench)
        assert proc.returncode == 0, proc.stderr[-2000:]
    import json
    assert set(json.loads(core.read_text())["data"]) == {"normal", "with NaN"}
    assert "ooc.argmax axis=0" in json.loads(store.read_text())["seconds"]
    import matplotlib.image
    assert matplotlib.image.imread(png).shape[1] > 800
