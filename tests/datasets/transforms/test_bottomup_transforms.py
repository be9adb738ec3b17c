"""Bottom-up transforms: config round trip, behaviour, parity with MMPose."""

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")

import keraspose  # noqa: E402
from keraspose.datasets.transforms.bottomup_get_heatmap_mask import (  # noqa: E402
    rasterize_polygons,
)
from keraspose.datasets.transforms.generate_target import TARGET_KEYS  # noqa: E402
from keraspose.datasets.transforms.random_flip import flip_sample  # noqa: E402
from tests.conftest import FIXTURES  # noqa: E402
from tests.helpers import run_object_test  # noqa: E402

K = 5
FLIP = [0, 2, 1, 4, 3]


def _sample(n=3, h=60, w=80, seed=0):
    rng = np.random.default_rng(seed)
    kpts = rng.uniform(5, 55, (n, K, 2)).astype(np.float32)
    vis = (rng.uniform(size=(n, K)) > 0.2).astype(np.float32)
    return {
        "img": tf.constant(rng.integers(0, 255, (h, w, 3), dtype=np.uint8)),
        "img_shape": tf.constant([h, w], tf.int32),
        "ori_shape": tf.constant([h, w], tf.int32),
        "keypoints": tf.constant(kpts),
        "keypoints_visible": tf.constant(vis),
        "bbox": tf.constant(
            np.tile([[5.0, 8.0, 40.0, 50.0]], (n, 1)).astype(np.float32)
        ),
        "area": tf.constant(np.full((n,), 100.0, np.float32)),
        "flip_indices": tf.constant(FLIP, tf.int32),
        "invalid_segs": tf.ragged.constant(
            [[[10.0, 10.0], [30.0, 10.0], [30.0, 30.0]]], ragged_rank=1
        ),
    }


CONFIGS = [
    dict(type="BottomupRandomAffine", input_size=(32, 32)),
    dict(
        type="BottomupRandomAffine",
        input_size=(32, 48),
        transform_mode="affine_udp",
        distribution="uniform",
        scale_type="long",
        bbox_keep_corner=False,
        clip_border=True,
        pad_val=7,
    ),
    dict(type="BottomupResize", input_size=(64, 64), size_factor=32),
    dict(
        type="BottomupResize",
        input_size=(64, 64),
        size_factor=16,
        resize_mode="expand",
        use_udp=True,
        aug_scales=[1.5],
    ),
    dict(type="BottomupGetHeatmapMask", get_invalid=True),
]


def _arrays(out):
    return {
        k: np.asarray(v)
        for k, v in out.items()
        if isinstance(v, tf.Tensor) and v.dtype != tf.string
    }


@pytest.mark.parametrize("cfg", CONFIGS, ids=lambda c: c["type"])
def test_config_round_trip_same_outputs(cfg):
    seed = tf.constant([3, 4], tf.int64)
    run_object_test(cfg, lambda t: _arrays(t(_sample(), seed)))


def test_random_affine_multi_instance_shapes_and_reproducible():
    t = keraspose.build(dict(type="BottomupRandomAffine", input_size=(32, 48)))
    a = t(_sample(), tf.constant([1, 2], tf.int64))
    b = t(_sample(), tf.constant([1, 2], tf.int64))
    c = t(_sample(), tf.constant([5, 2], tf.int64))
    assert a["img"].shape == (48, 32, 3)
    assert a["keypoints"].shape == (3, K, 2)
    assert a["bbox"].shape == (3, 4, 2)
    np.testing.assert_array_equal(a["warp_mat"], b["warp_mat"])
    assert not np.allclose(a["warp_mat"], c["warp_mat"])
    np.testing.assert_array_equal(a["input_size"], [32, 48])
    np.testing.assert_array_equal(a["img_shape"], [60, 80])  # as MMPose


def test_random_affine_parameter_distribution():
    t = keraspose.build(
        dict(type="BottomupRandomAffine", input_size=(32, 32), shift_prob=0.5)
    )
    params = [
        t.get_transform_params(tf.constant([i, 9], tf.int64))
        for i in range(300)
    ]
    offs = np.array([p[0] for p in params])
    scales = np.array([float(p[1]) for p in params])
    rots = np.array([float(p[2]) for p in params])
    assert np.abs(offs).max() <= 0.2 + 1e-6
    assert 0.35 < np.mean(np.all(offs == 0, axis=1)) < 0.65
    assert 0.75 <= scales.min() and scales.max() <= 1.5
    assert abs(scales.mean() - 1.125) < 0.03
    assert np.abs(rots).max() <= 30.0 + 1e-5
    assert 8 < rots.std() < 20  # truncated normal * 30: std ~ 16


