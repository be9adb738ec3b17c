"""Throughput of SimpleBaseline-ResNet-50 (256x192, batch 16).

Prints one JSON object: train-step and inference images/s (median of
``--repeats`` timed steps after warm-up) on the current Keras backend.

    KERAS_BACKEND=jax python benchmarks/bench_topdown.py
"""

import argparse
import json
import os
import platform
import statistics
import time

os.environ.setdefault("KERAS_BACKEND", "jax")

import keras  # noqa: E402
import numpy as np  # noqa: E402

import keraspose  # noqa: E402

CONFIG = dict(
    type="TopdownPoseEstimator",
    data_preprocessor=dict(
        type="PoseDataPreprocessor",
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True,
    ),
    backbone=dict(type="ResNet", depth=50),
    head=dict(
        type="HeatmapHead",
        in_channels=2048,
        out_channels=17,
        loss=dict(type="KeypointMSELoss", use_target_weight=True),
        decoder=dict(
            type="MSRAHeatmap",
            input_size=(192, 256),
            heatmap_size=(48, 64),
            sigma=2,
        ),
    ),
    test_cfg=dict(flip_test=True, flip_mode="heatmap", shift_heatmap=True),
)


def _median_rate(fn, batch, warmup, repeats):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return batch / statistics.median(times)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    b = args.batch_size
    rng = np.random.default_rng(0)
    x = {"images": rng.uniform(0, 255, (b, 256, 192, 3)).astype("float32")}
    codec = keraspose.build(CONFIG["head"]["decoder"])
    y = codec.batch_encode(
        rng.uniform(0, 190, (b, 17, 2)).astype("float32"), np.ones((b, 17))
    )
    model = keraspose.build(
        dict(
            CONFIG,
            metainfo=dict(
                flip_indices=list(
                    [0, 2, 1, 4, 3, 6, 5, 8, 7, 10, 9, 12, 11, 14, 13, 16, 15]
                )
            ),
        )
    )
    model.compile(optimizer=keras.optimizers.Adam(5e-4))
    train = _median_rate(
        lambda: model.train_on_batch(x, y), b, args.warmup, args.repeats
    )
    infer = _median_rate(
        lambda: model.predict_on_batch(x), b, args.warmup, args.repeats
    )
    print(
        json.dumps(
            {
                "benchmark": "topdown_simplebaseline_res50_256x192",
                "backend": keras.backend.backend(),
                "batch_size": b,
                "train_images_per_s": round(train, 2),
                "inference_images_per_s_flip_test": round(infer, 2),
                "repeats": args.repeats,
                "cpu_count": os.cpu_count(),
                "machine": platform.machine(),
            }
        )
    )


if __name__ == "__main__":
    main()
