"""Parity of parsing and the top-down transforms with the real MMPose.

Fixtures: ``tests/fixtures/mmpose_pipeline.npz`` from
``tools/make_mmpose_pipeline_fixtures.py`` (MMPose 1.3.2 on the images in
``../shared/data``).
"""

import numpy as np
import pytest

pytest.importorskip("tensorflow")

from keraspose.datasets import AP10KDataset  # noqa: E402
from keraspose.datasets import CocoDataset  # noqa: E402
from keraspose.datasets import CrowdPoseDataset  # noqa: E402
from keraspose.datasets import MpiiDataset  # noqa: E402
from keraspose.datasets.transforms import RandomHalfBody  # noqa: E402

INPUT = (96, 128)
CODEC = dict(
    type="MSRAHeatmap", input_size=INPUT, heatmap_size=(24, 32), sigma=2
)


def _run(dataset):
    out = []
    for x in dataset.to_tf_dataset(shuffle=False, seed=0):
        x = x[0] if isinstance(x, tuple) else x
        out.append({k: np.asarray(v) for k, v in x.items()})
    return {k: np.stack([o[k] for o in out]) for k in out[0]}


def _pipeline(flip=False, use_udp=False, target=False):
    steps = [dict(type="LoadImage"), dict(type="GetBBoxCenterScale")]
    if flip:
        steps.append(dict(type="RandomFlip", prob=1.0))
    steps.append(dict(type="TopdownAffine", input_size=INPUT, use_udp=use_udp))
    if target:
        steps.append(dict(type="GenerateTarget", encoder=CODEC))
    steps.append(
        dict(
            type="PackPoseInputs",
            meta_keys=("id", "input_center", "input_scale", "flip"),
            pack_transformed=True,
        )
    )
    return steps


@pytest.mark.parametrize(
    "case,flip,use_udp",
    [
        ("std", False, False),
        ("udp", False, True),
        ("flip", True, False),
        ("flip_udp", True, True),
    ],
)
def test_topdown_affine_matches_mmpose(
    coco_root, pipeline_fixture, case, flip, use_udp
):
    fx = pipeline_fixture
    ds = CocoDataset(
        ann_file="test_coco.json",
        data_root=str(coco_root),
        pipeline=_pipeline(flip, use_udp),
    )
    out = _run(ds)
    np.testing.assert_array_equal(out["id"], fx["coco_train_id"])
    np.testing.assert_allclose(
        out["transformed_keypoints"],
        fx[f"{case}_transformed_keypoints"],
        atol=1e-3,
    )
    np.testing.assert_allclose(
        out["input_center"], fx[f"{case}_input_center"], atol=1e-4
    )
    np.testing.assert_allclose(
        out["input_scale"], fx[f"{case}_input_scale"], rtol=1e-6
    )
    ref = fx[f"{case}_images"].astype(np.float32)
    ours = out["images"][: len(ref)].astype(np.float32)
    assert ours.shape == ref.shape
    mad = np.abs(ours - ref).mean(axis=(1, 2, 3))
    assert mad.max() < 1.0, mad
    assert out.get("flip", np.array(False)).all() == flip


def test_keypoint_visibility_after_flip(coco_root, pipeline_fixture):
    ds = CocoDataset(
        ann_file="test_coco.json",
        data_root=str(coco_root),
        pipeline=[
            dict(type="LoadImage"),
            dict(type="GetBBoxCenterScale"),
            dict(type="RandomFlip", prob=1.0),
            dict(type="TopdownAffine", input_size=INPUT),
            dict(type="GenerateTarget", encoder=CODEC),
            dict(type="PackPoseInputs"),
        ],
    )
    ys = [y for _, y in ds.to_tf_dataset(shuffle=False, seed=0)]
    weights = np.stack([np.asarray(y["keypoint_weights"]) for y in ys])
    ref = pipeline_fixture["flip_keypoints_visible"]
    # Weights = flipped visibility, zeroed where the window leaves the map.
    assert ((weights > 0) <= (ref > 0)).all()


