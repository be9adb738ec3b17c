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


def test_fpn_component(tmp_path):
    feats = _feats((2, 7, 5, 2), (2, 4, 3, 3))
    cfg = dict(
        type="FPN",
        in_channels=[2, 3],
        out_channels=4,
        num_outs=4,
        add_extra_convs="on_output",
        relu_before_extra_convs=True,
        norm_cfg=dict(type="BN"),
        act_cfg=dict(type="ReLU"),
    )
    expected = ((2, 7, 5, 4), (2, 4, 3, 4), (2, 2, 2, 4), (2, 1, 1, 4))
    run_layer_test(cfg, feats, tmp_path, expected)


@pytest.mark.parametrize("tag", fixture_tags("fpn_"))
def test_fpn_matches_mmpose(tag):
    check_mmpose_forward(tag)


def test_fpn_shapes_names_and_init():
    neck = keraspose.build(
        dict(type="FPN", in_channels=[2, 3, 4], out_channels=4, num_outs=5)
    )
    shapes = ((None, 13, 11, 2), (None, 7, 6, 3), (None, 4, 3, 4))
    assert neck.compute_output_shape(shapes) == (
        (None, 13, 11, 4),
        (None, 7, 6, 4),
        (None, 4, 3, 4),
        (None, 2, 2, 4),
        (None, 1, 1, 4),
    )
    neck.build(shapes)
    paths = {w.path for w in neck.weights}
    assert "fpn/lateral_convs_2/conv/kernel" in paths
    assert "fpn/fpn_convs_0/conv/bias" in paths
    convs = [x for x in neck._flatten_layers() if isinstance(x, Conv2d)]
    assert all(
        isinstance(c.kernel_initializer, keras.initializers.VarianceScaling)
        and c.kernel_initializer.mode == "fan_avg"
        for c in convs
    )


@pytest.mark.parametrize(
    "kwargs,match",
    [
        (dict(num_outs=2), "num_outs"),
        (dict(num_outs=2, end_level=1, start_level=1), "num_outs"),
        (dict(num_outs=3, end_level=5), "end_level"),
        (dict(num_outs=3, start_level=3), "start_level"),
        (dict(num_outs=4, add_extra_convs="on_top"), "add_extra_convs"),
        (dict(num_outs=3, upsample_cfg=dict(mode="cubic")), "mode"),
        (dict(num_outs=3, upsample_cfg=dict(size=(2, 2))), "size"),
    ],
)
def test_fpn_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        keraspose.build(
            dict(type="FPN", in_channels=[2, 3, 4], out_channels=4, **kwargs)
        )


def test_fpn_wrong_number_of_inputs():
    neck = keraspose.build(
        dict(type="FPN", in_channels=[2, 3], out_channels=4, num_outs=2)
    )
    with pytest.raises(ValueError, match="expects 2 feature maps"):
        neck(_feats((1, 4, 4, 2)))
