"""The shipped pose-lifting configs build with MMPose's parameter counts.

Counts are ``sum(p.numel() for p in model.parameters() if
p.requires_grad)`` of the real MMPose 1.3.2 models built from the same
configs (counted in the reference environment): SimpleBaseline3D
4,288,560; VideoPose3D 27 / 81 / 243 frames 8,555,571 / 12,753,971 /
16,952,371.
"""

import keras
import numpy as np
import pytest

from keraspose.apis import load_config
from keraspose.apis.demo import config_path
from keraspose.apis.runner import build_model
from keraspose.registry import build
from keraspose.registry import to_config

ZOO = {
    "image_pose_lift/h36m/image-pose-lift_tcn_8xb64-200e_h36m.py": (
        1,
        4_288_560,
    ),
    "video_pose_lift/h36m/video-pose-lift_tcn-27frm-supv_8xb128-160e_h36m.py": (
        27,
        8_555_571,
    ),
    "video_pose_lift/h36m/video-pose-lift_tcn-81frm-supv_8xb128-160e_h36m.py": (
        81,
        12_753_971,
    ),
    "video_pose_lift/h36m/"
    "video-pose-lift_tcn-243frm-supv_8xb128-160e_h36m.py": (243, 16_952_371),
}


@pytest.mark.parametrize("name", sorted(ZOO))
def test_lifting_config_builds_with_mmpose_parameter_count(name):
    frames, count = ZOO[name]
    cfg = load_config(config_path("body_3d_keypoint/" + name))
    model = build_model(cfg)
    assert model.backbone.receptive_field == frames
    assert cfg.train_dataloader.dataset.seq_len == frames
    model.build((None, frames, 17, 2))
    trainable = int(sum(np.prod(w.shape) for w in model.trainable_weights))
    assert trainable == count
    # the config's codec decodes the head's outputs
    assert to_config(model.head.decoder) == to_config(build(cfg.codec))
    keras.utils.clear_session()
