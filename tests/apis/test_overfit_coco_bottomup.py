"""The bottom-up loop on real data: the shipped small Associative Embedding
config trained with ``keraspose train`` on the 4 images of
``../shared/data/coco`` (12 people with keypoints) reaches COCO AP >= 0.7
on the same images, without ground-truth boxes (whole images in, grouped
instances out).

Slow (about 5 minutes on 2 CPU cores): CI runs it on the TensorFlow
backend; set ``KERASPOSE_SLOW_ALL_BACKENDS=1`` to run it on every backend.
"""

import json
import os

import pytest

pytest.importorskip("tensorflow")
pytest.importorskip("pycocotools")

from keraspose import cli  # noqa: E402
from tests.helpers import BACKEND  # noqa: E402

SMALL = (
    "body_2d_keypoint/associative_embedding/coco/"
    "ae_res18-w16_1xb4-800e_coco-tiny-512x512.py"
)
MIN_AP = 0.7


@pytest.mark.heavy
@pytest.mark.skipif(
    BACKEND != "tensorflow"
    and not os.environ.get("KERASPOSE_SLOW_ALL_BACKENDS"),
    reason="slow; CI runs it on tensorflow (KERASPOSE_SLOW_ALL_BACKENDS=1)",
)
def test_small_bottomup_config_overfits_coco_sample(shared_data, tmp_path):
    work_dir = tmp_path / "overfit_bottomup"
    root = f"data_root={str(shared_data / 'coco')}/"
    code = cli.main(
        ["train", SMALL, "--work-dir", str(work_dir), "--cfg-options", root]
    )
    assert code == 0
    with open(work_dir / "metrics.json") as f:
        history = json.load(f)
    final = history[-1]
    best = max(h["coco/AP"] for h in history)
    print(
        f"{BACKEND}: final COCO AP {final['coco/AP']:.4f}, best "
        f"{best:.4f}, per evaluation:",
        [round(h["coco/AP"], 4) for h in history],
    )
    assert final["coco/AP"] >= MIN_AP, history

    # The best checkpoint reloads and `keraspose test` reproduces its AP.
    checkpoint = str(work_dir / "best_coco_AP.keras")
    assert (
        cli.main(
            [
                "test",
                SMALL,
                checkpoint,
                "--work-dir",
                str(work_dir),
                "--cfg-options",
                root,
            ]
        )
        == 0
    )
    with open(work_dir / "test_metrics.json") as f:
        tested = json.load(f)["coco/AP"]
    assert tested >= MIN_AP
    assert tested == pytest.approx(best, abs=1e-3)
