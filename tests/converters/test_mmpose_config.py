import json
import os
import textwrap

import numpy as np
import pytest

from keraspose.apis import load_config
from keraspose.converters import check_supported
from keraspose.converters import find_unsupported
from keraspose.converters import load_mmpose_config
from keraspose.converters import load_mmpose_dataset_info
from keraspose.datasets import load_metainfo
from keraspose.datasets import parse_pose_metainfo
from keraspose.datasets.metainfo import _builtin_path
from keraspose.utils.config import BUNDLED_CONFIG_DIR
from keraspose.utils.config import Config


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


def coco_dataset_info_py():
    """An MMPose-style ``dataset_info`` file holding COCO's metainfo,
    written as Python from keraspose's coco.json."""
    info = json.loads(_builtin_path("coco").read_text())
    kpts = ",\n".join(
        f"    {int(k)}: dict(name={v['name']!r}, id={v['id']}, "
        f"color={v['color']}, type={v['type']!r}, swap={v['swap']!r})"
        for k, v in info["keypoint_info"].items()
    )
    links = ",\n".join(
        f"    {int(k)}: dict(link={tuple(v['link'])!r}, id={v['id']}, "
        f"color={v['color']})"
        for k, v in info["skeleton_info"].items()
    )
    return (
        "dataset_info = dict(\n"
        f"  dataset_name={info['dataset_name']!r},\n"
        f"  keypoint_info={{\n{kpts}}},\n"
        f"  skeleton_info={{\n{links}}},\n"
        f"  joint_weights={info['joint_weights']},\n"
        f"  sigmas={info['sigmas']})\n"
    )


def assert_metainfo_equal(a, b):
    assert a.keys() == b.keys()
    for key in a:
        if isinstance(a[key], np.ndarray):
            np.testing.assert_array_equal(a[key], b[key])
        else:
            assert a[key] == b[key], key


def test_base_chain_with_relative_paths_and_base_references(tmp_path):
    root = tmp_path / "configs"
    write(
        root / "_base_" / "default_runtime.py",
        """
        default_scope = 'mmpose'
        default_hooks = dict(checkpoint=dict(type='CheckpointHook',
                                             interval=10))
        """,
    )
    write(
        root / "body" / "coco" / "parent.py",
        """
        _base_ = ['../../_base_/default_runtime.py']
        input_size = (192, 256)
        codec = dict(type='MSRAHeatmap', input_size=input_size,
                     heatmap_size=(48, 64), sigma=2)
        model = dict(type='TopdownPoseEstimator',
                     backbone=dict(type='ResNet', depth=50),
                     head=dict(type='HeatmapHead', in_channels=2048,
                               out_channels=17, decoder=codec))
        """,
    )
    child = write(
        root / "body" / "coco" / "child.py",
        """
        _base_ = './parent.py'
        model = dict(backbone=dict(depth=18),
                     head=dict(in_channels=512, decoder={{_base_.codec}}))
        size = {{ _base_.input_size }}
        codec = dict(_delete_=True, **_base_.codec, sigma_x2=4)
        work_dir = '{{ fileDirname }}/{{ fileBasenameNoExtension }}'
        """,
    )
    cfg = load_mmpose_config(child)
    assert cfg.default_hooks.checkpoint.interval == 10
    assert cfg.model.backbone == dict(type="ResNet", depth=18)
    assert cfg.model.head.in_channels == 512
    assert cfg.model.head.decoder.heatmap_size == (48, 64)
    assert cfg.size == (192, 256)
    assert cfg.codec.sigma_x2 == 4 and cfg.codec.sigma == 2
    assert cfg.work_dir == f"{child.parent}/child"
    assert cfg.filename == str(child)
    # The same reader serves Config.fromfile and the runner's load_config.
    assert Config.fromfile(child) == {
        k: v for k, v in cfg.items() if k != "filename"
    }
    assert (
        load_config(child, {"model.backbone.depth": 34}).model.backbone["depth"]
        == 34
    )


