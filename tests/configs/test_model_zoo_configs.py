"""The shipped MMPose model-zoo configs build with MMPose's parameter counts.

The numbers are ``sum(p.numel() for p in model.parameters() if
p.requires_grad)`` of the real MMPose 1.3.2 models built from the same
configs (see tools/make_mmpose_*_fixtures.py; counted in the reference
environment). DSNT: MMPose registers the soft-argmax grids
``linspace_x``/``linspace_y`` (64 + 64 values) as frozen ``nn.Parameter``s,
so ``model.parameters()`` counts 33,999,825 while 33,999,697 are trainable;
keraspose keeps those grids as constants.
"""

import keras
import numpy as np
import pytest

from keraspose.apis import load_config
from keraspose.apis.demo import config_path
from keraspose.apis.runner import build_model

BODY = "body_2d_keypoint/"
ZOO = {
    "rtmpose/coco/rtmpose-t_8xb256-420e_coco-256x192.py": 3_337_007,
    "rtmpose/coco/rtmpose-s_8xb256-420e_coco-256x192.py": 5_473_251,
    "rtmpose/coco/rtmpose-m_8xb256-420e_coco-256x192.py": 13_587_611,
    "rtmpose/coco/rtmpose-l_8xb256-420e_coco-256x192.py": 27_660_339,
    "simcc/coco/simcc_res50_8xb64-210e_coco-256x192.py": 36_753_105,
    "topdown_regression/coco/td-reg_res50_8xb64-210e_coco-256x192.py": (
        23_577_698
    ),
    "topdown_regression/coco/td-reg_res50_rle-8xb64-210e_coco-256x192.py": (
        23_701_148
    ),
    "integral_regression/coco/ipr_res50_dsnt-8xb64-210e_coco-256x256.py": (
        33_999_697
    ),
    "topdown_heatmap/coco/td-hm_res50_8xb64-210e_coco-256x192.py": 33_999_697,
    "topdown_heatmap/coco/td-hm_mobilenetv2_8xb64-210e_coco-256x192.py": (
        9_569_809
    ),
    "topdown_heatmap/coco/td-hm_litehrnet-18_8xb64-210e_coco-256x192.py": (
        1_130_769
    ),
    "topdown_heatmap/coco/td-hm_litehrnet-30_8xb32-210e_coco-384x288.py": (
        1_763_717
    ),
    "topdown_heatmap/coco/td-hm_hrnet-w32_8xb64-210e_coco-256x192.py": (
        28_536_113
    ),
    "topdown_heatmap/coco/td-hm_hrnet-w32_8xb64-210e_coco-384x288.py": (
        28_536_113
    ),
    "topdown_heatmap/coco/td-hm_hrnet-w48_8xb32-210e_coco-256x192.py": (
        63_595_745
    ),
    "topdown_heatmap/coco/td-hm_hrnet-w48_8xb32-210e_coco-384x288.py": (
        63_595_745
    ),
    "topdown_heatmap/coco/td-hm_hrnet-w32_udp-8xb64-210e_coco-256x192.py": (
        28_536_113
    ),
    "topdown_heatmap/coco/td-hm_hrnet-w32_dark-8xb64-210e_coco-256x192.py": (
        28_536_113
    ),
    "topdown_heatmap/coco/td-hm_ViTPose-small_8xb64-210e_coco-256x192.py": (
        24_290_193
    ),
    "topdown_heatmap/coco/"
    "td-hm_ViTPose-small-simple_8xb64-210e_coco-256x192.py": 21_722_129,
    "topdown_heatmap/coco/td-hm_ViTPose-base_8xb64-210e_coco-256x192.py": (
        89_993_745
    ),
    "topdown_heatmap/coco/"
    "td-hm_ViTPose-base-simple_8xb64-210e_coco-256x192.py": 85_911_569,
    # bottom-up; DEKR counts its RescoreNet (85,249 / 81,409), trainable in
    # MMPose
    "associative_embedding/coco/ae_hrnet-w32_8xb24-300e_coco-512x512.py": (
        28_536_674
    ),
    "dekr/coco/dekr_hrnet-w32_8xb10-140e_coco-512x512.py": 29_646_431,
    "dekr/crowdpose/dekr_hrnet-w32_8xb10-300e_crowdpose-512x512.py": (
        29_603_480
    ),
}


def _count(weights):
    return int(sum(np.prod(w.shape) for w in weights))


@pytest.mark.heavy
@pytest.mark.parametrize("name", sorted(ZOO))
def test_config_builds_with_mmpose_parameter_count(name):
    cfg = load_config(config_path(BODY + name))
    model = build_model(cfg)
    w, h = cfg.codec["input_size"]
    model.build((None, h, w, 3))
    assert _count(model.trainable_weights) == ZOO[name]
    # every config's codec is the head's decoder, with MMPose's input size
    assert tuple(model.head.decoder.input_size) == (w, h)
    keras.utils.clear_session()
