"""Bad input: every case gets an error (or a logged, counted skip) that
names the file, the annotation id and the field."""

import json
import logging
import math
import shutil

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")

from keraspose.datasets import CocoDataset  # noqa: E402
from keraspose.datasets import MpiiDataset  # noqa: E402

IMAGE = "000000196141.jpg"


def _ann(ann_id, bbox=(50, 60, 120, 200), kpts=None, **extra):
    if kpts is None:
        kpts = [v for i in range(17) for v in (100 + i, 100 + 2 * i, 2)]
    return {
        "id": ann_id,
        "image_id": 1,
        "category_id": 1,
        "bbox": list(bbox),
        "keypoints": kpts,
        "num_keypoints": 17,
        "iscrowd": 0,
        "area": 1000.0,
        **extra,
    }


def _write(tmp_path, anns, image=IMAGE, name="ann.json"):
    data = {
        "images": [{"id": 1, "file_name": image, "width": 640, "height": 427}],
        "annotations": anns,
        "categories": [{"id": 1, "name": "person"}],
    }
    path = tmp_path / name
    path.write_text(json.dumps(data))
    return path


@pytest.fixture
def data_dir(tmp_path, shared_data):
    shutil.copy(shared_data / "coco" / IMAGE, tmp_path / IMAGE)
    return tmp_path


PIPELINE = [
    dict(type="LoadImage"),
    dict(type="GetBBoxCenterScale"),
    dict(type="TopdownAffine", input_size=(48, 64)),
    dict(type="PackPoseInputs"),
]


def test_valid_minimal_file_loads(data_dir):
    path = _write(data_dir, [_ann(7)])
    ds = CocoDataset(
        ann_file=str(path), data_root=str(data_dir), pipeline=PIPELINE
    )
    (x,) = list(ds.to_tf_dataset(batch_size=1))
    assert x["images"].shape == (1, 64, 48, 3)


def test_missing_image_file_named_at_construction(data_dir):
    path = _write(data_dir, [_ann(7), _ann(8)], image="nope.jpg")
    with pytest.raises(FileNotFoundError) as e:
        CocoDataset(ann_file=str(path), data_root=str(data_dir))
    msg = str(e.value)
    assert "nope.jpg" in msg and "img_id 1" in msg and "7, 8" in msg
    assert "file_name" in msg


def test_missing_image_file_named_at_load_time(data_dir):
    path = _write(data_dir, [_ann(7)], image="nope.jpg")
    ds = CocoDataset(
        ann_file=str(path),
        data_root=str(data_dir),
        check_files=False,
        pipeline=PIPELINE,
    )
    with pytest.raises(tf.errors.NotFoundError, match="nope.jpg"):
        list(ds.to_tf_dataset())