def test_missing_base_falls_back_to_bundled(tmp_path):
    # A single downloaded zoo config: its bases are not next to it.
    path = write(
        tmp_path / "td-hm_hrnet-w48_8xb32-210e_coco-256x192.py",
        """
        _base_ = ['./td-hm_hrnet-w32_8xb64-210e_coco-256x192.py']
        model = dict(head=dict(in_channels=48))
        """,
    )
    with pytest.warns(UserWarning, match="bundled"):
        cfg = load_mmpose_config(path)
    bundled = Config.fromfile(
        os.path.join(
            BUNDLED_CONFIG_DIR,
            "body_2d_keypoint/topdown_heatmap/coco/"
            "td-hm_hrnet-w32_8xb64-210e_coco-256x192.py",
        )
    )
    assert cfg.model.head.in_channels == 48
    assert cfg.model.backbone == bundled.model.backbone
    assert cfg.default_scope == "mmpose"  # the bundled default_runtime
    # MMEngine's cross-package form resolves to the bundled configs too.
    other = write(
        tmp_path / "scoped.py",
        "_base_ = ['mmpose::_base_/default_runtime.py']\nx = 1\n",
    )
    assert Config.fromfile(other).default_scope == "mmpose"


def test_missing_base_error_names_config_base_and_places(tmp_path):
    path = write(
        tmp_path / "configs" / "body" / "x.py",
        "_base_ = ['../_base_/my_schedule_nowhere.py']\n",
    )
    with pytest.raises(FileNotFoundError) as info:
        load_mmpose_config(path)
    message = str(info.value)
    assert str(path) in message
    assert "'../_base_/my_schedule_nowhere.py'" in message
    assert str(tmp_path / "configs" / "_base_" / "my_schedule_nowhere.py") in (
        message
    )
    assert os.path.join(BUNDLED_CONFIG_DIR, "_base_") in message
    scoped = write(tmp_path / "s.py", "_base_ = 'mmdet::yolox/x.py'\n")
    with pytest.raises(ValueError, match="only 'mmpose::'"):
        load_mmpose_config(scoped)
    bad = write(tmp_path / "b.py", "_base_ = './b.py'\ny = {{_base_.nope}}\n")
    with pytest.raises(ValueError, match="cycle"):
        load_mmpose_config(bad)
    write(tmp_path / "base.py", "a = dict(b=1)\n")
    bad = write(tmp_path / "c.py", "_base_ = './base.py'\ny = {{_base_.a.c}}\n")
    with pytest.raises(ValueError, match=r"names 'c'.*_base_\.a"):
        load_mmpose_config(bad)


def test_dataset_info_file_gives_coco_metainfo(tmp_path):
    root = tmp_path / "configs"
    info_file = write(
        root / "_base_" / "datasets" / "coco.py", coco_dataset_info_py()
    )
    coco = load_metainfo("coco")
    raw = load_mmpose_dataset_info(info_file)
    assert raw["dataset_name"] == "coco" and 16 in raw["keypoint_info"]
    assert_metainfo_equal(parse_pose_metainfo(raw), coco)
    assert_metainfo_equal(load_metainfo(str(info_file)), coco)
    assert coco["flip_indices"][:5] == [0, 2, 1, 4, 3]
    # Old-style (MMPose 0.x) configs inherit a dataset_info base; when it
    # is missing, keraspose's built-in one is used.
    cfg_file = write(
        tmp_path / "solo" / "x.py",
        "_base_ = ['../../_base_/datasets/coco.py']\nk = 17\n",
    )
    with pytest.warns(UserWarning, match="built-in 'coco'"):
        cfg = load_mmpose_config(cfg_file)
    assert_metainfo_equal(parse_pose_metainfo(cfg.dataset_info), coco)


