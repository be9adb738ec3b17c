"""The whole loop on real data: the shipped small config trained with
``keraspose train`` on the 14 people of ``../shared/data/coco`` reaches COCO
AP >= 0.9 on the same images with ground-truth boxes.

Slow (about 1-2 minutes): CI runs it on the TensorFlow backend; set
``KERASPOSE_SLOW_ALL_BACKENDS=1`` to run it on every backend.
"""

import json
import os

import pytest

pytest.importorskip("tensorflow")
pytest.importorskip("pycocotools")

from keraspose import cli  # noqa: E402
from tests.helpers import BACKEND  # noqa: E402

SMALL = (
    "body_2d_keypoint/topdown_heatmap/coco/"
    "td-hm_res18-w16_1xb16-80e_coco-tiny-256x192.py"
)


@pytest.mark.heavy
@pytest.mark.skipif(
    BACKEND != "tensorflow"
    and not os.environ.get("KERASPOSE_SLOW_ALL_BACKENDS"),
    reason="slow; CI runs it on tensorflow (KERASPOSE_SLOW_ALL_BACKENDS=1)",
)
def test_small_config_overfits_coco_sample(shared_data, tmp_path):
    work_dir = tmp_path / "overfit"
    root = f"data_root={str(shared_data / 'coco')}/"
    code = cli.main(
        ["train", SMALL, "--work-dir", str(work_dir), "--cfg-options", root]
    )
    assert code == 0
    with open(work_dir / "metrics.json") as f:
        history = json.load(f)
    final = history[-1]
    print(
        f"{BACKEND}: final COCO AP {final['coco/AP']:.4f}, per evaluation:",
        [round(h["coco/AP"], 4) for h in history],
    )
    assert final["epoch"] == 80
    assert final["coco/AP"] >= 0.9, history

    # The best checkpoint reloads and `keraspose test` reproduces it.
    best = str(work_dir / "best_coco_AP.keras")
    assert (
        cli.main(
            [
                "test",
                SMALL,
                best,
                "--work-dir",
                str(work_dir),
                "--cfg-options",
                root,
            ]
        )
        == 0
    )
    with open(work_dir / "test_metrics.json") as f:
        assert json.load(f)["coco/AP"] >= 0.9
