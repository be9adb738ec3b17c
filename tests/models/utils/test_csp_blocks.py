"""Building blocks of CSPNeXt (their MMPose parity is in test_cspnext)."""

import numpy as np
import pytest

import keraspose
from tests.helpers import run_layer_test
from tests.helpers import to_numpy

BN = dict(type="BN", momentum=0.03, eps=0.001)


def _x(shape, seed=0):
    return np.random.default_rng(seed).normal(size=shape).astype("float32")


@pytest.mark.parametrize(
    "use_depthwise,use_cspnext_block", [(False, False), (True, True)]
)
def test_csp_layer(use_depthwise, use_cspnext_block, tmp_path):
    layer = run_layer_test(
        dict(
            type="CSPLayer",
            in_channels=4,
            out_channels=8,
            num_blocks=2,
            use_depthwise=use_depthwise,
            use_cspnext_block=use_cspnext_block,
            channel_attention=use_cspnext_block,
        ),
        _x((2, 7, 6, 4)),
        tmp_path,
        (2, 7, 6, 8),
        precision=use_cspnext_block,
    )
    names = [
        sub.name
        for sub in layer._flatten_layers(include_self=False, recursive=False)
    ]
    assert names[:5] == [
        "main_conv",
        "short_conv",
        "final_conv",
        "blocks_0",
        "blocks_1",
    ]
    assert ("attention" in names) == use_cspnext_block


def test_cspnext_block(tmp_path):
    block = run_layer_test(
        dict(type="CSPNeXtBlock", in_channels=4, out_channels=4, expansion=1.0),
        _x((2, 7, 6, 4)),
        tmp_path,
        (2, 7, 6, 4),
    )
    assert block.conv2.depthwise_conv.conv.kernel.shape == (5, 5, 1, 4)
    assert block.norm_cfg == BN


def test_darknet_bottleneck(tmp_path):
    run_layer_test(
        dict(
            type="DarknetBottleneck",
            in_channels=4,
            out_channels=6,
            use_depthwise=True,
        ),
        _x((2, 7, 6, 4)),
        tmp_path,
        (2, 7, 6, 6),
    )


@pytest.mark.parametrize("in_channels,out_channels", [(4, 4), (4, 6)])
def test_bottleneck_identity_only_with_equal_channels(
    in_channels, out_channels
):
    # mmdet adds the identity only when in_channels == out_channels.
    x = _x((1, 5, 5, in_channels))
    for name in ("DarknetBottleneck", "CSPNeXtBlock"):
        block = keraspose.build(
            dict(type=name, in_channels=in_channels, out_channels=out_channels)
        )
        block(x)
        plain = keraspose.build(
            dict(
                type=name,
                in_channels=in_channels,
                out_channels=out_channels,
                add_identity=False,
            )
        )
        plain(x)
        plain.set_weights(block.get_weights())
        diff = to_numpy(block(x)) - to_numpy(plain(x))
        if in_channels == out_channels:
            np.testing.assert_allclose(diff, x, atol=1e-6)
        else:
            assert not diff.any()


def test_channel_attention(tmp_path):
    x = _x((2, 5, 4, 6))
    att = run_layer_test(
        dict(type="ChannelAttention", channels=6), x, tmp_path, (2, 5, 4, 6)
    )
    kernel = to_numpy(att.fc.kernel)[0, 0]
    bias = to_numpy(att.fc.bias)
    gate = x.mean(axis=(1, 2)) @ kernel + bias
    gate = np.clip(gate + 3, 0, 6) / 6  # torch.nn.Hardsigmoid
    np.testing.assert_allclose(
        to_numpy(att(x)), x * gate[:, None, None], atol=1e-6
    )


def test_spp_bottleneck(tmp_path):
    run_layer_test(
        dict(
            type="SPPBottleneck",
            in_channels=8,
            out_channels=6,
            kernel_sizes=(3, 5),
        ),
        _x((2, 7, 6, 8)),
        tmp_path,
        (2, 7, 6, 6),
    )


def test_spp_pools_pad_with_minus_infinity():
    # Negative inputs: zero padding would put zeros at the borders.
    spp = keraspose.build(
        dict(
            type="SPPBottleneck",
            in_channels=2,
            out_channels=2,
            kernel_sizes=(3,),
            norm_cfg=None,
            act_cfg=None,
        )
    )
    x = -1.0 - np.abs(_x((1, 4, 4, 2)))
    spp(x)
    spp.conv1.conv.kernel.assign(np.eye(2, 1, dtype="float32")[None, None])
    spp.conv1.conv.bias.assign(np.zeros(1, "float32"))
    spp.conv2.conv.kernel.assign(np.eye(2, dtype="float32")[None, None])
    spp.conv2.conv.bias.assign(np.zeros(2, "float32"))
    out = to_numpy(spp(x))[0]
    c = np.pad(x[0, :, :, 0], 1, constant_values=-np.inf)
    pooled = np.max(
        [c[i : i + 4, j : j + 4] for i in range(3) for j in range(3)], axis=0
    )
    np.testing.assert_allclose(out[..., 0], x[0, :, :, 0])
    np.testing.assert_allclose(out[..., 1], pooled)


def test_depthwise_separable_conv_module(tmp_path):
    m = run_layer_test(
        dict(
            type="DepthwiseSeparableConvModule",
            in_channels=4,
            out_channels=6,
            kernel_size=3,
            stride=2,
            padding=1,
            norm_cfg=dict(type="BN"),
            pw_act_cfg=None,
        ),
        _x((2, 7, 6, 4)),
        tmp_path,
        (2, 4, 3, 6),
    )
    assert m.depthwise_conv.conv.kernel.shape == (3, 3, 1, 4)
    assert m.depthwise_conv.activate is not None
    assert m.pointwise_conv.activate is None
    assert m.pointwise_conv.bn is not None


def test_csp_blocks_bad_arguments():
    with pytest.raises(ValueError, match="odd"):
        keraspose.build(
            dict(
                type="SPPBottleneck",
                in_channels=4,
                out_channels=4,
                kernel_sizes=(5, 4),
            )
        )
    with pytest.raises(ValueError, match="num_blocks"):
        keraspose.build(
            dict(type="CSPLayer", in_channels=4, out_channels=4, num_blocks=-1)
        )
    with pytest.raises(ValueError, match="in_channels"):
        keraspose.build(
            dict(
                type="DepthwiseSeparableConvModule",
                in_channels=None,
                out_channels=4,
                kernel_size=3,
            )
        )
    att = keraspose.build(dict(type="ChannelAttention", channels=4))
    with pytest.raises(ValueError, match="4 input channels"):
        att(np.zeros((1, 3, 3, 5), "float32"))
