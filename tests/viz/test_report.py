"""The run report: HealthRecorder's files, write_report's self-contained page, `ember train --diagnose` and
`ember report RUN_DIR`, and the page in a real headless browser (skipped, with the reason, where none is
installed)."""
import base64
import json
import os
import re
import shutil
import subprocess

import numpy as np
import pytest

import ember
import ember.nn as nn
from ember import cli
from ember.data import DataLoader, TensorDataset
from ember.train import Trainer
from ember.train.diagnostics import HealthRecorder
from ember.viz import write_report

CONFIG = """name = "diag"
seed = 0
epochs = 2
batch_size = 16
output = "{out}"
metrics = ["accuracy"]
[model]
name = "mlp"
hidden = [16, 16]
activation = "{act}"
[data]
name = "synthetic"
kind = "spirals"
n_samples = 64
noise = 0.05
seed = 0
[optimizer]
name = "adam"
lr = 0.01
"""


def _train_with_recorder(folder, epochs=2):
    ember.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 8), nn.ReLU(), nn.Linear(8, 4), nn.Tanh(), nn.Linear(4, 1))
    x, y = ember.randn(32, 3), ember.randn(32, 1)
    rec = HealthRecorder(folder)
    Trainer(model, nn.MSELoss(), ember.optim.SGD(model.parameters(), lr=0.01), callbacks=[rec]).fit(
        DataLoader(TensorDataset(x, y), batch_size=8), epochs=epochs, verbose=0)
    return model


def test_health_recorder_files(tmp_path):
    pytest.importorskip("matplotlib")
    _train_with_recorder(tmp_path)
    diag = json.loads((tmp_path / "diagnostics.json").read_text())
    assert sorted(diag["units"]) == ["0", "1"] and sorted(diag["gradients"]) == ["0", "1"]
    assert diag["units"]["1"]["1"]["kind"] == "relu" and 0 <= diag["units"]["1"]["1"]["dead_fraction"] <= 1
    assert diag["units"]["1"]["3"]["kind"] == "tanh" and "saturated_fraction" in diag["units"]["1"]["3"]
    assert set(diag["gradients"]["0"]) == {"0", "2", "4"} and diag["gradients"]["0"]["4"]["grad_norm"] > 0
    for f in ("gradient_flow.png", "unit_health.png", "activations.png", "graph.png"):
        assert (tmp_path / f).read_bytes()[:4] == b"\x89PNG", f


def test_report_is_self_contained(tmp_path):
    pytest.importorskip("matplotlib")
    _train_with_recorder(tmp_path)
    (tmp_path / "history.json").write_text(json.dumps({"epoch": 2, "history": {"loss": [1.0, 0.5],
                                                                                 "accuracy": [0.5, None]}}))
    out = write_report(tmp_path)
    page = open(out, encoding="utf-8").read()
    assert out == os.path.join(str(tmp_path), "report.html")
    srcs = re.findall(r'(?:src|href)="([^"]*)"', page)
    assert srcs and all(s.startswith("data:") for s in srcs)                 # nothing from outside
    assert "<script" not in page.lower()
    images = re.findall(r'src="data:image/png;base64,([^"]+)"', page)
    assert len(images) == 4                                                  # flow, health, activations, graph
    for b64 in images:
        assert base64.b64decode(b64)[:4] == b"\x89PNG"
    assert "Dead (ReLU) or saturated" in page and "Mean gradient norm" in page
    assert "<td>0.5</td>" in page and "<td>-</td>" in page                   # the history table; null as "-"
    with pytest.raises(FileNotFoundError, match="is not a folder"):
        write_report(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="holds no run"):
        write_report(tmp_path / "empty")


def test_cli_train_diagnose_and_report(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    cfg = tmp_path / "c.toml"
    cfg.write_text(CONFIG.format(out=(tmp_path / "runs").as_posix(), act="relu"))
    assert cli.main(["train", str(cfg), "--diagnose", "-q"]) == 0
    (run,) = [p for p in (tmp_path / "runs").iterdir()]
    assert (run / "diagnostics.json").is_file() and (run / "gradient_flow.png").is_file()
    capsys.readouterr()
    assert cli.main(["report", str(run)]) == 0
    assert capsys.readouterr().out.strip() == str(run / "report.html")
    page = (run / "report.html").read_text()
    assert "Learning curves" in page and "spirals" in page and page.count("data:image/png") >= 4
    assert cli.main(["report", str(tmp_path / "nope")]) == 2
    assert "is not a folder" in capsys.readouterr().err
    # without --diagnose nothing is recorded, and the page says how to record it
    cfg.write_text(CONFIG.format(out=(tmp_path / "runs2").as_posix(), act="tanh"))
    assert cli.main(["train", str(cfg), "-q"]) == 0
    (run2,) = list((tmp_path / "runs2").iterdir())
    assert not (run2 / "diagnostics.json").exists()
    cli.main(["report", str(run2), "--output", str(tmp_path / "r.html")])
    assert "--diagnose" in (tmp_path / "r.html").read_text()


def _browser():
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


CHECK = """<script>
window.addEventListener("load", function () {
  var bad = [];
  for (var i = 0; i < document.images.length; i++) {
    var im = document.images[i];
    if (!im.complete || im.naturalWidth === 0) bad.push(im.alt);
  }
  var d = document.createElement("div");
  d.id = "imagecheck";
  d.textContent = "images=" + document.images.length + " broken=" + bad.length;
  document.body.appendChild(d);
});
</script></body>"""


@pytest.mark.slow
def test_report_in_a_headless_browser(tmp_path):
    browser = _browser()
    if browser is None:
        pytest.skip("no Chromium/Chrome installed (apt install chromium) to load the report in a real browser")
    pytest.importorskip("matplotlib")
    _train_with_recorder(tmp_path)
    page = open(write_report(tmp_path), encoding="utf-8").read()
    # a copy with a check appended: the report itself carries no script
    probe = tmp_path / "probe.html"
    probe.write_text(page.replace("</body>", CHECK))
    r = subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--enable-logging=stderr",
                        "--v=0", "--virtual-time-budget=5000", "--dump-dom", probe.as_uri()],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    assert "images=4 broken=0" in r.stdout, r.stdout[-2000:]
    console = [ln for ln in r.stderr.splitlines() if "CONSOLE" in ln or "Uncaught" in ln or
               "Failed to load resource" in ln]
    assert console == [], console
