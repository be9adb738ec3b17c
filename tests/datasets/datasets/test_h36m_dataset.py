"""Human3.6M lifting dataset against MMPose 1.3.2 (fixtures) and data."""

import pickle

import numpy as np
import pytest

import keraspose
from keraspose.datasets.datasets.base_mocap_dataset import BaseMocapDataset
from keraspose.datasets.datasets.base_mocap_dataset import load_data_pickle
from keraspose.datasets.datasets.body3d.h36m_dataset import Human36mDataset
from tests.conftest import FIXTURES

CASES = {
    "single": dict(seq_len=1, causal=True),
    "pad_mid": dict(seq_len=5, seq_step=2, causal=False, pad_video_seq=True),
    "pad_causal": dict(seq_len=4, causal=True, pad_video_seq=True),
    "nopad": dict(seq_len=3, seq_step=1, causal=False),
    "nopad_step": dict(seq_len=2, seq_step=2, causal=True),
    "multi": dict(seq_len=1, multiple_target=3, multiple_target_step=2),
    "det": dict(
        seq_len=3,
        causal=False,
        pad_video_seq=True,
        keypoint_2d_src="detection",
        keypoint_2d_det_file="det.npy",
        factor_file="factor.npy",
    ),
    "subset": dict(seq_len=1, subset_frac=0.5),
}


@pytest.fixture(scope="module")
def fixture():
    return dict(np.load(FIXTURES / "mmpose_h36m.npz"))


@pytest.fixture
def h36m_root(fixture, tmp_path_factory, shared_data):
    """The fixture's synthetic annotation written back to files."""
    root = tmp_path_factory.mktemp("h36m")
    ann = {k[4:]: v for k, v in fixture.items() if k.startswith("ann_")}
    np.savez(
        root / "ann.npz",
        **{k: ann[k] for k in ("imgname", "S", "part", "center", "scale")},
    )
    np.save(root / "det.npy", ann["det"])
    np.save(root / "factor.npy", ann["factor"])
    (root / "cameras.pkl").write_bytes(
        (shared_data / "h36m" / "cameras.pkl").read_bytes()
    )
    return root


def build(root, pipeline=(), **cfg):
    np.random.seed(0)  # MMPose's subset_frac draws from NumPy's global RNG
    cfg = {"ann_file": "ann.npz", "camera_param_file": "cameras.pkl", **cfg}
    return Human36mDataset(data_root=str(root), pipeline=list(pipeline), **cfg)


@pytest.mark.parametrize("case", sorted(CASES))
def test_dataset_equals_mmpose(case, fixture, h36m_root):
    ds = build(h36m_root, **CASES[case])
    np.testing.assert_array_equal(
        ds.get_sequence_indices(), fixture[f"{case}/seq"]
    )
    assert len(ds) == len(fixture[f"{case}/id"])
    infos = [ds[i] for i in range(len(ds))]
    for key in (
        "keypoints",
        "keypoints_visible",
        "lifting_target",
        "lifting_target_visible",
        "center",
        "scale",
        "id",
        "img_ids",
        "factor",
        "target_img_path",
    ):
        got = np.stack([np.asarray(d[key]) for d in infos])
        np.testing.assert_array_equal(got, fixture[f"{case}/{key}"], key)
    got = np.stack([d["camera_param"]["c"] for d in infos])
    np.testing.assert_array_equal(got, fixture[f"{case}/camera_c"])


@pytest.mark.parametrize("case", ["pad_mid", "multi", "det"])
def test_tf_records_equal_host_records(case, h36m_root):
    ds = build(h36m_root, **CASES[case])
    batch = next(iter(ds.to_tf_dataset(batch_size=len(ds), shuffle=False)))
    t = ds.num_frames
    assert batch["keypoints"].shape == (len(ds), t, 17, 2)
    for i in range(len(ds)):
        info = ds[i]
        for key in (
            "keypoints",
            "keypoints_visible",
            "keypoints_3d",
            "lifting_target",
            "lifting_target_visible",
            "center",
            "scale",
            "id",
            "img_ids",
            "factor",
        ):
            np.testing.assert_array_equal(
                batch[key][i].numpy(),
                np.asarray(info[key], np.float32)
                if batch[key].dtype.is_floating
                else np.asarray(info[key]),
                key,
            )
        assert [p.decode() for p in batch["target_img_path"][i].numpy()] == (
            list(info["target_img_path"])
        )
        for key in ("R", "T", "c", "f", "k", "p", "w", "h"):
            np.testing.assert_allclose(
                batch["camera_param"][key][i].numpy(),
                np.asarray(info["camera_param"][key], np.float32),
            )
    np.testing.assert_array_equal(
        batch["flip_indices"][0].numpy(), ds.metainfo["flip_indices"]
    )