@pytest.mark.parametrize("corruption", ["truncated", "garbage"])
def test_corrupt_jpeg_names_file_and_annotation(data_dir, corruption):
    raw = (data_dir / IMAGE).read_bytes()
    bad = raw[: len(raw) // 2] if corruption == "truncated" else b"x" * 500
    (data_dir / "bad.jpg").write_bytes(bad)
    path = _write(data_dir, [_ann(42)], image="bad.jpg")
    ds = CocoDataset(
        ann_file=str(path), data_root=str(data_dir), pipeline=PIPELINE
    )
    with pytest.raises(tf.errors.InvalidArgumentError) as e:
        list(ds.to_tf_dataset())
    msg = str(e.value)
    assert "bad.jpg" in msg and "annotation id" in msg and "42" in msg
    assert "img_path" in msg


def test_keypoint_count_mismatch(data_dir):
    path = _write(data_dir, [_ann(5), _ann(9, kpts=[1, 2, 2] * 14)])
    with pytest.raises(ValueError) as e:
        CocoDataset(ann_file=str(path), data_root=str(data_dir))
    msg = str(e.value)
    assert str(path) in msg and "annotation id 9" in msg
    assert "'keypoints'" in msg and "expected 51" in msg and "42" in msg


@pytest.mark.parametrize("field", ["keypoints", "bbox"])
def test_nan_coordinates(data_dir, field):
    ann = _ann(11)
    ann[field][1] = math.nan
    path = _write(data_dir, [_ann(3), ann])
    with pytest.raises(ValueError) as e:
        CocoDataset(ann_file=str(path), data_root=str(data_dir))
    msg = str(e.value)
    assert "annotation id 11" in msg and f"'{field}'" in msg
    assert str(path) in msg


def test_zero_area_and_out_of_image_boxes_are_counted_skips(data_dir, caplog):
    anns = [
        _ann(1),
        _ann(2, bbox=(10, 10, 0, 50)),  # zero width
        _ann(3, bbox=(700, 500, 40, 40)),  # entirely outside the image
        _ann(4, bbox=(-50, -50, 20, 20)),  # outside, top-left
    ]
    path = _write(data_dir, anns)
    with caplog.at_level(logging.INFO, logger="keraspose"):
        ds = CocoDataset(ann_file=str(path), data_root=str(data_dir))
    assert len(ds) == 1 and ds.columns()["id"].tolist() == [1]
    assert ds.skipped == {"invalid_bbox": [2, 3, 4]}
    text = caplog.text
    assert "ann.json" in text and "skipped 3" in text and "[2, 3, 4]" in text
    assert any(r.levelno == logging.WARNING for r in caplog.records)


def test_every_instance_invalid_is_an_error(data_dir):
    path = _write(data_dir, [_ann(2, bbox=(10, 10, 0, 0))])
    with pytest.raises(ValueError, match=r"no usable instances.*ann\.json"):
        CocoDataset(ann_file=str(path), data_root=str(data_dir))


def test_empty_and_malformed_annotation_files(tmp_path):
    empty = tmp_path / "empty.json"
    empty.write_text("")
    with pytest.raises(ValueError, match="empty.json.*empty"):
        CocoDataset(ann_file=str(empty))
    broken = tmp_path / "broken.json"
    broken.write_text('{"images": [')
    with pytest.raises(ValueError, match="broken.json.*not valid JSON"):
        CocoDataset(ann_file=str(broken))
    no_anns = tmp_path / "no_anns.json"
    no_anns.write_text(
        json.dumps(
            {
                "images": [
                    {"id": 1, "file_name": "a.jpg", "width": 9, "height": 9}
                ],
                "annotations": [],
            }
        )
    )
    with pytest.raises(ValueError, match="no_anns.json.*no 'annotations'"):
        CocoDataset(ann_file=str(no_anns))
    nothing = tmp_path / "nothing.json"
    nothing.write_text("{}")
    with pytest.raises(ValueError, match="nothing.json.*no 'images'"):
        CocoDataset(ann_file=str(nothing))
    with pytest.raises(FileNotFoundError, match="missing.json"):
        CocoDataset(ann_file=str(tmp_path / "missing.json"))


def test_annotation_with_unknown_image_id(data_dir):
    ann = _ann(5)
    ann["image_id"] = 99
    path = _write(data_dir, [ann])
    with pytest.raises(ValueError, match="annotation id 5.*image_id 99"):
        CocoDataset(ann_file=str(path), data_root=str(data_dir))


def test_mpii_wrong_joint_count(tmp_path):
    path = tmp_path / "mpii.json"
    entry = {
        "image": "000001.jpg",
        "center": [100.0, 100.0],
        "scale": 1.0,
        "joints": np.zeros((15, 2)).tolist(),
        "joints_vis": [1] * 15,
    }
    path.write_text(json.dumps([entry]))
    with pytest.raises(ValueError) as e:
        MpiiDataset(ann_file=str(path), check_files=False)
    msg = str(e.value)
    assert "mpii.json" in msg and "entry 0" in msg and "'joints'" in msg
