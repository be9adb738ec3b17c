"""Dataset metainfo: built-ins match MMPose 1.3.2, loaders, validation."""

import copy
import json
import re
from pathlib import Path

import numpy as np
import pytest

from keraspose.datasets.metainfo import BUILTIN_METAINFO
from keraspose.datasets.metainfo import load_metainfo
from keraspose.datasets.metainfo import parse_pose_metainfo

NUM_KEYPOINTS = dict(
    coco=17,
    coco_wholebody=133,
    mpii=16,
    crowdpose=14,
    ap10k=17,
    onehand10k=21,
    wflw=98,
    h36m=17,
)
METAINFO_DIR = (
    Path(__file__).resolve().parents[2] / "keraspose" / "datasets" / "metainfo"
)


def raw(name="coco"):
    """The MMPose-schema dict of a built-in (JSON keys are strings)."""
    text = (METAINFO_DIR / f"{name}.json").read_text(encoding="utf-8")
    return json.loads(text)


def tiny():
    """A small valid MMPose-schema dict with int keys and tuple links."""
    return dict(
        dataset_name="tiny",
        keypoint_info={
            0: dict(name="nose", id=0, color=[1, 2, 3], type="upper", swap=""),
            1: dict(
                name="left_eye",
                id=1,
                color=[0, 255, 0],
                type="upper",
                swap="right_eye",
            ),
            2: dict(
                name="right_eye",
                id=2,
                color=[255, 0, 0],
                type="upper",
                swap="left_eye",
            ),
            3: dict(name="tail", id=3, color=[9, 9, 9], type="lower", swap=""),
        },
        skeleton_info={
            0: dict(link=("nose", "left_eye"), id=0, color=[5, 6, 7]),
            1: dict(link=("nose", "right_eye"), id=1, color=[7, 6, 5]),
        },
        joint_weights=[1.0, 1.0, 1.5, 2.0],
        sigmas=[0.1, 0.2, 0.3, 0.4],
    )


def assert_parsed_equal(a, b):
    assert a.keys() == b.keys()
    for key in a:
        if isinstance(a[key], np.ndarray):
            assert a[key].dtype == b[key].dtype
            np.testing.assert_array_equal(a[key], b[key])
        elif key == "stats_info":
            assert a[key].keys() == b[key].keys()
            for k in a[key]:
                np.testing.assert_array_equal(a[key][k], b[key][k])
        else:
            assert a[key] == b[key], key


# --------------------------------------------------------------------------
# Built-ins


def test_builtin_names_and_files():
    assert BUILTIN_METAINFO == tuple(NUM_KEYPOINTS)
    for name in BUILTIN_METAINFO:
        assert (METAINFO_DIR / f"{name}.json").is_file()


@pytest.mark.parametrize("name", BUILTIN_METAINFO)
def test_builtin_loads(name):
    meta = load_metainfo(name)
    k = NUM_KEYPOINTS[name]
    assert meta["dataset_name"] == name
    assert meta["num_keypoints"] == k
    assert len(meta["keypoint_names"]) == k
    assert meta["keypoint_id2name"] == dict(enumerate(meta["keypoint_names"]))
    assert meta["keypoint_name2id"] == {
        n: i for i, n in enumerate(meta["keypoint_names"])
    }
    assert meta["keypoint_colors"].dtype == np.uint8
    assert meta["keypoint_colors"].shape == (k, 3)
    num_links = meta["num_skeleton_links"]
    assert len(meta["skeleton_links"]) == num_links
    assert meta["skeleton_link_colors"].shape == (num_links, 3)
    assert meta["skeleton_link_colors"].dtype == np.uint8
    assert meta["dataset_keypoint_weights"].dtype == np.float32
    assert meta["dataset_keypoint_weights"].shape == (k,)
    assert meta["sigmas"].dtype == np.float32
    assert meta["sigmas"].shape in ((k,), (0,))


@pytest.mark.parametrize("name", BUILTIN_METAINFO)
def test_flip_indices_is_an_involution(name):
    meta = load_metainfo(name)
    flip = meta["flip_indices"]
    assert sorted(flip) == list(range(meta["num_keypoints"]))
    assert [flip[flip[i]] for i in range(len(flip))] == list(range(len(flip)))
    # As in MMPose, flip_pairs holds [swap_id, id] for every swapped point.
    assert meta["flip_pairs"] == [[j, i] for i, j in enumerate(flip) if i != j]