def test_shared_data_pipeline(shared_data):
    root = shared_data / "h36m"
    ds = Human36mDataset(
        ann_file="test_h36m_body3d.npz",
        data_root=str(root),
        seq_len=27,
        causal=False,
        pad_video_seq=True,
        camera_param_file="cameras.pkl",
        keypoint_2d_src="detection",
        keypoint_2d_det_file="test_h36m_2d_detection.npy",
    )
    assert len(ds) == 4  # four one-frame videos, padded to 27 frames
    info = ds[0]
    assert info["keypoints"].shape == (27, 17, 2)
    det = np.load(root / "test_h36m_2d_detection.npy")
    np.testing.assert_array_equal(info["keypoints"][5], det[0, :, :2])
    assert info["camera_param"]["w"] == 1000
    assert info["target_img_path"][0].endswith("_000001.jpg")


def test_config_round_trip(h36m_root):
    ds = build(h36m_root, **CASES["det"])
    clone = keraspose.build(keraspose.to_config(ds))
    assert type(clone) is Human36mDataset
    np.testing.assert_array_equal(
        clone.get_sequence_indices(), ds.get_sequence_indices()
    )
    assert clone.get_config() == ds.get_config()


def test_base_mocap_dataset_single_frames(h36m_root):
    ds = BaseMocapDataset(
        ann_file="ann.npz", data_root=str(h36m_root), metainfo="h36m"
    )
    np.testing.assert_array_equal(
        ds.get_sequence_indices()[:, 0], np.arange(18)
    )
    assert len(ds) == 16  # the two all-zero frames are dropped
    with pytest.raises(ValueError, match="seq_len"):
        BaseMocapDataset(
            ann_file="ann.npz",
            data_root=str(h36m_root),
            metainfo="h36m",
            seq_len=3,
        )


def test_errors(h36m_root, tmp_path):
    with pytest.raises(ValueError, match="keypoint_2d_src"):
        build(h36m_root, keypoint_2d_src="gt2")
    with pytest.raises(ValueError, match="keypoint_2d_det_file"):
        build(h36m_root, keypoint_2d_src="detection")
    with pytest.raises(ValueError, match="multiple_target"):
        build(h36m_root, seq_len=3, multiple_target=2)
    with pytest.raises(ValueError, match="subset_frac"):
        build(h36m_root, subset_frac=0)
    with pytest.raises(FileNotFoundError, match="nothere.npz"):
        build(h36m_root, ann_file="nothere.npz")
    bad = dict(np.load(h36m_root / "ann.npz"))
    bad["S"] = bad["S"][:, :16]
    np.savez(tmp_path / "ann.npz", **bad)
    with pytest.raises(ValueError, match="'S'.*received"):
        Human36mDataset(ann_file="ann.npz", data_root=str(tmp_path))
    bad = dict(np.load(h36m_root / "ann.npz"))
    bad["imgname"] = bad["imgname"].copy()
    bad["imgname"][3] = "frame3.jpg"
    np.savez(tmp_path / "ann.npz", **bad)
    with pytest.raises(ValueError, match="frame3.jpg"):
        Human36mDataset(ann_file="ann.npz", data_root=str(tmp_path))


def test_camera_pickle_is_read_without_code(tmp_path):
    path = tmp_path / "cams.pkl"
    with open(path, "wb") as f:
        pickle.dump({("S1", "1"): {"w": 4, "c": np.ones((2, 1))}}, f)
    cams = load_data_pickle(str(path))
    np.testing.assert_array_equal(cams[("S1", "1")]["c"], np.ones((2, 1)))

    class Evil:
        def __reduce__(self):
            return (print, ("pwned",))

    with open(path, "wb") as f:
        pickle.dump({"x": Evil()}, f)
    with pytest.raises(ValueError, match="builtins.print"):
        load_data_pickle(str(path))
