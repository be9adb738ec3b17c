"""Throughput of top-down models: SimpleBaseline-R50, RTMPose-m, HRNet-W32
and ViTPose-S.

Builds the shipped MMPose configs (COCO, 256x192) and prints one JSON object
per model: train-step and inference (flip test on, as the configs say)
images/s, the median of ``--repeats`` timed steps after warm-up, on the
current Keras backend, batch 16.

    KERAS_BACKEND=jax python benchmarks/bench_topdown.py [--model rtmpose_m]
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
from keraspose.apis import load_config  # noqa: E402
from keraspose.apis.demo import config_path  # noqa: E402
from keraspose.apis.runner import build_model  # noqa: E402

#: Benchmarked models: the shipped MMPose configs.
MODELS = {
    "simplebaseline_res50": (
        "body_2d_keypoint/topdown_heatmap/coco/"
        "td-hm_res50_8xb64-210e_coco-256x192.py"
    ),
    "rtmpose_m": (
        "body_2d_keypoint/rtmpose/coco/rtmpose-m_8xb256-420e_coco-256x192.py"
    ),
    "hrnet_w32": (
        "body_2d_keypoint/topdown_heatmap/coco/"
        "td-hm_hrnet-w32_8xb64-210e_coco-256x192.py"
    ),
    "vitpose_s": (
        "body_2d_keypoint/topdown_heatmap/coco/"
        "td-hm_ViTPose-small_8xb64-210e_coco-256x192.py"
    ),
}
COCO_FLIP = [0, 2, 1, 4, 3, 6, 5, 8, 7, 10, 9, 12, 11, 14, 13, 16, 15]


def _median_rate(fn, batch, warmup, repeats):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return batch / statistics.median(times)


def bench(name, args):
    cfg = load_config(config_path(MODELS[name]))
    model = build_model(cfg, metainfo=dict(flip_indices=COCO_FLIP))
    codec = keraspose.build(cfg.codec)
    w, h = codec.input_size
    b = args.batch_size
    rng = np.random.default_rng(0)
    x = {"images": rng.uniform(0, 255, (b, h, w, 3)).astype("float32")}
    y = codec.batch_encode(
        rng.uniform(0, min(w, h), (b, 17, 2)).astype("float32"),
        np.ones((b, 17)),
    )
    model.compile(optimizer=keras.optimizers.Adam(5e-4))
    train = _median_rate(
        lambda: model.train_on_batch(x, y), b, args.warmup, args.repeats
    )
    infer = _median_rate(
        lambda: model.predict_on_batch(x), b, args.warmup, args.repeats
    )
    return {
        "benchmark": f"topdown_{name}_{h}x{w}",
        "backend": keras.backend.backend(),
        "params": int(sum(np.prod(v.shape) for v in model.trainable_weights)),
        "batch_size": b,
        "train_images_per_s": round(train, 2),
        "inference_images_per_s_flip_test": round(infer, 2),
        "repeats": args.repeats,
        "cpu_count": os.cpu_count(),
        "machine": platform.machine(),
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--model", choices=sorted(MODELS) + ["all"], default="all"
    )
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    names = sorted(MODELS) if args.model == "all" else [args.model]
    for name in names:
        print(json.dumps(bench(name, args)), flush=True)
        keras.utils.clear_session()


if __name__ == "__main__":
    main()