def test_coco_values_match_mmpose():
    meta = load_metainfo("coco")
    assert meta["flip_indices"] == [
        0, 2, 1, 4, 3, 6, 5, 8, 7, 10, 9, 12, 11, 14, 13, 16, 15
    ]  # fmt: skip
    assert meta["flip_pairs"][:4] == [[2, 1], [1, 2], [4, 3], [3, 4]]
    np.testing.assert_allclose(
        meta["sigmas"],
        [0.026, 0.025, 0.025, 0.035, 0.035, 0.079, 0.079, 0.072, 0.072,
         0.062, 0.062, 0.107, 0.107, 0.087, 0.087, 0.089, 0.089],
    )  # fmt: skip
    assert meta["sigmas"][0] == np.float32(0.026)
    np.testing.assert_allclose(
        meta["dataset_keypoint_weights"],
        [1.0] * 7 + [1.2, 1.2, 1.5, 1.5, 1.0, 1.0, 1.2, 1.2, 1.5, 1.5],
    )
    assert meta["keypoint_names"][:3] == ["nose", "left_eye", "right_eye"]
    assert meta["upper_body_ids"] == list(range(11))
    assert meta["lower_body_ids"] == list(range(11, 17))
    assert meta["num_skeleton_links"] == 19
    assert meta["skeleton_links"][0] == [15, 13]  # left_ankle, left_knee
    assert meta["keypoint_colors"][0].tolist() == [51, 153, 255]


def test_mpii_values_match_mmpose():
    meta = load_metainfo("mpii")
    assert meta["flip_indices"] == [
        5, 4, 3, 2, 1, 0, 6, 7, 8, 9, 15, 14, 13, 12, 11, 10
    ]  # fmt: skip
    assert meta["keypoint_names"][0] == "right_ankle"
    assert meta["sigmas"][0] == np.float32(0.089)
    assert meta["dataset_keypoint_weights"][0] == np.float32(1.5)


def test_other_builtin_values():
    wflw = load_metainfo("wflw")
    flip = wflw["flip_indices"]
    assert len(flip) == 98 and flip[0] == 32 and flip[32] == 0
    assert wflw["sigmas"].shape == (0,)
    assert wflw["num_skeleton_links"] == 0
    assert load_metainfo("coco_wholebody")["sigmas"][0] == np.float32(0.026)
    assert load_metainfo("onehand10k")["flip_indices"] == list(range(21))
    h36m = load_metainfo("h36m")
    np.testing.assert_array_equal(
        h36m["stats_info"]["bbox_center"], [528.0, 427.0]
    )
    assert h36m["stats_info"]["bbox_scale"] == np.float32(400.0)
    # AP-10K's skeleton_info repeats id 6 in MMPose itself; ids are ignored.
    assert load_metainfo("ap10k")["num_skeleton_links"] == 17


# --------------------------------------------------------------------------
# Loading paths and dicts


def test_mmpose_style_path_falls_back_to_builtin():
    meta = load_metainfo("configs/_base_/datasets/coco.py")
    assert_parsed_equal(meta, load_metainfo("coco"))
    meta = load_metainfo(dict(from_file="configs/_base_/datasets/mpii.py"))
    assert_parsed_equal(meta, load_metainfo("mpii"))


def test_parsed_dict_is_returned_unchanged():
    meta = load_metainfo("coco")
    assert load_metainfo(meta) is meta


def test_raw_dict_with_int_keys():
    meta = load_metainfo(tiny())
    assert meta["dataset_name"] == "tiny"
    assert meta["flip_indices"] == [0, 2, 1, 3]
    assert meta["flip_pairs"] == [[2, 1], [1, 2]]
    assert meta["upper_body_ids"] == [0, 1, 2]
    assert meta["lower_body_ids"] == [3]
    assert meta["skeleton_links"] == [[0, 1], [0, 2]]
    assert meta["skeleton_link_colors"].tolist() == [[5, 6, 7], [7, 6, 5]]
    assert meta["keypoint_colors"][0].tolist() == [1, 2, 3]
    np.testing.assert_allclose(meta["sigmas"], [0.1, 0.2, 0.3, 0.4])


def test_raw_builtin_dict_matches_builtin():
    assert_parsed_equal(
        load_metainfo(raw("crowdpose")), load_metainfo("crowdpose")
    )


