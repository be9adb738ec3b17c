"""Throughput of the top-down training data pipeline (tf.data), per core.

Runs MMPose's standard COCO train pipeline (LoadImage, GetBBoxCenterScale,
RandomFlip, RandomHalfBody, RandomBBoxTransform, TopdownAffine,
GenerateTarget(MSRAHeatmap), PackPoseInputs) on ``test_coco.json``
repeated, with tf.data limited to 1 thread and then to all cores. When the
MMPose reference environment is found (``--mmpose-python``, the
``KERASPOSE_MMPOSE_PYTHON`` variable or ``../mmpose-ref/bin/python``), it
also times MMPose's own pipeline on the same data and one core, through
``benchmarks/mmpose_pipeline_ref.py``. Prints one JSON object.

    python benchmarks/bench_pipeline.py --data ../shared/data/coco
"""

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "jax")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

ROOT = Path(__file__).resolve().parents[1]


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", default=str(ROOT.parent / "shared/data/coco"))
    p.add_argument("--ann-file", default="test_coco.json")
    p.add_argument("--input-size", type=int, nargs=2, default=(192, 256))
    p.add_argument("--samples", type=int, default=3000)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--mmpose-python", default=None)
    p.add_argument("--mmpose-repeat", type=int, default=400)
    return p.parse_args()


def pipeline(input_size):
    w, h = input_size
    codec = dict(
        type="MSRAHeatmap",
        input_size=(w, h),
        heatmap_size=(w // 4, h // 4),
        sigma=2,
    )
    return [
        dict(type="LoadImage"),
        dict(type="GetBBoxCenterScale"),
        dict(type="RandomFlip", direction="horizontal"),
        dict(type="RandomHalfBody"),
        dict(type="RandomBBoxTransform"),
        dict(type="TopdownAffine", input_size=(w, h)),
        dict(type="GenerateTarget", encoder=codec),
        dict(type="PackPoseInputs"),
    ]


def time_keraspose(args, threads):
    import tensorflow as tf

    from keraspose.datasets import CocoDataset

    ds = CocoDataset(
        ann_file=args.ann_file,
        data_root=args.data,
        pipeline=pipeline(args.input_size),
    )
    loader = ds.to_tf_dataset(
        batch_size=args.batch_size, repeat=True, seed=0, prefetch=True
    )
    options = tf.data.Options()
    options.threading.private_threadpool_size = threads
    options.threading.max_intra_op_parallelism = 1
    loader = loader.with_options(options)
    it = iter(loader)
    for _ in range(3):  # warm-up: tracing and the first batches
        next(it)
    steps = max(1, args.samples // args.batch_size)
    start = time.perf_counter()
    for _ in range(steps):
        x, y = next(it)
    _ = x["images"].numpy(), y["heatmaps"].numpy()
    seconds = time.perf_counter() - start
    n = steps * args.batch_size
    return {
        "threads": threads,
        "samples": n,
        "seconds": round(seconds, 3),
        "images_per_s": round(n / seconds, 1),
        "images_per_s_per_core": round(n / seconds / threads, 1),
    }


def find_mmpose_python(args):
    for cand in (
        args.mmpose_python,
        os.environ.get("KERASPOSE_MMPOSE_PYTHON"),
        str(ROOT.parent / "mmpose-ref" / "bin" / "python"),
    ):
        if cand and Path(cand).exists():
            return cand
    return None


def time_mmpose(args):
    python = find_mmpose_python(args)
    if python is None:
        return {"skipped": "MMPose reference environment not found"}
    cmd = [
        python,
        str(ROOT / "benchmarks" / "mmpose_pipeline_ref.py"),
        "--data",
        args.data,
        "--shared",
        str(ROOT.parent / "shared" / "reference"),
        "--repeat",
        str(args.mmpose_repeat),
        "--input-size",
        *map(str, args.input_size),
    ]
    out = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        return {"error": out.stderr.strip().splitlines()[-1:]}
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    args = parse_args()
    cores = os.cpu_count() or 1
    result = {
        "benchmark": "topdown_train_pipeline_coco",
        "input_size": list(args.input_size),
        "keraspose_1_core": time_keraspose(args, 1),
        f"keraspose_{cores}_cores": time_keraspose(args, cores),
        "mmpose_1_core": time_mmpose(args),
    }
    ours = result["keraspose_1_core"]["images_per_s_per_core"]
    theirs = result["mmpose_1_core"].get("images_per_s_per_core")
    if theirs:
        result["speedup_per_core_vs_mmpose"] = round(ours / theirs, 2)
    print(json.dumps(result))


if __name__ == "__main__":
    sys.exit(main())