def test_invalid_args_raise():
    with pytest.raises(ValueError, match="input_size"):
        keraspose.build(dict(type="BottomupRandomAffine"))
    with pytest.raises(ValueError, match="perspective"):
        keraspose.build(
            dict(
                type="BottomupRandomAffine",
                input_size=(32, 32),
                transform_mode="perspective",
            )
        )
    with pytest.raises(ValueError, match="distribution"):
        keraspose.build(
            dict(
                type="BottomupRandomAffine",
                input_size=(32, 32),
                distribution="normal",
            )
        )
    with pytest.raises(ValueError, match="multiple of size_factor"):
        keraspose.build(
            dict(type="BottomupResize", input_size=(500, 512), size_factor=32)
        )
    with pytest.raises(ValueError, match="resize_mode"):
        keraspose.build(
            dict(type="BottomupResize", input_size=(512, 512), resize_mode="x")
        )
    with pytest.raises(ValueError, match="max_instances"):
        keraspose.build(
            dict(
                type="GenerateTarget",
                encoder=dict(
                    type="MSRAHeatmap",
                    input_size=(32, 32),
                    heatmap_size=(8, 8),
                    sigma=1,
                ),
                max_instances=0,
            )
        )


def test_flip_multi_instance_corners_and_input_size():
    s = _sample()
    s["input_size"] = tf.constant([64, 64], tf.int32)
    corners = tf.constant(np.arange(24, dtype=np.float32).reshape(3, 4, 2))
    s["bbox"] = corners
    out = flip_sample(s, "horizontal")
    kp = s["keypoints"].numpy()
    np.testing.assert_allclose(
        out["keypoints"].numpy()[..., 0], 63 - kp[:, FLIP, 0]
    )
    np.testing.assert_array_equal(
        out["keypoints_visible"].numpy(),
        s["keypoints_visible"].numpy()[:, FLIP],
    )
    np.testing.assert_allclose(
        out["bbox"].numpy()[..., 0], 63 - corners.numpy()[..., 0]
    )


def test_generate_target_pads_instances():
    codec = dict(
        type="MSRAHeatmap", input_size=(80, 60), heatmap_size=(20, 15), sigma=1
    )
    t = keraspose.build(
        dict(type="GenerateTarget", encoder=codec, max_instances=4)
    )
    for n in (0, 2, 6):
        s = _sample(n=n)
        out = t(s)
        assert out["keypoint_weights"].shape == (4, K)
        assert out["heatmaps"].shape == (15, 20, K)
        m = min(n, 4)
        assert np.all(out["keypoint_weights"].numpy()[m:] == 0)
        if m:
            np.testing.assert_array_equal(
                out["keypoint_weights"].numpy()[:m],
                s["keypoints_visible"].numpy()[:m],
            )


def test_heatmap_mask_lists_target_and_masks_polygon():
    s = _sample()
    s[TARGET_KEYS] = ("heatmaps",)
    s["heatmaps"] = tf.zeros([30, 40, K])
    out = keraspose.build(dict(type="BottomupGetHeatmapMask"))(s)
    assert out[TARGET_KEYS] == ("heatmaps", "heatmap_mask")
    mask = out["heatmap_mask"].numpy()
    assert mask.shape == (30, 40) and mask.dtype == np.float32
    assert mask[8, 12] == 0 and mask[2, 2] == 1  # triangle, half size


def test_rasterize_polygons_union_and_empty():
    polys = tf.ragged.constant(
        [
            [[1.0, 1.0], [5.0, 1.0], [5.0, 5.0], [1.0, 5.0]],
            [[4.0, 4.0], [7.0, 4.0], [7.0, 7.0]],
        ],
        ragged_rank=1,
    )
    m = rasterize_polygons(polys, [8, 8]).numpy()
    expected = np.zeros((8, 8), bool)
    expected[1:5, 1:5] = True  # square: centres inside (1, 5)
    expected[4, 5] = expected[4, 6] = expected[5, 6] = True  # triangle
    np.testing.assert_array_equal(m, expected)
    empty = tf.RaggedTensor.from_row_lengths(tf.zeros([0, 2]), [])
    assert not rasterize_polygons(empty, [4, 5]).numpy().any()


@pytest.fixture(scope="module")
def fx():
    return dict(np.load(FIXTURES / "mmpose_bottomup_pipeline.npz"))