def test_optional_fields_default():
    info = tiny()
    del info["skeleton_info"], info["joint_weights"], info["sigmas"]
    for kpt in info["keypoint_info"].values():
        del kpt["color"], kpt["type"], kpt["id"]
    info["keypoint_info"][1]["swap"] = "right_eye"
    meta = parse_pose_metainfo(info)
    assert meta["num_skeleton_links"] == 0
    assert meta["skeleton_link_colors"].shape == (0, 3)
    np.testing.assert_array_equal(meta["dataset_keypoint_weights"], 1.0)
    assert meta["sigmas"].shape == (0,)
    assert meta["keypoint_colors"].tolist() == [[255, 128, 0]] * 4
    assert meta["upper_body_ids"] == [] and meta["lower_body_ids"] == []
    info["sigmas"] = []
    assert parse_pose_metainfo(info)["sigmas"].shape == (0,)


def test_json_round_trip(tmp_path):
    path = tmp_path / "mine.json"
    path.write_text(json.dumps(raw("coco")))
    assert_parsed_equal(load_metainfo(str(path)), load_metainfo("coco"))
    assert_parsed_equal(load_metainfo(path), load_metainfo("coco"))
    meta = load_metainfo(dict(from_file=str(path)))
    assert_parsed_equal(meta, load_metainfo("coco"))


def test_py_round_trip(tmp_path):
    path = tmp_path / "tiny_info.py"
    path.write_text(f"dataset_info = {tiny()!r}\n")
    expected = parse_pose_metainfo(tiny())
    assert_parsed_equal(load_metainfo(str(path)), expected)
    assert_parsed_equal(load_metainfo(dict(from_file=str(path))), expected)
    # An existing file wins over the built-in of the same name.
    coco_py = tmp_path / "coco.py"
    coco_py.write_text(f"metainfo = {tiny()!r}\n")
    assert load_metainfo(str(coco_py))["dataset_name"] == "tiny"


def test_py_round_trip_of_builtin(tmp_path):
    info = raw("h36m")
    path = tmp_path / "h36m_copy.py"
    path.write_text(f"dataset_info = dict(**{info!r})\n")
    assert_parsed_equal(load_metainfo(path), load_metainfo("h36m"))


# --------------------------------------------------------------------------
# Loader errors


def test_unknown_name_or_missing_file():
    with pytest.raises(FileNotFoundError, match="cocoa.*Built-ins: coco"):
        load_metainfo("cocoa")
    with pytest.raises(FileNotFoundError, match="nowhere/mine.json"):
        load_metainfo("nowhere/mine.json")


def test_wrong_top_level_types(tmp_path):
    with pytest.raises(TypeError, match="got int 17"):
        load_metainfo(17)
    with pytest.raises(TypeError, match=r"Invalid metainfo in <dict>.*list"):
        parse_pose_metainfo([1, 2])
    path = tmp_path / "list.json"
    path.write_text("[1, 2]")
    with pytest.raises(TypeError, match=re.escape(str(path))):
        load_metainfo(path)
    py = tmp_path / "bad.py"
    py.write_text("dataset_info = [1, 2]\n")
    with pytest.raises(TypeError, match=re.escape(str(py)) + ".*dataset_info"):
        load_metainfo(py)
    with pytest.raises(TypeError, match="from_file"):
        load_metainfo(dict(from_file=3))


def test_py_without_dataset_info(tmp_path):
    py = tmp_path / "empty.py"
    py.write_text("x = 1\n")
    with pytest.raises(ValueError, match=re.escape(str(py)) + ".*dataset_info"):
        load_metainfo(py)


