import numpy as np
import pytest

import keraspose
from tests.helpers import run_layer_test
from tests.helpers import to_numpy
from tests.mmpose_weights import load_state_dict

TINY = dict(type="ResNet", depth=18, stem_channels=4, base_channels=4)


def test_resnet_component(tmp_path):
    x = np.random.default_rng(0).normal(size=(2, 64, 48, 3)).astype("float32")
    run_layer_test(
        dict(TINY, out_indices=(0, 3)),
        x,
        tmp_path,
        ((2, 16, 12, 4), (2, 2, 2, 32)),
    )


def test_resnet_v1d_component(tmp_path):
    x = np.random.default_rng(0).normal(size=(1, 32, 32, 3)).astype("float32")
    net = run_layer_test(
        dict(type="ResNetV1d", depth=50, stem_channels=8, base_channels=2),
        x,
        tmp_path,
        (1, 1, 1, 64),  # a one-output functional model unwraps the tuple
        precision=False,
    )
    assert net.deep_stem and net.avg_down


def test_residual_block_component(tmp_path):
    x = np.random.default_rng(0).normal(size=(2, 8, 8, 4)).astype("float32")
    run_layer_test(
        dict(
            type="ResidualBlock",
            out_channels=16,
            expansion=4,
            stride=2,
            bottleneck=True,
            downsample=True,
            style="caffe",
        ),
        x,
        tmp_path,
        (2, 4, 4, 16),
    )


@pytest.mark.parametrize(
    "depth,params",
    # torchvision ResNet parameter counts without the fc layer
    [(18, 11_176_512), (34, 21_284_672), (50, 23_508_032), (101, 42_500_160)],
)
def test_resnet_parameter_counts(depth, params):
    net = keraspose.build(dict(type="ResNet", depth=depth))
    net.build((None, 64, 64, 3))
    net(np.zeros((1, 64, 64, 3), "float32"))
    assert sum(int(np.prod(w.shape)) for w in net.trainable_weights) == params


def test_resnet_matches_mmpose_forward(mmpose_fixture):
    f = mmpose_fixture
    net = keraspose.build(
        dict(type="ResNet", depth=18, stem_channels=4, base_channels=2)
    )
    images = f["net_images"].transpose(0, 2, 3, 1)
    net(images)
    state = {k[2:]: v for k, v in f.items() if k.startswith("w:")}
    used = load_state_dict(net, state, "backbone.")
    assert used == {k for k in state if k.startswith("backbone.")}
    feat = to_numpy(net(images, training=False)[-1])
    ref = f["net_feat"].transpose(0, 2, 3, 1)
    np.testing.assert_allclose(
        feat, ref, atol=1e-6 * np.abs(ref).max(), rtol=1e-4
    )


def test_frozen_stages_and_norm_eval():
    net = keraspose.build(dict(TINY, frozen_stages=1, norm_eval=True))
    net(np.zeros((1, 32, 32, 3), "float32"))
    frozen = {w.path for w in net.non_trainable_weights}
    assert any("conv1/kernel" in p and "layer" not in p for p in frozen)
    assert any(p.startswith("resnet") or "layer1_0" in p for p in frozen)
    assert not any("layer2_0/conv1/kernel" in p for p in frozen)
    # norm_eval: training=True does not change the BN moving statistics
    before = [to_numpy(w) for w in net.non_trainable_weights]
    net(np.random.default_rng(0).normal(size=(2, 32, 32, 3)), training=True)
    after = [to_numpy(w) for w in net.non_trainable_weights]
    for a, b in zip(before, after):
        np.testing.assert_array_equal(a, b)


def test_resnet_bad_arguments():
    with pytest.raises(ValueError, match="depth in"):
        keraspose.build(dict(type="ResNet", depth=20))
    with pytest.raises(ValueError, match="out_indices"):
        keraspose.build(dict(TINY, out_indices=(4,)))
    with pytest.raises(ValueError, match="norm_cfg"):
        keraspose.build(dict(TINY, norm_cfg=dict(type="GN")))
