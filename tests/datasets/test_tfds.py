"""The TFDS builder for COCO-style keypoints and ``TfdsPoseDataset``.

The TFDS path must yield exactly what the JSON-backed datasets yield for
the same annotations and images (records, then pipeline outputs).
"""

import copy
import json
import logging
import os

import numpy as np
import pytest

pytest.importorskip("tensorflow")
pytest.importorskip(
    "tensorflow_datasets",
    reason="tensorflow_datasets is not installed (pip install "
    "'keraspose[data]')",
)

import tensorflow as tf  # noqa: E402
import tensorflow_datasets as tfds  # noqa: E402

import keraspose  # noqa: E402
from keraspose.datasets import CocoDataset  # noqa: E402
from keraspose.datasets import CrowdPoseDataset  # noqa: E402
from keraspose.datasets.tfds import CocoStyleKeypoints  # noqa: E402
from keraspose.datasets.tfds import CocoStyleKeypointsConfig  # noqa: E402
from keraspose.datasets.tfds import TfdsPoseDataset  # noqa: E402
from keraspose.datasets.tfds import build_tfds_dataset  # noqa: E402

META_KEYS = {
    "flip_indices",
    "upper_body_ids",
    "lower_body_ids",
    "dataset_keypoint_weights",
}
PIPELINE = [
    dict(type="LoadImage"),
    dict(type="GetBBoxCenterScale"),
    dict(type="TopdownAffine", input_size=(48, 64)),
    dict(
        type="GenerateTarget",
        encoder=dict(
            type="MSRAHeatmap",
            input_size=(48, 64),
            heatmap_size=(12, 16),
            sigma=2,
        ),
    ),
    dict(type="PackPoseInputs"),
]


@pytest.fixture
def coco_tfds(shared_data, tmp_path):
    builder = build_tfds_dataset(
        manual_dir=shared_data / "coco",
        splits={"train": ("test_coco.json", "")},
        num_keypoints=17,
        name="coco_sample",
        data_dir=tmp_path,
    )
    return builder, shared_data / "coco", tmp_path


def _records(dataset):
    out = {}
    for rec in dataset.to_tf_dataset(shuffle=False, seed=0):
        for key, value in rec.items():
            out.setdefault(key, []).append(value.numpy())
    return {k: np.stack(v) for k, v in out.items()}


def _assert_columns_equal(records, expected, root):
    assert set(records) == set(expected) | {"img_bytes"} | META_KEYS
    order = np.argsort(records["id"])
    ref_order = np.argsort(expected["id"])
    for key, ref in expected.items():
        got = records[key][order]
        ref = ref[ref_order]
        if key == "img_path":
            # TFDS keeps the annotation's file_name (no data root).
            ref = np.array([os.path.basename(p).encode() for p in ref])
        else:
            assert got.dtype == ref.dtype, key
        np.testing.assert_array_equal(got, ref, err_msg=key)
    for path, data in zip(records["img_path"], records["img_bytes"]):
        assert data == (root / path.decode()).read_bytes()


def test_builder_keeps_raw_values_and_image_bytes(coco_tfds):
    builder, root, _ = coco_tfds
    ann = json.loads((root / "test_coco.json").read_text())
    assert builder.info.disable_shuffling
    assert builder.info.metadata["crowd_index"] == {"train": False}
    ds = builder.as_dataset(
        split="train", decoders={"image": tfds.decode.SkipDecoding()}
    )
    examples = list(ds.as_numpy_iterator())
    assert [e["image/id"] for e in examples] == [
        img["id"] for img in ann["images"]
    ]
    by_id = {a["id"]: a for a in ann["annotations"]}
    for ex in examples:
        # The original JPEG bytes, unchanged.
        path = root / ex["image/filename"].decode()
        assert ex["image"] == path.read_bytes()
        assert ex["crowd_index"] == -1
        objs = ex["objects"]
        for i, ann_id in enumerate(objs["id"]):
            a = by_id[ann_id]
            # float64: x + w adds the JSON doubles as MMPose does.
            assert objs["bbox"][i].tolist() == a["bbox"]
            np.testing.assert_array_equal(
                objs["keypoints"][i].reshape(-1),
                np.float32(a["keypoints"]),
            )
            assert objs["area"][i] == np.float32(a["area"])
            assert objs["num_keypoints"][i] == a["num_keypoints"]


def test_records_match_coco_dataset(coco_tfds):
    builder, root, data_dir = coco_tfds
    expected = CocoDataset(ann_file="test_coco.json", data_root=str(root))
    columns = expected.columns()
    # From the builder, its TFDS name, and a tfds.load-ed tf.data.Dataset.
    loaded = tfds.load(
        "coco_style_keypoints/coco_sample",
        split="train",
        data_dir=str(data_dir),
        decoders={"image": tfds.decode.SkipDecoding()},
    )
    for source in (builder, "coco_style_keypoints/coco_sample", loaded):
        ds = TfdsPoseDataset(
            source,
            split="train",
            data_dir=str(data_dir),
            pipeline=[lambda results: results],
        )
        records = _records(ds)
        _assert_columns_equal(records, columns, root)
        # keep_order: the JSON order of CocoDataset without shuffling.
        np.testing.assert_array_equal(records["id"], columns["id"])
    cols = ds.columns()
    assert set(cols) == set(columns)
    np.testing.assert_array_equal(cols["bbox"], columns["bbox"])