def test_generate_target_matches_mmpose(coco_root, pipeline_fixture):
    fx = pipeline_fixture
    ds = CocoDataset(
        ann_file="test_coco.json",
        data_root=str(coco_root),
        pipeline=_pipeline(target=True),
    )
    ys = [y for _, y in ds.to_tf_dataset(shuffle=False, seed=0)]
    heatmaps = np.stack([np.asarray(y["heatmaps"]) for y in ys[:6]])
    ref = fx["std_heatmaps"].astype(np.float32).transpose(0, 2, 3, 1)
    np.testing.assert_allclose(heatmaps, ref, atol=1e-3)  # ref is float16
    weights = np.stack([np.asarray(y["keypoint_weights"]) for y in ys])
    np.testing.assert_array_equal(weights, fx["std_keypoint_weights"])


def test_load_image_matches_opencv(coco_root, pipeline_fixture):
    import tensorflow as tf

    from keraspose.datasets.transforms import LoadImage

    fx = pipeline_fixture
    for i, name in enumerate(fx["load_img_path"]):
        out = LoadImage(lazy_decode=False)(
            {"img_path": tf.constant(str(coco_root / name))}
        )
        img = out["img"].numpy()
        assert img.shape == tuple(fx["load_shape"][i])
        np.testing.assert_allclose(
            img.reshape(-1, 3).mean(0), fx["load_channel_mean"][i], atol=0.5
        )
        for j, (y, x) in enumerate(fx["load_crop_yx"]):
            crop = img[y : y + 8, x : x + 8].astype(np.float32)
            ref = fx["load_crops"][i, j].astype(np.float32)
            assert np.abs(crop - ref).mean() < 1.0


@pytest.mark.parametrize("variant", ["prefer_upper", "prefer_lower", "strict"])
def test_random_half_body_matches_mmpose(coco_root, pipeline_fixture, variant):
    import tensorflow as tf

    fx = pipeline_fixture
    kwargs = {
        "prefer_upper": dict(upper_prioritized_prob=1.0),
        "prefer_lower": dict(upper_prioritized_prob=0.0),
        "strict": dict(
            upper_prioritized_prob=1.0,
            min_total_keypoints=15,
            min_upper_keypoints=10,
        ),
    }[variant]
    half = RandomHalfBody(prob=1.0, **kwargs)
    k = 17
    upper = np.isin(np.arange(k), fx["coco_upper_body_ids"])
    lower = np.isin(np.arange(k), fx["coco_lower_body_ids"])
    for i in range(len(fx["coco_train_id"])):
        vis = fx["std_keypoints_visible"][i]
        mask, apply = half.select(
            tf.constant(vis), tf.constant(upper), tf.constant(lower), 0.0, 0.5
        )
        mask = mask.numpy() & bool(apply)
        np.testing.assert_array_equal(mask, fx[f"halfbody_{variant}_ids"][i])
        results = {
            "keypoints": tf.constant(fx["std_preaffine_keypoints"][i]),
            "keypoints_visible": tf.constant(vis),
            "bbox_center": tf.constant(fx["std_preaffine_bbox_center"][i]),
            "bbox_scale": tf.constant(fx["std_preaffine_bbox_scale"][i]),
            "upper_body_ids": tf.constant(fx["coco_upper_body_ids"]),
            "lower_body_ids": tf.constant(fx["coco_lower_body_ids"]),
        }
        out = half(results, tf.constant([1, 2], tf.int64))
        np.testing.assert_allclose(
            out["bbox_center"],
            fx[f"halfbody_{variant}_bbox_center"][i],
            rtol=1e-6,
            atol=1e-4,
        )
        np.testing.assert_allclose(
            out["bbox_scale"],
            fx[f"halfbody_{variant}_bbox_scale"][i],
            rtol=1e-6,
            atol=1e-4,
        )


def _check_parse(ds, fx, prefix, keys):
    cols = ds.columns()
    assert len(ds) == int(fx[f"{prefix}_num_instances"])
    for key in keys:
        ours, ref = cols[key], fx[f"{prefix}_{key}"]
        if ref.dtype.kind == "U":
            ours = np.array([p.rsplit("/", 1)[-1] for p in ours])
            np.testing.assert_array_equal(ours, ref)
        else:
            np.testing.assert_allclose(
                ours.astype(np.float64), ref.astype(np.float64), rtol=1e-6
            )


COMMON = [
    "img_id",
    "id",
    "img_path",
    "bbox",
    "bbox_score",
    "keypoints",
    "keypoints_visible",
]