def test_bad_json_and_extension(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text("{not json")
    with pytest.raises(ValueError, match=re.escape(str(path)) + ".*not JSON"):
        load_metainfo(path)
    txt = tmp_path / "info.txt"
    txt.write_text("{}")
    with pytest.raises(ValueError, match=r"\.json or \.py"):
        load_metainfo(txt)


# --------------------------------------------------------------------------
# Validation: every message names the source and the field


def check_error(info, tmp_path, *patterns):
    """Expects ValueError from the dict and from .json / .py copies of it.

    Each message must name its source and match every pattern.
    """
    json_path = tmp_path / "bad.json"
    json_path.write_text(json.dumps(info))
    py_path = tmp_path / "bad.py"
    py_path.write_text(f"dataset_info = {info!r}\n")
    cases = [
        (lambda: parse_pose_metainfo(info), "<dict>"),
        (lambda: load_metainfo(info), "<dict>"),
        (lambda: load_metainfo(str(json_path)), str(json_path)),
        (lambda: load_metainfo(dict(from_file=str(py_path))), str(py_path)),
    ]
    for load, source in cases:
        with pytest.raises(ValueError) as err:
            load()
        message = str(err.value)
        assert message.startswith(f"Invalid metainfo in {source}: "), message
        for pattern in patterns:
            assert re.search(pattern, message), (pattern, message)


def test_missing_keypoint_info(tmp_path):
    info = tiny()
    del info["keypoint_info"]
    check_error(info, tmp_path, "missing required field 'keypoint_info'")
    info["keypoint_info"] = {}
    check_error(info, tmp_path, "keypoint_info must be a non-empty dict")


def test_ids_not_contiguous(tmp_path):
    info = tiny()
    info["keypoint_info"][5] = info["keypoint_info"].pop(3)
    info["keypoint_info"][5]["id"] = 5
    check_error(info, tmp_path, r"keypoint_info ids must be exactly 0\.\.3")


def test_non_integer_key(tmp_path):
    info = tiny()
    info["keypoint_info"]["tail"] = info["keypoint_info"].pop(3)
    check_error(info, tmp_path, "keypoint_info key 'tail' is not an integer")


def test_id_mismatch(tmp_path):
    info = tiny()
    info["keypoint_info"][2]["id"] = 7
    check_error(info, tmp_path, r"keypoint_info\[2\] \('right_eye'\) has id 7")


def test_duplicate_names(tmp_path):
    info = tiny()
    info["keypoint_info"][3]["name"] = "nose"
    check_error(
        info,
        tmp_path,
        r"keypoint_info\[3\] \('nose'\).*already used by keypoint 0",
    )


def test_swap_partner_missing(tmp_path):
    info = tiny()
    info["keypoint_info"][1]["swap"] = "right_eyes"
    check_error(
        info,
        tmp_path,
        r"keypoint_info\[1\] \('left_eye'\) swaps with 'right_eyes', "
        "which is not a keypoint name",
    )


def test_swap_not_symmetric(tmp_path):
    info = copy.deepcopy(raw("coco"))
    info["keypoint_info"]["3"]["swap"] = "right_eye"  # left_ear
    check_error(
        info,
        tmp_path,
        re.escape(
            "keypoint_info[3] ('left_ear') swaps with 'right_eye', but "
            "'right_eye' swaps with 'left_eye'. Expected a symmetric swap."
        ),
    )
    info = tiny()
    info["keypoint_info"][2]["swap"] = ""
    check_error(
        info,
        tmp_path,
        r"keypoint_info\[1\] \('left_eye'\) swaps with 'right_eye', but "
        "'right_eye' swaps with ''",
    )


@pytest.mark.parametrize("field", ["joint_weights", "sigmas"])
def test_vector_length(field, tmp_path):
    info = tiny()
    info[field] = info[field][:3]
    check_error(info, tmp_path, f"{field} has 3 values; expected one per")
    info[field] = [0.1, 0.2, "x", 0.3]
    check_error(info, tmp_path, rf"{field}\[2\] must be a finite")


def test_negative_sigma(tmp_path):
    info = tiny()
    info["sigmas"][1] = 0.0
    check_error(info, tmp_path, r"sigmas\[1\] must be a finite positive")


def test_skeleton_unknown_keypoint(tmp_path):
    info = tiny()
    info["skeleton_info"][1]["link"] = ("nose", "chin")
    check_error(
        info,
        tmp_path,
        r"skeleton_info\[.?1.?\]\.link \('nose', 'chin'\) names 'chin'",
    )
    info["skeleton_info"][1]["link"] = ("nose",)
    check_error(info, tmp_path, r"skeleton_info\[.?1.?\]\.link must be a pair")


@pytest.mark.parametrize(
    "color", [[0, 0], [0, 0, 256], [0, -1, 0], [0.5, 0, 0], "red"]
)
def test_bad_keypoint_color(color, tmp_path):
    info = tiny()
    info["keypoint_info"][2]["color"] = color
    check_error(
        info,
        tmp_path,
        r"keypoint_info\[2\] \('right_eye'\)\.color must be 3 ints in "
        r"0\.\.255, got " + re.escape(repr(color)),
    )


def test_bad_link_color(tmp_path):
    info = tiny()
    info["skeleton_info"][0]["color"] = [0, 0, 300]
    check_error(info, tmp_path, r"skeleton_info\[.?0.?\]\.color must be 3 ints")


def test_bad_type(tmp_path):
    info = tiny()
    info["keypoint_info"][0]["type"] = "head"
    check_error(
        info,
        tmp_path,
        r"keypoint_info\[0\] \('nose'\)\.type must be 'upper', 'lower' or "
        r"'', got 'head'",
    )
