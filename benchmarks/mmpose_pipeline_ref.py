"""Times MMPose 1.3.2's own top-down training data pipeline on one core.

Run ONLY with the MMPose reference environment (never with keraspose's):

    $REF/bin/python benchmarks/mmpose_pipeline_ref.py \\
        --data ../shared/data/coco --shared ../shared/reference \\
        --repeat 40 --input-size 192 256

The pipeline is the ``train_pipeline`` of MMPose's
``td-hm_res50_8xb64-210e_coco-256x192.py``: LoadImage, GetBBoxCenterScale,
RandomFlip(direction='horizontal'), RandomHalfBody, RandomBBoxTransform,
TopdownAffine(input_size), GenerateTarget(MSRAHeatmap, heatmap = input / 4,
sigma=2), PackPoseInputs. Samples go through ``CocoDataset.__getitem__``
(train mode, ``test_coco.json``) in a single process with one thread;
the instances are visited ``--repeat`` times after a short warm-up.
Prints one line of JSON.
"""

import os

# One thread everywhere, before numpy / OpenCV / torch load their pools.
for _var in (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "NUMEXPR_NUM_THREADS",
):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import contextlib  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data", required=True, help="folder with test_coco.json + images"
    )
    parser.add_argument(
        "--shared", required=True, help="shared/reference (mmcv_ops_stub)"
    )
    parser.add_argument("--repeat", type=int, default=40)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument(
        "--input-size",
        type=int,
        nargs=2,
        default=(192, 256),
        metavar=("W", "H"),
    )
    parser.add_argument(
        "--cores", type=int, default=1, help="ignored: always 1 core"
    )
    return parser.parse_args()


def main():
    args = parse_args()
    sys.path.insert(0, args.shared)
    import mmcv_ops_stub

    mmcv_ops_stub.install()

    import cv2
    import torch

    cv2.setNumThreads(1)
    torch.set_num_threads(1)
    warnings.filterwarnings("ignore", message="The metainfo config file")

    import mmpose.codecs  # noqa: F401  (registers the codecs)
    import mmpose.datasets  # noqa: F401  (registers datasets, transforms)
    from mmengine.logging import MMLogger
    from mmengine.registry import init_default_scope
    from mmpose.registry import DATASETS

    MMLogger.get_instance("mmengine", log_level="WARNING")
    # What register_all_modules would do, without its torchvision imports:
    # the dataset's Compose looks transforms up in the "mmpose" scope.
    init_default_scope("mmpose")

    w, h = args.input_size
    codec = dict(
        type="MSRAHeatmap",
        input_size=(w, h),
        heatmap_size=(w // 4, h // 4),
        sigma=2,
    )
    train_pipeline = [
        dict(type="LoadImage"),
        dict(type="GetBBoxCenterScale"),
        dict(type="RandomFlip", direction="horizontal"),
        dict(type="RandomHalfBody"),
        dict(type="RandomBBoxTransform"),
        dict(type="TopdownAffine", input_size=codec["input_size"]),
        dict(type="GenerateTarget", encoder=codec),
        dict(type="PackPoseInputs"),
    ]
    data = Path(args.data).resolve()
    # xtcocotools prints "loading annotations..." on stdout: keep stdout
    # for the JSON line only.
    with contextlib.redirect_stdout(sys.stderr):
        dataset = DATASETS.build(
            dict(
                type="CocoDataset",
                data_root=str(data),
                data_mode="topdown",
                ann_file="test_coco.json",
                data_prefix=dict(img=""),
                pipeline=train_pipeline,
            )
        )
    num = len(dataset)
    for i in range(args.warmup):
        dataset[i % num]

    samples = 0
    start = time.perf_counter()
    for _ in range(args.repeat):
        for i in range(num):
            out = dataset[i]
            samples += 1
    seconds = time.perf_counter() - start
    shape = tuple(out["inputs"].shape)
    assert shape == (3, h, w), shape

    rate = samples / seconds
    print(
        json.dumps(
            {
                "framework": "mmpose-1.3.2",
                "samples": samples,
                "seconds": round(seconds, 3),
                "images_per_s": round(rate, 2),
                "images_per_s_per_core": round(rate, 2),
                "cores": 1,
                "input_size": [w, h],
            }
        )
    )


if __name__ == "__main__":
    main()
