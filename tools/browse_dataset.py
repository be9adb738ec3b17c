"""Renders augmented training batches (or the raw annotations) to PNGs.

The keraspose analogue of MMPose's ``tools/misc/browse_dataset.py``: look
at what the model is trained on and check that flips and affine warps keep
the keypoints on the body (COCO colours: left limbs green, right limbs
orange, head and torso blue).

``--mode train`` (default) runs MMPose's standard top-down training
pipeline::

    LoadImage -> GetBBoxCenterScale -> RandomFlip(direction="horizontal")
    -> RandomHalfBody -> RandomBBoxTransform -> TopdownAffine(input_size)
    -> GenerateTarget(MSRAHeatmap(input_size, input_size / 4, sigma=2))
    -> PackPoseInputs(pack_transformed=True)

and writes ``batch_000.png``, ``batch_001.png``, ... (one grid per batch:
crop with keypoints, heatmap overlay; see
:func:`keraspose.visualization.render_batch`). ``--mode original`` draws
the annotations of the annotation file on the full images, one
``<image name>.png`` per image with all its instances and their boxes.
The written paths are printed, one per line.

Example:

    python tools/browse_dataset.py --data-root ../shared/data/coco \\
        --ann-file test_coco.json --metainfo coco --out-dir work_dirs/browse \\
        --num-batches 2 --batch-size 8 --input-size 192 256 --seed 0
"""

import argparse
import os
import sys
from pathlib import Path

# Runs from a checkout without installing keraspose.
_ROOT = str(Path(__file__).resolve().parents[1])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

import numpy as np  # noqa: E402

from keraspose.datasets.transforms import pack_pose_inputs  # noqa: E402
from keraspose.registry import build  # noqa: E402
from keraspose.utils.lazy_import import tf  # noqa: E402
from keraspose.visualization import draw_pose  # noqa: E402
from keraspose.visualization import render_batch  # noqa: E402
from keraspose.visualization.draw import cv2  # noqa: E402
from keraspose.visualization.draw import default_radius_thickness  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description="Render augmented batches or the original annotations "
        "of a COCO-style keypoint dataset to PNG files."
    )
    parser.add_argument("--data-root", required=True, help="dataset root")
    parser.add_argument(
        "--ann-file",
        required=True,
        help="annotation json, relative to --data-root",
    )
    parser.add_argument(
        "--data-prefix",
        default="",
        help="image folder relative to --data-root (e.g. val2017/)",
    )
    parser.add_argument(
        "--metainfo",
        default=None,
        help="metainfo name or file (default: the dataset class's)",
    )
    parser.add_argument(
        "--dataset-type",
        default="CocoDataset",
        help="registered dataset class (default: CocoDataset)",
    )
    parser.add_argument("--out-dir", default="work_dirs/browse")
    parser.add_argument(
        "--mode",
        default="train",
        choices=["train", "original"],
        help='"train": augmented crops of the training pipeline; '
        '"original": annotations on the full images',
    )
    parser.add_argument("--num-batches", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument(
        "--input-size",
        type=int,
        nargs=2,
        default=(192, 256),
        metavar=("W", "H"),
        help="model input width and height (heatmaps are 1/4 of it)",
    )
    parser.add_argument("--sigma", type=float, default=2.0)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--cols", type=int, default=4)
    parser.add_argument("--scale", type=int, default=2)
    parser.add_argument(
        "--no-heatmap",
        action="store_true",
        help="leave out the heatmap panel",
    )
    parser.add_argument(
        "--max-images",
        type=int,
        default=None,
        help="--mode original: at most this many images (default: "
        "num-batches x batch-size)",
    )
    args = parser.parse_args(argv)
    for name in ("num_batches", "batch_size", "cols", "scale"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be >= 1")
    w, h = args.input_size
    if w < 4 or h < 4:
        parser.error("--input-size must be at least 4 x 4")
    return args


def train_pipeline(input_size, sigma=2.0):
    """MMPose's standard top-down training pipeline (MSRA heatmaps)."""
    w, h = (int(v) for v in input_size)
    return [
        dict(type="LoadImage"),
        dict(type="GetBBoxCenterScale"),
        dict(type="RandomFlip", direction="horizontal"),
        dict(type="RandomHalfBody"),
        dict(type="RandomBBoxTransform"),
        dict(type="TopdownAffine", input_size=(w, h)),
        dict(
            type="GenerateTarget",
            encoder=dict(
                type="MSRAHeatmap",
                input_size=(w, h),
                heatmap_size=(w // 4, h // 4),
                sigma=sigma,
            ),
        ),
        dict(
            type="PackPoseInputs",
            pack_transformed=True,
            meta_keys=(
                *pack_pose_inputs.DEFAULT_META_KEYS,
                "keypoints_visible",
            ),
        ),
    ]


def build_dataset(args, pipeline):
    cfg = dict(
        type=args.dataset_type,
        data_root=args.data_root,
        ann_file=args.ann_file,
        data_prefix=dict(img=args.data_prefix),
        pipeline=pipeline,
    )
    if args.metainfo:
        cfg["metainfo"] = args.metainfo
    return build(cfg)


def browse_train(args):
    dataset = build_dataset(
        args, train_pipeline(args.input_size, sigma=args.sigma)
    )
    loader = dataset.to_tf_dataset(
        batch_size=args.batch_size, shuffle=True, seed=args.seed
    )
    paths = []
    for i, batch in enumerate(loader.take(args.num_batches)):
        path = os.path.join(args.out_dir, f"batch_{i:03d}.png")
        render_batch(
            batch,
            dataset.metainfo,
            path=path,
            max_samples=args.batch_size,
            cols=args.cols,
            heatmap_overlay=not args.no_heatmap,
            scale=args.scale,
        )
        paths.append(path)
    return paths


def browse_original(args):
    """One PNG per image: all its annotated instances and their boxes."""
    dataset = build_dataset(args, [dict(type="LoadImage")])
    cols = dataset.columns()
    limit = args.max_images or args.num_batches * args.batch_size
    img_ids = list(dict.fromkeys(cols["img_id"].tolist()))[:limit]
    first = [int(np.flatnonzero(cols["img_id"] == i)[0]) for i in img_ids]
    records = tf.data.Dataset.from_tensor_slices(
        {k: v[first] for k, v in cols.items()}
    )
    seed = tf.zeros([2], tf.int64)
    images = records.map(lambda r: dataset.process(r, seed)["img"])
    paths = []
    names = {}
    for img_id, idx, img in zip(img_ids, first, images):
        img = img.numpy()
        sel = cols["img_id"] == img_id
        out = draw_pose(
            img,
            cols["keypoints"][sel],
            cols["keypoints_visible"][sel],
            dataset.metainfo,
        )
        _, thickness = default_radius_thickness(out.shape)
        for x1, y1, x2, y2 in np.round(cols["bbox"][sel]).astype(int):
            cv2.rectangle(out, (x1, y1), (x2, y2), (0, 255, 0), thickness)
        stem = Path(str(cols["img_path"][idx])).stem
        if stem in names:  # same file name under different folders
            names[stem] += 1
            stem = f"{stem}_{names[stem]}"
        else:
            names[stem] = 0
        path = os.path.join(args.out_dir, f"{stem}.png")
        os.makedirs(args.out_dir, exist_ok=True)
        if not cv2.imwrite(path, out):
            raise OSError(f"Could not write {path!r}.")
        paths.append(path)
    return paths


def main(argv=None):
    args = parse_args(argv)
    if args.mode == "train":
        paths = browse_train(args)
    else:
        paths = browse_original(args)
    for path in paths:
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
