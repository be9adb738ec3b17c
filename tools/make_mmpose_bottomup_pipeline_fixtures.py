"""Generates tests/fixtures/mmpose_bottomup_pipeline.npz with MMPose 1.3.2.

Run with the MMPose reference environment:

    $REF/bin/python tools/make_mmpose_bottomup_pipeline_fixtures.py \\
        ../shared/reference ../shared/data

Keys (MMPose conventions: keypoints (x, y) pixels, images HWC uint8 BGR,
``input_size`` (w, h)); ``<d>`` is ``coco`` (``coco/test_coco.json``) or
``crowdpose`` (``crowdpose/test_crowdpose.json``), both
``data_mode='bottomup'``:

1. Dataset parsing (``pipeline=[]``, ``test_mode=False``):
   ``<d>_img_id`` (I,), ``<d>_num_instances`` (I,), ``<d>_keypoints``
   (sum N, K, 2), ``<d>_keypoints_visible`` (sum N, K), ``<d>_id``,
   ``<d>_bbox`` (sum N, 4), ``<d>_area``, ``<d>_num_invalid_segs`` (I,)
   (polygons of list segmentations of invalid instances).
2. ``BottomupRandomAffine`` with fixed random parameters (case ``j``
   of ``AFFINE_CASES``, on image ``i`` of ``coco``; its
   ``_get_transform_params`` is replaced by the fixed values):
   ``affine_<i>_<j>_warp_mat`` (2, 3) float64, ``..._keypoints``,
   ``..._keypoints_visible``, ``..._bbox`` (N, 4, 2), ``..._area``,
   ``..._img`` (input image subsampled by 8: [4::8, 4::8]), then
   ``RandomFlip(prob=1.0)`` when the case flips and
   ``BottomupGetHeatmapMask`` with (K, 64, 64) dummy heatmaps:
   ``..._flip_keypoints``, ``..._heatmap_mask`` (64, 64) bool.
   ``affine_params`` (J, 5): offset x, offset y, scale, rotation, flip.
3. ``BottomupResize`` (case ``m`` of ``RESIZE_CASES`` on image ``i``):
   ``resize_<i>_<m>_{input_center,input_scale,input_size,img_shape}``,
   ``resize_<i>_<m>_img`` (subsampled [8::16, 8::16]).
4. ``BottomupGetHeatmapMask`` on its own (no warp) with synthetic
   polygons: ``mask_polys_<c>`` (flat), ``mask_shape_<c>`` and
   ``mask_<c>`` (h, w) bool, the COCO rasteriser's result.
"""

import sys
import warnings
from pathlib import Path

import numpy as np

REF = sys.argv[1] if len(sys.argv) > 1 else "../shared/reference"
DATA = Path(sys.argv[2] if len(sys.argv) > 2 else "../shared/data").resolve()
OUT = Path(__file__).resolve().parents[1] / "tests/fixtures"
sys.path.insert(0, REF)
import mmcv_ops_stub  # noqa: E402

mmcv_ops_stub.install()
warnings.filterwarnings("ignore")

import mmpose.codecs  # noqa: E402,F401
import mmpose.datasets  # noqa: E402,F401
from mmpose.registry import DATASETS  # noqa: E402
from mmpose.registry import TRANSFORMS  # noqa: E402

#: (offset_x, offset_y, scale, rotation, flip, transform_mode, udp_input)
AFFINE_CASES = [
    (0.0, 0.0, 1.0, 0.0, 0, "affine"),
    (0.13, -0.07, 0.8, 17.0, 1, "affine"),
    (-0.15, 0.11, 1.4, -25.0, 1, "affine_udp"),
]
#: (input_size, size_factor, resize_mode, use_udp)
RESIZE_CASES = [
    ((512, 512), 32, "expand", False),
    ((512, 512), 64, "expand", False),
    ((256, 256), 32, "fit", False),
    ((512, 512), 32, "expand", True),
]
INPUT_SIZE = (256, 256)


def dataset(name, ann):
    cfg = dict(
        type="CocoDataset" if name == "coco" else "CrowdPoseDataset",
        data_root=str(DATA / name),
        ann_file=ann,
        data_prefix=dict(img=""),
        data_mode="bottomup",
        pipeline=[],
        test_mode=False,
    )
    return DATASETS.build(cfg)


