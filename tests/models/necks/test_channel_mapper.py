import keras
import numpy as np
import pytest

import keraspose
from keraspose.models.utils.conv2d import Conv2d
from tests.helpers import run_layer_test
from tests.models.necks.neck_fixtures import check_mmpose_forward
from tests.models.necks.neck_fixtures import fixture_tags


def _feats(*shapes):
    rng = np.random.default_rng(0)
    return tuple(rng.normal(size=s).astype("float32") for s in shapes)


def test_channel_mapper_component(tmp_path):
    feats = _feats((2, 7, 5, 2), (2, 4, 3, 3))
    cfg = dict(
        type="ChannelMapper",
        in_channels=[2, 3],
        out_channels=4,
        num_outs=3,
        norm_cfg=dict(type="BN"),
    )
    expected = ((2, 7, 5, 4), (2, 4, 3, 4), (2, 2, 2, 4))
    run_layer_test(cfg, feats, tmp_path, expected)


@pytest.mark.parametrize("tag", fixture_tags("cm_"))
def test_channel_mapper_matches_mmpose(tag):
    check_mmpose_forward(tag)


def test_channel_mapper_init_and_pretrained_warning():
    neck = keraspose.build(
        dict(type="ChannelMapper", in_channels=[2], out_channels=4)
    )
    (conv,) = [x for x in neck._flatten_layers() if isinstance(x, Conv2d)]
    init = conv.kernel_initializer
    assert isinstance(init, keras.initializers.VarianceScaling)
    assert (init.mode, init.distribution) == ("fan_avg", "uniform")
    with pytest.warns(UserWarning, match="pretrained"):
        neck = keraspose.build(
            dict(
                type="ChannelMapper",
                in_channels=[2],
                out_channels=4,
                init_cfg=dict(type="Pretrained", checkpoint="x.pth"),
            )
        )
    assert neck.get_config()["init_cfg"] is None


def test_channel_mapper_bad_arguments():
    with pytest.raises(ValueError, match="num_outs"):
        keraspose.build(
            dict(
                type="ChannelMapper",
                in_channels=[2, 3],
                out_channels=4,
                num_outs=1,
            )
        )
    with pytest.raises(ValueError, match="in_channels"):
        keraspose.build(
            dict(type="ChannelMapper", in_channels=4, out_channels=4)
        )
    neck = keraspose.build(
        dict(type="ChannelMapper", in_channels=[2, 3], out_channels=4)
    )
    with pytest.raises(ValueError, match="Received 3"):
        neck(_feats((1, 4, 4, 2), (1, 2, 2, 3), (1, 1, 1, 3)))