def test_coco_parsing_matches_mmpose(shared_data, pipeline_fixture):
    root = str(shared_data / "coco")
    extra = ["area", "num_keypoints", "iscrowd"]
    ds = CocoDataset(ann_file="test_coco.json", data_root=root)
    _check_parse(ds, pipeline_fixture, "coco_train", COMMON + extra)
    assert sorted(ds.skipped["no_keypoints"]) == [508900, 1202706]
    ds = CocoDataset(ann_file="test_coco.json", data_root=root, test_mode=True)
    _check_parse(ds, pipeline_fixture, "coco_test", COMMON + extra)
    ds = CocoDataset(
        ann_file="test_coco.json",
        bbox_file="test_coco_det_AP_H_56.json",
        data_root=root,
        test_mode=True,
        filter_cfg=dict(bbox_score_thr=0.3),
    )
    _check_parse(ds, pipeline_fixture, "coco_det", COMMON + ["img_shape"])


def test_other_datasets_parse_like_mmpose(shared_data, pipeline_fixture):
    fx = pipeline_fixture
    extra = ["area", "num_keypoints", "iscrowd"]
    cp = str(shared_data / "crowdpose")
    ds = CrowdPoseDataset(ann_file="test_crowdpose.json", data_root=cp)
    _check_parse(ds, fx, "crowdpose_train", COMMON + extra + ["crowd_index"])
    ds = CrowdPoseDataset(
        ann_file="test_crowdpose.json",
        bbox_file="test_crowdpose_det_AP_40.json",
        data_root=cp,
        test_mode=True,
    )
    _check_parse(ds, fx, "crowdpose_det", COMMON + ["img_shape"])
    ds = AP10KDataset(
        ann_file="test_ap10k.json", data_root=str(shared_data / "ap10k")
    )
    _check_parse(ds, fx, "ap10k_train", COMMON + extra)
    for mode in ("train", "test"):
        ds = MpiiDataset(
            ann_file="test_mpii.json",
            data_root=str(shared_data / "mpii"),
            test_mode=mode == "test",
        )
        _check_parse(
            ds,
            fx,
            f"mpii_{mode}",
            COMMON + ["area", "bbox_center", "bbox_scale"],
        )


@pytest.mark.parametrize("flip", [False, True])
def test_lazy_window_decoding_equals_full_decoding(coco_root, flip):
    """Decoding only the warp's window gives the same crops, exactly."""
    outs = []
    for lazy in (True, False):
        steps = _pipeline(flip=flip)
        steps[0] = dict(type="LoadImage", lazy_decode=lazy)
        steps.insert(-2, dict(type="RandomBBoxTransform", rotate_prob=1.0))
        ds = CocoDataset(
            ann_file="test_coco.json", data_root=str(coco_root), pipeline=steps
        )
        outs.append(_run(ds))
    np.testing.assert_array_equal(outs[0]["images"], outs[1]["images"])
    np.testing.assert_array_equal(
        outs[0]["transformed_keypoints"], outs[1]["transformed_keypoints"]
    )


def test_onehand10k_dataset_reads_the_hand_sample(shared_data):
    """OneHand10K: 21 hand keypoints from its COCO-format json."""
    import json

    from keraspose.datasets import OneHand10KDataset

    root = shared_data / "onehand10k"
    ds = OneHand10KDataset(
        ann_file="test_onehand10k.json",
        data_root=str(root),
        pipeline=_pipeline(),
    )
    raw = json.loads((root / "test_onehand10k.json").read_text())
    anns = {a["id"]: a for a in raw["annotations"]}
    cols = ds.columns()
    assert ds.metainfo["num_keypoints"] == 21
    assert set(cols["id"].tolist()) <= set(anns)
    for i, ann_id in enumerate(cols["id"].tolist()):
        kpts = np.asarray(anns[ann_id]["keypoints"], np.float32).reshape(21, 3)
        np.testing.assert_array_equal(cols["keypoints"][i], kpts[:, :2])
    out = _run(ds)
    assert out["images"].shape == (len(ds), INPUT[1], INPUT[0], 3)
    rebuilt = OneHand10KDataset.from_config(ds.get_config())
    np.testing.assert_array_equal(rebuilt.columns()["bbox"], cols["bbox"])
