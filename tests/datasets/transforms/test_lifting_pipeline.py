"""Lifting pipelines (RandomFlipAroundRoot, GenerateTarget, PackPoseInputs)
on Human3.6M against MMPose 1.3.2, plus MPJPE on the packed batches."""

import ast

import keras
import numpy as np
import pytest

import keraspose
from keraspose.datasets.datasets.body3d.h36m_dataset import Human36mDataset
from keraspose.datasets.transforms import RandomFlipAroundRoot
from keraspose.datasets.transforms.random_flip_around_root import (
    flip_keypoints_custom_center,
)
from keraspose.evaluation.metrics import MPJPE
from tests.conftest import FIXTURES
from tests.helpers import run_object_test

DATASETS = {
    "single": dict(seq_len=1, causal=True),
    "pad_mid": dict(seq_len=5, seq_step=2, causal=False, pad_video_seq=True),
    "pad_causal": dict(seq_len=4, causal=True, pad_video_seq=True),
}
VIDEO_CODEC = dict(
    type="VideoPoseLifting",
    num_keypoints=17,
    zero_center=True,
    root_index=0,
    remove_root=False,
)
PACK = dict(
    type="PackPoseInputs",
    meta_keys=(
        "id",
        "category_id",
        "target_img_path",
        "flip_indices",
        "target_root",
    ),
)
FLIP = dict(
    type="RandomFlipAroundRoot",
    keypoints_flip_cfg=dict(),
    target_flip_cfg=dict(),
    flip_prob=1.0,
)
ROOT_FLIP = dict(
    type="RandomFlipAroundRoot",
    keypoints_flip_cfg=dict(center_mode="root", center_index=0),
    target_flip_cfg=dict(center_mode="root", center_index=[0, 1]),
    flip_prob=1.0,
    flip_camera=True,
)


@pytest.fixture(scope="module")
def fixture():
    return dict(np.load(FIXTURES / "mmpose_h36m.npz"))


@pytest.fixture
def h36m_root(fixture, tmp_path, shared_data):
    ann = {k[4:]: v for k, v in fixture.items() if k.startswith("ann_")}
    np.savez(
        tmp_path / "ann.npz",
        **{k: ann[k] for k in ("imgname", "S", "part", "center", "scale")},
    )
    (tmp_path / "cameras.pkl").write_bytes(
        (shared_data / "h36m" / "cameras.pkl").read_bytes()
    )
    return tmp_path


def pipelines(fixture):
    image = ast.literal_eval(str(fixture["codec_image"]))
    return {
        "video": (
            "pad_mid",
            [FLIP, dict(type="GenerateTarget", encoder=VIDEO_CODEC), PACK],
        ),
        "video_val": (
            "pad_causal",
            [dict(type="GenerateTarget", encoder=VIDEO_CODEC), PACK],
        ),
        "image": (
            "single",
            [ROOT_FLIP, dict(type="GenerateTarget", encoder=image), PACK],
        ),
        "flip_only": ("single", [ROOT_FLIP]),
    }


def dataset(root, case, pipeline=()):
    return Human36mDataset(
        ann_file="ann.npz",
        data_root=str(root),
        camera_param_file="cameras.pkl",
        pipeline=list(pipeline),
        **DATASETS[case],
    )


def one_batch(ds):
    loader = ds.to_tf_dataset(batch_size=len(ds), shuffle=False, seed=0)
    return keras.tree.map_structure(lambda t: t.numpy(), next(iter(loader)))


@pytest.mark.parametrize("name", ["video", "video_val", "image"])
def test_pipeline_equals_mmpose(name, fixture, h36m_root):
    case, pipeline = pipelines(fixture)[name]
    x, y = one_batch(dataset(h36m_root, case, pipeline))
    want = {
        k.split("/", 1)[1]: v
        for k, v in fixture.items()
        if k.startswith(f"pipe_{name}/")
    }
    n = len(want["inputs"])
    assert x["keypoints"].shape == want["inputs"].shape
    np.testing.assert_allclose(x["keypoints"], want["inputs"], atol=1e-5)
    for key in ("target_root", "lifting_target", "lifting_target_visible"):
        np.testing.assert_allclose(
            x[key].reshape(n, -1), want[key].reshape(n, -1), atol=1e-5
        )
    assert sorted(y) == [
        "lifting_target_label",
        "lifting_target_weight",
        "trajectory_weights",
    ]
    for key, value in y.items():
        np.testing.assert_allclose(
            value.reshape(n, -1), want[key].reshape(n, -1), atol=1e-5
        )
    assert x["target_img_path"].shape == (n, 1)
    assert x["flip_indices"].shape == (n, 17)


