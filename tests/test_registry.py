import numpy as np
import pytest

import keraspose
from keraspose.registry import get_class

MMPOSE_CONFIG = dict(
    type="TopdownPoseEstimator",
    data_preprocessor=dict(
        type="PoseDataPreprocessor",
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True,
    ),
    backbone=dict(
        type="ResNet",
        depth=50,
        init_cfg=dict(type="Pretrained", checkpoint="torchvision://resnet50"),
    ),
    head=dict(
        type="HeatmapHead",
        in_channels=2048,
        out_channels=17,
        loss=dict(type="KeypointMSELoss", use_target_weight=True),
        decoder=dict(
            type="MSRAHeatmap",
            input_size=(192, 256),
            heatmap_size=(48, 64),
            sigma=2,
        ),
    ),
    test_cfg=dict(flip_test=True, flip_mode="heatmap", shift_heatmap=True),
)


def test_mmpose_config_builds_with_mmpose_parameter_count():
    with pytest.warns(UserWarning, match="torchvision://resnet50"):
        model = keraspose.build(MMPOSE_CONFIG)
    model.build({"images": (None, 256, 192, 3)})
    trainable = sum(int(np.prod(v.shape)) for v in model.trainable_variables)
    assert trainable == 33_999_697  # torch.nn.Module.parameters() in MMPose
    # the config round-trips (init_cfg is consumed at construction)
    clone = keraspose.build(keraspose.to_config(model))
    assert keraspose.to_config(clone) == keraspose.to_config(model)


def test_unknown_type_names_close_matches():
    with pytest.raises(ValueError, match="Close matches: HeatmapHead"):
        keraspose.build(dict(type="HeatmapHaed", in_channels=1, out_channels=1))


def test_missing_type_and_bad_arguments():
    with pytest.raises(ValueError, match="`type` key"):
        keraspose.build(dict(depth=50))
    with pytest.raises(TypeError, match="Could not build ResNet"):
        keraspose.build(dict(type="ResNet", depth=18, bogus=1))


def test_scope_prefix_and_scope_key_are_accepted():
    loss = keraspose.build(
        dict(type="mmpose.KeypointMSELoss", _scope_="mmpose", loss_weight=2)
    )
    assert loss.loss_weight == 2.0
    assert get_class("mmdet.ResNet") is get_class("ResNet")


def test_built_objects_pass_through():
    loss = keraspose.build(dict(type="BCELoss"))
    assert keraspose.build(loss) is loss
    assert keraspose.build(None) is None


def test_syncbn_norm_cfg_is_accepted():
    net = keraspose.build(
        dict(
            type="ResNet",
            depth=18,
            base_channels=4,
            stem_channels=4,
            norm_cfg=dict(type="SyncBN", requires_grad=True),
        )
    )
    assert net(np.zeros((1, 32, 32, 3), "float32"))[0].shape == (1, 1, 1, 32)


def test_every_registered_class_is_importable_from_the_package():
    names = keraspose.registered_names()
    for expected in (
        "ResNet",
        "HeatmapHead",
        "VisPredictHead",
        "MSRAHeatmap",
        "KeypointMSELoss",
        "BCELoss",
        "PoseDataPreprocessor",
        "TopdownPoseEstimator",
    ):
        assert expected in names