def test_metainfo_from_file_is_resolved_in_the_config_tree(tmp_path):
    root = tmp_path / "mmpose" / "configs"
    write(
        root / "_base_" / "datasets" / "mycoco.py",
        coco_dataset_info_py().replace("'coco'", "'mycoco'"),
    )
    path = write(
        root / "body" / "coco" / "x.py",
        """
        dataset = dict(type='CocoDataset', metainfo=dict(
            from_file='configs/_base_/datasets/mycoco.py'))
        val_dataloader = dict(dataset=dict(
            metainfo=dict(from_file='configs/_base_/datasets/coco.py')))
        custom_imports = dict(imports=['my.module'])
        """,
    )
    with pytest.warns(UserWarning, match="custom_imports"):
        cfg = load_mmpose_config(path)
    assert "custom_imports" not in cfg
    found = cfg.dataset.metainfo.from_file
    assert found == str(root / "_base_" / "datasets" / "mycoco.py")
    assert load_metainfo(cfg.dataset.metainfo)["dataset_name"] == "mycoco"
    # Not in the tree: left to load_metainfo's built-in fallback.
    val = cfg.val_dataloader.dataset.metainfo
    assert val.from_file == "configs/_base_/datasets/coco.py"
    assert load_metainfo(val)["num_keypoints"] == 17


def test_unsupported_types_are_listed_with_their_paths(tmp_path):
    path = write(
        tmp_path / "swin.py",
        """
        model = dict(
            type='TopdownPoseEstimator',
            backbone=dict(type='SwinTransformer', embed_dims=96),
            neck=[dict(type='FPN'), dict(type='mmdet.MyNeck')],
            head=dict(type='HeatmapHead',
                      loss=dict(type='KeypointMSELoss'),
                      decoder=dict(type='MSRAHeatmapX')))
        default_hooks = dict(timer=dict(type='IterTimerHook'))
        """,
    )
    cfg = load_mmpose_config(path)  # reading never fails on types
    assert find_unsupported(cfg) == [
        ("model.backbone.type", "SwinTransformer"),
        ("model.neck.1.type", "mmdet.MyNeck"),
        ("model.head.decoder.type", "MSRAHeatmapX"),
    ]
    assert ("default_hooks.timer.type", "IterTimerHook") in (
        find_unsupported(cfg, sections=None)
    )
    with pytest.raises(ValueError) as info:
        check_supported(cfg)
    assert "model.backbone.type='SwinTransformer'" in str(info.value)
    assert "model.head.decoder.type='MSRAHeatmapX'" in str(info.value)
    assert str(path) in str(info.value)
    check_supported(dict(model=dict(type="TopdownPoseEstimator")))


def test_new_style_config_is_detected(tmp_path):
    path = write(
        tmp_path / "configs" / "body" / "new_style.py",
        """
        from mmengine.config import read_base

        with read_base():
            from .._base_.default_runtime import *  # noqa

        from mmpose.models import ResNet
        model = dict(type=ResNet, depth=50)
        """,
    )
    with pytest.raises(ValueError, match="new-style") as info:
        load_mmpose_config(path)
    assert str(path) in str(info.value)
    with pytest.raises(ValueError, match="new-style"):
        Config.fromfile(path)


def test_environment_variables_and_deprecation(tmp_path, monkeypatch):
    path = write(
        tmp_path / "env.py",
        """
        data_root = '{{$KERASPOSE_TEST_ROOT:/data/coco}}/'
        n = {{'$KERASPOSE_TEST_N:3'}}
        _deprecation_ = dict(expected='other.py')
        """,
    )
    monkeypatch.delenv("KERASPOSE_TEST_ROOT", raising=False)
    monkeypatch.setenv("KERASPOSE_TEST_N", "5")
    with pytest.warns(DeprecationWarning, match="other.py"):
        cfg = load_mmpose_config(path)
    assert cfg.data_root == "/data/coco/" and cfg.n == 5
    assert "_deprecation_" not in cfg
