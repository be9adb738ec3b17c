import json
import os

import pytest

import keraspose
from keraspose.apis import load_config
from keraspose.apis.demo import config_path
from keraspose.utils.config import Config

SIMPLEBASELINE = (
    "body_2d_keypoint/topdown_heatmap/coco/"
    "td-hm_res50_8xb64-210e_coco-256x192.py"
)


def test_base_merge_delete_and_options(tmp_path):
    (tmp_path / "base.py").write_text(
        "model = dict(type='ResNet', depth=50, out_indices=(3,))\n"
        "train_cfg = dict(max_epochs=10, val_interval=2)\n"
        "opt = dict(type='Adam', lr=1e-3, betas=(0.9, 0.99))\n"
    )
    (tmp_path / "child.py").write_text(
        "_base_ = './base.py'\n"
        "model = dict(depth=18)\n"
        "opt = dict(_delete_=True, type='SGD', lr=0.1)\n"
        "steps = [1, 2]\n"
    )
    cfg = Config.fromfile(tmp_path / "child.py")
    assert cfg.model == dict(type="ResNet", depth=18, out_indices=(3,))
    assert cfg.opt == dict(type="SGD", lr=0.1)
    assert cfg.train_cfg.max_epochs == 10
    cfg.merge_from_dict({"train_cfg.max_epochs": 3, "steps.1": 5})
    assert cfg.train_cfg.max_epochs == 3 and cfg.steps == [1, 5]
    assert isinstance(cfg.to_dict()["model"], dict)
    assert not isinstance(cfg.to_dict()["model"], Config)


def test_json_config_and_dump_round_trip(tmp_path):
    path = tmp_path / "c.json"
    path.write_text(json.dumps(dict(model=dict(type="ResNet", depth=18))))
    cfg = Config.fromfile(path)
    cfg.dump(tmp_path / "out.py")
    assert Config.fromfile(tmp_path / "out.py") == cfg
    cfg.dump(tmp_path / "out.json")
    assert Config.fromfile(tmp_path / "out.json") == cfg


def test_config_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="missing.py"):
        Config.fromfile(tmp_path / "missing.py")
    (tmp_path / "a.py").write_text("_base_ = './b.py'\nx = 1\n")
    (tmp_path / "b.py").write_text("_base_ = './a.py'\ny = 1\n")
    with pytest.raises(ValueError, match="cycle"):
        Config.fromfile(tmp_path / "a.py")
    (tmp_path / "bad.json").write_text("[1, 2]")
    with pytest.raises(ValueError, match="JSON object"):
        Config.fromfile(tmp_path / "bad.json")
    (tmp_path / "c.yaml").write_text("x: 1")
    with pytest.raises(ValueError, match=".py or .json"):
        Config.fromfile(tmp_path / "c.yaml")
    with pytest.raises(AttributeError, match="no entry 'nope'"):
        _ = Config(dict(a=1)).nope


def test_shipped_simplebaseline_config_builds():
    cfg = load_config(config_path(SIMPLEBASELINE))
    assert cfg.train_cfg.max_epochs == 210
    assert cfg.default_hooks.checkpoint.interval == 10  # from _base_
    assert cfg.default_hooks.checkpoint.save_best == "coco/AP"
    assert cfg.param_scheduler[1].milestones == [170, 200]
    with pytest.warns(UserWarning, match="torchvision://resnet50"):
        model = keraspose.build(cfg.model.to_dict())
    assert model.head.out_channels == 17


def test_data_root_override_rewrites_derived_paths():
    cfg = load_config(
        config_path(SIMPLEBASELINE), {"data_root": "/data/my_coco"}
    )
    ds = cfg.val_dataloader.dataset
    assert ds.data_root == "/data/my_coco/"
    assert ds.bbox_file.startswith("/data/my_coco/person_detection_results")
    assert cfg.val_evaluator.ann_file == (
        "/data/my_coco/annotations/person_keypoints_val2017.json"
    )


def test_shipped_configs_load():
    root = os.path.join(os.path.dirname(keraspose.__file__), "configs")
    found = 0
    for folder, _, files in os.walk(root):
        for name in files:
            if name.endswith(".py") and "_base_" not in folder:
                cfg = load_config(os.path.join(folder, name))
                assert "model" in cfg and "train_dataloader" in cfg, name
                found += 1
    assert found >= 3