def test_rasterizer_matches_coco(fx):
    for c in range(4):
        poly = fx[f"mask_polys_{c}"]
        ours = rasterize_polygons(
            tf.constant(poly[None]), fx[f"mask_shape_{c}"]
        )
        ref = fx[f"mask_{c}"]
        # COCO snaps vertices to a 1/5-pixel grid: a few edge pixels differ
        assert np.sum(ours.numpy() != ref) <= 0.03 * ref.sum() + 2, c


AFFINE_MODES = ["affine", "affine", "affine_udp"]


def _coco_records(shared_data):
    ds = keraspose.build(
        dict(
            type="CocoDataset",
            data_root=str(shared_data / "coco"),
            ann_file="test_coco.json",
            data_mode="bottomup",
        )
    )
    source = ds.source_records()
    return [{**r, **ds.metainfo_tensors()} for r in source.take(len(ds))]


def test_random_affine_flip_mask_match_mmpose(fx, shared_data, monkeypatch):
    records = _coco_records(shared_data)
    load = keraspose.build(dict(type="LoadImage"))
    mask_t = keraspose.build(dict(type="BottomupGetHeatmapMask"))
    for j, mode in enumerate(AFFINE_MODES):
        ox, oy, sc, rot, flip = fx["affine_params"][j]
        t = keraspose.build(
            dict(
                type="BottomupRandomAffine",
                input_size=(256, 256),
                transform_mode=mode,
            )
        )
        fixed = (tf.constant([ox, oy]), tf.constant(sc), tf.constant(rot))
        monkeypatch.setattr(
            t, "get_transform_params", lambda seed, fixed=fixed: fixed
        )
        for i, rec in enumerate(records):
            p = f"affine_{i}_{j}"
            r = t(load(dict(rec)), tf.constant([0, 0], tf.int64))
            np.testing.assert_allclose(
                r["warp_mat"], fx[f"{p}_warp_mat"], rtol=1e-5, atol=1e-4
            )
            np.testing.assert_allclose(
                r["keypoints"], fx[f"{p}_keypoints"], rtol=1e-5, atol=1e-3
            )
            np.testing.assert_allclose(
                r["bbox"], fx[f"{p}_bbox"], rtol=1e-5, atol=1e-3
            )
            np.testing.assert_allclose(r["area"], fx[f"{p}_area"], rtol=1e-4)
            img = r["img"].numpy()[4::8, 4::8].astype(np.float32)
            assert np.abs(img - fx[f"{p}_img"]).mean() < 1.5, p
            if flip:
                r = flip_sample(r, "horizontal")
                r["flip"] = tf.constant(True)
                r["flip_direction"] = tf.constant("horizontal")
            np.testing.assert_allclose(
                r["keypoints"], fx[f"{p}_flip_keypoints"], rtol=1e-5, atol=1e-3
            )
            np.testing.assert_array_equal(
                r["keypoints_visible"], fx[f"{p}_flip_keypoints_visible"]
            )
            r["heatmaps"] = tf.zeros([64, 64, 17])
            mask = mask_t(r)["heatmap_mask"].numpy() > 0.5
            ref = fx[f"{p}_heatmap_mask"]
            assert np.mean(mask != ref) < 0.005, (p, np.sum(mask != ref))


RESIZE_CASES = [
    ((512, 512), 32, "expand", False),
    ((512, 512), 64, "expand", False),
    ((256, 256), 32, "fit", False),
    ((512, 512), 32, "expand", True),
]


def test_resize_matches_mmpose(fx, shared_data):
    records = _coco_records(shared_data)
    load = keraspose.build(dict(type="LoadImage"))
    for m, (size, factor, mode, udp) in enumerate(RESIZE_CASES):
        t = keraspose.build(
            dict(
                type="BottomupResize",
                input_size=size,
                size_factor=factor,
                resize_mode=mode,
                use_udp=udp,
            )
        )
        for i, rec in enumerate(records):
            p = f"resize_{i}_{m}"
            r = t(load(dict(rec)))
            np.testing.assert_allclose(
                r["input_center"], fx[f"{p}_input_center"], rtol=1e-6
            )
            np.testing.assert_allclose(
                r["input_scale"], fx[f"{p}_input_scale"], rtol=1e-6
            )
            np.testing.assert_array_equal(
                r["input_size"], fx[f"{p}_input_size"]
            )
            np.testing.assert_array_equal(r["img_shape"], fx[f"{p}_img_shape"])
            assert tuple(r["img"].shape[:2]) == tuple(fx[f"{p}_img_shape"])
            img = r["img"].numpy()[8::16, 8::16].astype(np.float32)
            assert np.abs(img - fx[f"{p}_img"]).mean() < 1.5, p