def test_flip_equals_mmpose(fixture, h36m_root):
    case, pipeline = pipelines(fixture)["flip_only"]
    out = one_batch(dataset(h36m_root, case, pipeline))
    for key in (
        "keypoints",
        "keypoints_visible",
        "lifting_target",
        "lifting_target_visible",
    ):
        want = fixture[f"pipe_flip_only/{key}"]
        np.testing.assert_allclose(out[key], want, atol=1e-5, err_msg=key)
    for key in ("c", "p"):
        want = fixture[f"pipe_flip_only/camera_{key}"]
        np.testing.assert_allclose(out["camera_param"][key], want, rtol=1e-6)


def test_mpjpe_on_packed_batches_equals_mmpose(fixture, h36m_root):
    _, pipeline = pipelines(fixture)["video"]
    x, _ = one_batch(dataset(h36m_root, "pad_mid", pipeline))
    pred = fixture["metric_pred"]
    for mode in ("mpjpe", "p-mpjpe", "n-mpjpe"):
        metric = MPJPE(mode=mode, has_action=True)
        metric.process({"keypoints": pred}, x)
        got = metric.evaluate()
        key = mode.replace("-", "_")
        keys = [str(k) for k in fixture[f"metric_{key}/keys"]]
        assert sorted(got) == keys
        np.testing.assert_allclose(
            [got[k] for k in keys], fixture[f"metric_{key}/values"], rtol=1e-5
        )


def test_flip_round_trip_and_probability():
    kpts = np.random.default_rng(0).normal(size=(3, 17, 2)).astype("float32")
    target = np.random.default_rng(1).normal(size=(1, 17, 3)).astype("f4")
    flip_indices = keraspose.datasets.load_metainfo("h36m")["flip_indices"]
    sample = {
        "keypoints": kpts,
        "keypoints_visible": np.ones((3, 17), "float32"),
        "lifting_target": target,
        "flip_indices": np.array(flip_indices, "int32"),
    }
    flip = RandomFlipAroundRoot(
        dict(center_mode="root"), dict(center_x=0.25), flip_prob=1.0
    )
    twice = flip(flip(sample, seed=[1, 2]), seed=[3, 4])
    np.testing.assert_allclose(twice["keypoints"], kpts, atol=1e-6)
    np.testing.assert_allclose(twice["lifting_target"], target, atol=1e-6)
    once = flip(sample, seed=[1, 2])
    np.testing.assert_allclose(
        once["keypoints"][:, 0, 0], kpts[:, 0, 0], atol=1e-6
    )  # the root stays in place
    never = RandomFlipAroundRoot(dict(), dict(), flip_prob=0.0)
    out = never(sample, seed=[5, 6])
    np.testing.assert_array_equal(out["keypoints"], kpts)
    np.testing.assert_array_equal(out["lifting_target_visible"], 1.0)
    flips = [
        not np.allclose(
            RandomFlipAroundRoot(dict(), dict())(sample, seed=[s, 0])[
                "keypoints"
            ],
            kpts,
        )
        for s in range(200)
    ]
    assert 70 < sum(flips) < 130


def test_flip_keypoints_custom_center_function():
    kpts = np.array([[[0.2, 1.0], [0.4, 2.0]]], np.float32)
    out, vis = flip_keypoints_custom_center(
        kpts, np.array([[1.0, 0.0]]), [1, 0], "root", center_index=1
    )
    np.testing.assert_allclose(out.numpy(), [[[0.4, 2.0], [0.6, 1.0]]])
    np.testing.assert_array_equal(vis.numpy(), [[0.0, 1.0]])


def test_flip_config_and_errors():
    cfg = dict(ROOT_FLIP, flip_prob=0.3)
    sample = {
        "keypoints": np.ones((2, 17, 2), "float32"),
        "lifting_target": np.ones((1, 17, 3), "float32"),
        "camera_param": {"c": np.ones((2, 1), "float32")},
    }
    run_object_test(cfg, lambda t: t(sample, seed=[1, 1])["keypoints"])
    with pytest.raises(ValueError, match="center_mode"):
        RandomFlipAroundRoot(dict(center_mode="mid"), dict())
    with pytest.raises(ValueError, match="flip_prob"):
        RandomFlipAroundRoot(dict(), dict(), flip_prob=2)
    with pytest.raises(TypeError, match="keypoints_flip_cfg"):
        RandomFlipAroundRoot(None, dict())
    with pytest.raises(ValueError, match="camera_param"):
        RandomFlipAroundRoot(dict(), dict(), flip_camera=True)(
            {k: sample[k] for k in ("keypoints", "lifting_target")}
        )
    with pytest.raises(ValueError, match="keypoint_labels"):
        RandomFlipAroundRoot(dict(), dict(), flip_label=True)(sample)