def test_pipeline_outputs_match_coco_dataset(coco_tfds):
    builder, root, _ = coco_tfds
    ref = CocoDataset(
        ann_file="test_coco.json", data_root=str(root), pipeline=PIPELINE
    )
    ds = TfdsPoseDataset(builder, metainfo="coco", pipeline=PIPELINE)

    def run(dataset):
        out = list(dataset.to_tf_dataset(batch_size=4, shuffle=False, seed=0))
        return tf.nest.map_structure(
            lambda *v: np.concatenate([np.asarray(t) for t in v]), *out
        )

    (x, y), (rx, ry) = run(ds), run(ref)
    assert set(x) == set(rx) and set(y) == set(ry)
    order, ref_order = np.argsort(x["id"]), np.argsort(rx["id"])
    for got, want in ((x, rx), (y, ry)):
        for key in want:
            assert got[key].dtype == want[key].dtype, key
            np.testing.assert_array_equal(
                got[key][order], want[key][ref_order], err_msg=key
            )
    assert x["images"].shape == (len(ref), 64, 48, 3)
    assert y["heatmaps"].shape[0] == len(ref)
    # Shuffled + repeated streams run too.
    batch = next(iter(ds.to_tf_dataset(batch_size=3, seed=1, repeat=True)))
    assert batch[0]["images"].shape == (3, 64, 48, 3)


def test_crowdpose_builds_with_crowd_index(shared_data, tmp_path):
    root = shared_data / "crowdpose"
    builder = CocoStyleKeypoints(
        config=CocoStyleKeypointsConfig(
            name="crowdpose_sample",
            num_keypoints=14,
            splits={"val": ("test_crowdpose.json", "")},
        ),
        data_dir=str(tmp_path),
    )
    builder.download_and_prepare(
        download_config=tfds.download.DownloadConfig(manual_dir=str(root))
    )
    assert builder.info.metadata["crowd_index"] == {"val": True}
    expected = CrowdPoseDataset(
        ann_file="test_crowdpose.json", data_root=str(root)
    ).columns()
    ds = TfdsPoseDataset(
        "coco_style_keypoints/crowdpose_sample",
        split="val",
        data_dir=str(tmp_path),
        metainfo="crowdpose",
    )
    assert ds.with_crowd_index and ds.num_images == 2
    # No 'area' in CrowdPose: the default 0.53 * w * h is computed in graph.
    _assert_columns_equal(_records(ds), expected, root)
    with pytest.raises(ValueError, match="has 14 keypoints"):
        TfdsPoseDataset(builder, split="val", metainfo="coco")


def test_missing_fields_defaults_and_crowd(shared_data, tmp_path, caplog):
    root = shared_data / "coco"
    ann = json.loads((root / "test_coco.json").read_text())
    anns = copy.deepcopy(ann["annotations"])
    del anns[0]["bbox"]  # left out, counted
    del anns[1]["area"], anns[1]["num_keypoints"], anns[1]["iscrowd"]
    del anns[2]["category_id"]
    anns[3]["iscrowd"] = 1
    anns[4]["bbox"] = [-50.0, -50.0, 10.0, 10.0]  # zero area after clipping
    ann["annotations"] = anns
    ann["images"].append(dict(ann["images"][0], id=1))  # no annotations
    manual = tmp_path / "manual"
    manual.mkdir()
    (manual / "ann.json").write_text(json.dumps(ann))
    with caplog.at_level(logging.WARNING, logger="keraspose"):
        builder = build_tfds_dataset(
            manual, {"train": ("ann.json", str(root))}, 17, "edge", tmp_path
        )
    assert "left out 1 annotations" in caplog.text
    assert builder.info.splits["train"].num_examples == 5
    expected = CocoDataset(
        ann_file=str(manual / "ann.json"),
        data_prefix=dict(img=str(root)),
    ).columns()
    ds = TfdsPoseDataset(builder, pipeline=[])
    _assert_columns_equal(_records(ds), expected, root)


def test_config_registry_and_errors(coco_tfds):
    builder, _, data_dir = coco_tfds
    ds = TfdsPoseDataset(builder, pipeline=[dict(type="LoadImage")])
    config = ds.get_config()
    assert config["name_or_dataset"] == "coco_style_keypoints/coco_sample:1.0.0"
    assert config["data_dir"] == str(data_dir)
    rebuilt = keraspose.build(dict(type="TfdsPoseDataset", **config))
    assert rebuilt.get_config() == config
    with pytest.raises(TypeError, match="streams TFDS"):
        len(ds)
    assert ds and "coco_sample" in repr(ds)
    decoded = builder.as_dataset(split="train")
    with pytest.raises(ValueError, match="SkipDecoding"):
        TfdsPoseDataset(decoded)
    with pytest.raises(ValueError, match="no split"):
        TfdsPoseDataset(builder, split="validation")
    with pytest.raises(ValueError, match="no config"):
        TfdsPoseDataset(
            builder.as_dataset(
                split="train",
                decoders={"image": tfds.decode.SkipDecoding()},
            )
        ).get_config()