def main():
    out = {}
    datasets = {}
    for name, ann in (
        ("coco", "test_coco.json"),
        ("crowdpose", "test_crowdpose.json"),
    ):
        ds = dataset(name, ann)
        datasets[name] = ds
        infos = [ds.get_data_info(i) for i in range(len(ds))]
        out[f"{name}_img_id"] = np.array([d["img_id"] for d in infos])
        out[f"{name}_num_instances"] = np.array(
            [len(d["keypoints"]) for d in infos]
        )
        for key in ("keypoints", "keypoints_visible", "bbox", "area"):
            out[f"{name}_{key}"] = np.concatenate(
                [np.asarray(d[key], np.float32) for d in infos]
            )
        out[f"{name}_id"] = np.concatenate([np.asarray(d["id"]) for d in infos])
        # polygons MMPose's mask rasterises (list segmentations only)
        out[f"{name}_num_invalid_segs"] = np.array(
            [
                sum(len(g) for g in d["invalid_segs"] if isinstance(g, list))
                for d in infos
            ]
        )
    load = TRANSFORMS.build(dict(type="LoadImage"))
    coco = datasets["coco"]
    params = []
    for j, (ox, oy, sc, rot, flip, mode) in enumerate(AFFINE_CASES):
        params.append([ox, oy, sc, rot, flip])
        affine = TRANSFORMS.build(
            dict(
                type="BottomupRandomAffine",
                input_size=INPUT_SIZE,
                transform_mode=mode,
            )
        )
        fixed = (
            np.array([ox, oy], np.float32),
            np.array([sc], np.float32),
            np.float32(rot),
            np.zeros(2, np.float32),
        )
        affine._get_transform_params = lambda fixed=fixed: fixed
        for i in range(len(coco)):
            r = load(coco.get_data_info(i))
            r = affine(r)
            p = f"affine_{i}_{j}"
            out[f"{p}_warp_mat"] = np.asarray(r["warp_mat"], np.float64)
            out[f"{p}_keypoints"] = np.asarray(r["keypoints"], np.float32)
            out[f"{p}_bbox"] = np.asarray(r["bbox"], np.float32)
            out[f"{p}_area"] = np.asarray(r["area"], np.float32)
            out[f"{p}_img"] = r["img"][4::8, 4::8]
            if flip:
                r = TRANSFORMS.build(dict(type="RandomFlip", prob=1.0))(r)
            out[f"{p}_flip_keypoints"] = np.asarray(r["keypoints"], np.float32)
            out[f"{p}_flip_keypoints_visible"] = np.asarray(
                r["keypoints_visible"], np.float32
            )
            r["heatmaps"] = np.zeros((17, 64, 64), np.float32)
            r = TRANSFORMS.build(dict(type="BottomupGetHeatmapMask"))(r)
            out[f"{p}_heatmap_mask"] = np.asarray(r["heatmap_mask"], bool)
    out["affine_params"] = np.array(params, np.float32)
    for m, (size, factor, mode, udp) in enumerate(RESIZE_CASES):
        resize = TRANSFORMS.build(
            dict(
                type="BottomupResize",
                input_size=size,
                size_factor=factor,
                resize_mode=mode,
                use_udp=udp,
            )
        )
        for i in range(len(coco)):
            r = resize(load(coco.get_data_info(i)))
            p = f"resize_{i}_{m}"
            out[f"{p}_input_center"] = np.asarray(r["input_center"])
            out[f"{p}_input_scale"] = np.asarray(r["input_scale"])
            out[f"{p}_input_size"] = np.asarray(r["input_size"])
            out[f"{p}_img_shape"] = np.asarray(r["img_shape"])
            out[f"{p}_img"] = r["img"][8::16, 8::16]
    mask_t = TRANSFORMS.build(dict(type="BottomupGetHeatmapMask"))
    rng = np.random.default_rng(0)
    for c in range(4):
        h, w = 40 + 3 * c, 50 - 2 * c
        n = 3 + 2 * c
        ang = np.sort(rng.uniform(0, 2 * np.pi, n))
        rad = rng.uniform(5, 18, n)
        cx, cy = rng.uniform(10, w - 10), rng.uniform(10, h - 10)
        poly = np.stack(
            [cx + rad * np.cos(ang), cy + rad * np.sin(ang)], -1
        ).astype(np.float64)
        segs = [[poly.reshape(-1).tolist()]]
        r = mask_t(dict(img_shape=(h, w), input_size=(w, h), invalid_segs=segs))
        out[f"mask_polys_{c}"] = poly.astype(np.float32)
        out[f"mask_shape_{c}"] = np.array([h, w])
        out[f"mask_{c}"] = ~np.asarray(r["heatmap_mask"], bool)
    OUT.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(OUT / "mmpose_bottomup_pipeline.npz", **out)
    print(OUT / "mmpose_bottomup_pipeline.npz", len(out), "arrays")


if __name__ == "__main__":
    main()