# MMPose 1.3.2's configs (video-pose-lift_tcn-27frm-supv and
# image-pose-lift_tcn), pipelines and datasets unchanged but for the paths.
def mmpose_config_loaders(shared_data):
    codec = dict(
        type="VideoPoseLifting",
        num_keypoints=17,
        zero_center=True,
        root_index=0,
        remove_root=False,
    )
    train_pipeline = [
        dict(
            type="RandomFlipAroundRoot",
            keypoints_flip_cfg=dict(),
            target_flip_cfg=dict(),
        ),
        dict(type="GenerateTarget", encoder=codec),
        dict(
            type="PackPoseInputs",
            meta_keys=(
                "id",
                "category_id",
                "target_img_path",
                "flip_indices",
                "target_root",
            ),
        ),
    ]
    video = dict(
        batch_size=2,
        sampler=dict(type="DefaultSampler", shuffle=True),
        dataset=dict(
            type="Human36mDataset",
            ann_file="test_h36m_body3d.npz",
            seq_len=27,
            causal=False,
            pad_video_seq=True,
            camera_param_file="cameras.pkl",
            data_root=str(shared_data / "h36m"),
            data_prefix=dict(img="images/"),
            pipeline=train_pipeline,
        ),
    )
    rng = np.random.default_rng(0)
    image_codec = dict(
        type="ImagePoseLifting",
        num_keypoints=17,
        root_index=0,
        remove_root=True,
        target_mean=rng.normal(0, 0.1, (16, 3)).tolist(),
        target_std=rng.uniform(0.1, 0.3, (16, 3)).tolist(),
        keypoints_mean=rng.uniform(400, 600, (17, 2)).tolist(),
        keypoints_std=rng.uniform(50, 120, (17, 2)).tolist(),
    )
    image_pipeline = [
        dict(type="GenerateTarget", encoder=image_codec),
        dict(
            type="PackPoseInputs",
            meta_keys=(
                "id",
                "category_id",
                "target_img_path",
                "flip_indices",
                "target_root",
                "target_root_index",
                "target_mean",
                "target_std",
            ),
        ),
    ]
    image = dict(
        batch_size=3,
        drop_last=False,
        sampler=dict(type="DefaultSampler", shuffle=False, round_up=False),
        dataset=dict(
            type="Human36mDataset",
            ann_file="test_h36m_body3d.npz",
            seq_len=1,
            causal=True,
            keypoint_2d_src="gt",
            data_root=str(shared_data / "h36m"),
            data_prefix=dict(img="images/"),
            pipeline=image_pipeline,
        ),
    )
    return video, image


def test_mmpose_config_pipelines_give_batches(shared_data):
    video, image = mmpose_config_loaders(shared_data)
    loader, ds = keraspose.datasets.build_dataloader(video, seed=0)
    x, y = next(iter(loader))
    assert len(ds) == 4
    assert x["keypoints"].shape == (2, 27, 17, 2)
    assert x["target_root"].shape == (2, 1, 3)
    assert x["lifting_target"].shape == (2, 1, 17, 3)
    assert y["lifting_target_label"].shape == (2, 1, 17, 3)
    assert y["lifting_target_weight"].shape == (2, 1, 17)
    np.testing.assert_allclose(
        y["lifting_target_label"][:, 0, 0].numpy(), 0.0, atol=1e-7
    )
    loader, _ = keraspose.datasets.build_dataloader(image, seed=0)
    batches = list(loader)
    assert [b[0]["keypoints"].shape[0] for b in batches] == [3, 1]
    x, y = batches[0]
    assert x["keypoints"].shape == (3, 1, 17, 2)
    assert x["target_mean"].shape == (3, 1, 16, 3)
    assert y["lifting_target_label"].shape == (3, 1, 16, 3)
    assert y["lifting_target_weight"].shape == (3, 1, 16)
