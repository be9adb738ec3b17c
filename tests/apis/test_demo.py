"""``keraspose demo`` end to end, shrunk (1 epoch, 32 images)."""

import json
import os

import pytest

pytest.importorskip("tensorflow")
pytest.importorskip("pycocotools")

from keraspose import cli  # noqa: E402


@pytest.mark.heavy
def test_demo_runs_end_to_end(tmp_path):
    work_dir = str(tmp_path / "demo")
    argv = ["demo", "--work-dir", work_dir, "--epochs", "1", "--samples", "32"]
    assert cli.main(argv) == 0
    for name in ("demo.keras", "predictions.png", "demo_metrics.json"):
        assert os.path.getsize(os.path.join(work_dir, name)) > 0, name
    with open(os.path.join(work_dir, "demo_metrics.json")) as f:
        metrics = json.load(f)
    assert {"coco/AP", "PCK"} <= set(metrics)
