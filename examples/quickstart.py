"""keraspose quick start: build, train, save, reload, evaluate.

Builds a small top-down model (ResNet-18 + SimpleBaseline head) from an
MMPose-style config dict, trains it with ``model.fit`` on the embedded
synthetic dataset, saves it as one ``.keras`` file, reloads it and prints the
PCK of the reloaded model on held-out samples. Runs in a few minutes on
2 CPU cores with any backend (``KERAS_BACKEND=jax|tensorflow|torch``).

    python examples/quickstart.py [--epochs 20] [--samples 768]
"""

import argparse
import os
import tempfile
import time

os.environ.setdefault("KERAS_BACKEND", "jax")

import keras  # noqa: E402
import numpy as np  # noqa: E402

import keraspose  # noqa: E402
from keraspose.datasets import SyntheticPoseDataset  # noqa: E402
from keraspose.evaluation.functional import keypoint_pck_accuracy  # noqa: E402

INPUT_SIZE = (96, 128)  # (w, h)
NUM_KEYPOINTS = 8

CONFIG = dict(
    type="TopdownPoseEstimator",
    data_preprocessor=dict(
        type="PoseDataPreprocessor",
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True,
    ),
    backbone=dict(type="ResNet", depth=18, stem_channels=16, base_channels=16),
    head=dict(
        type="HeatmapHead",
        in_channels=128,
        out_channels=NUM_KEYPOINTS,
        deconv_out_channels=(64, 64, 64),
        deconv_kernel_sizes=(4, 4, 4),
        loss=dict(type="KeypointMSELoss", use_target_weight=True),
        decoder=dict(
            type="MSRAHeatmap",
            input_size=INPUT_SIZE,
            heatmap_size=(24, 32),
            sigma=2,
        ),
    ),
    test_cfg=dict(flip_test=True, flip_mode="heatmap", shift_heatmap=True),
)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--lr", type=float, default=5e-3)
    parser.add_argument("--samples", type=int, default=768)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--output", default=None, help="where to save .keras")
    args = parser.parse_args()
    keras.utils.set_random_seed(0)
    start = time.time()

    train = SyntheticPoseDataset(
        args.samples, NUM_KEYPOINTS, INPUT_SIZE, seed=0
    )
    test = SyntheticPoseDataset(128, NUM_KEYPOINTS, INPUT_SIZE, seed=1)
    model = keraspose.build(dict(CONFIG, metainfo=train.metainfo))
    codec = model.head.decoder
    x, y = train.as_fit_data(codec)
    steps = args.epochs * -(-args.samples // args.batch_size)
    schedule = keras.optimizers.schedules.CosineDecay(
        args.lr, steps, alpha=0.02
    )
    model.compile(optimizer=keras.optimizers.Adam(schedule))
    print(f"keraspose {keraspose.__version__} on {keras.backend.backend()}")
    model.fit(x, y, batch_size=args.batch_size, epochs=args.epochs, verbose=2)

    path = args.output or os.path.join(tempfile.mkdtemp(), "quickstart.keras")
    model.save(path)
    reloaded = keras.saving.load_model(path, compile=False)
    print(f"saved and reloaded {path} ({os.path.getsize(path) / 1e6:.1f} MB)")

    data = test.generate()
    x_test = {k: data[k] for k in ("images", "input_center", "input_scale")}
    preds = reloaded.predict(x_test, batch_size=64, verbose=0)
    norm = np.repeat(data["input_scale"].max(axis=1, keepdims=True), 2, axis=1)
    mask = data["keypoints_visible"] > 0
    for thr in (0.05, 0.1):
        _, pck, _ = keypoint_pck_accuracy(
            preds["keypoints"], data["keypoints_original"], mask, thr, norm
        )
        print(f"PCK@{thr} (bbox-normalised) of the reloaded model: {pck:.3f}")
    print(f"done in {time.time() - start:.0f} s")


if __name__ == "__main__":
    main()
