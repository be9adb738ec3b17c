import json

import numpy as np
import pytest

import keraspose
from tests.helpers import run_layer_test
from tests.models.necks.neck_fixtures import build_with_zero_kernels
from tests.models.necks.neck_fixtures import check_mmpose_forward
from tests.models.necks.neck_fixtures import fixture_tags
from tests.models.necks.neck_fixtures import neck_fixture


def _feats(*shapes):
    rng = np.random.default_rng(0)
    return tuple(rng.normal(size=s).astype("float32") for s in shapes)


def test_cspnext_pafpn_component(tmp_path):
    feats = _feats((2, 6, 10, 4), (2, 3, 5, 8))
    cfg = dict(
        type="CSPNeXtPAFPN",
        in_channels=[4, 8],
        out_channels=None,
        out_indices=(0, 1),
        num_csp_blocks=1,
    )
    run_layer_test(cfg, feats, tmp_path, ((2, 6, 10, 4), (2, 3, 5, 8)))


@pytest.mark.parametrize("tag", fixture_tags("pafpn_"))
def test_cspnext_pafpn_matches_mmpose(tag):
    # pafpn_mmdet_out: mmdet's CSPNeXtPAFPN (per-level out_convs).
    override = dict(out_indices=(0, 1, 2)) if tag == "pafpn_mmdet_out" else None
    check_mmpose_forward(tag, override)


def test_mmpose_out_channels_quirk_recorded():
    # MMPose 1.3.2's own module cannot run with out_channels set.
    error = str(neck_fixture()["mmpose_pafpn_out_channels_error"])
    assert "not iterable" in error


@pytest.mark.parametrize("size", ["l", "x"])
def test_rtmw_neck_parameter_counts(size):
    f = neck_fixture()
    cfg = json.loads(str(f[f"params_rtmw_{size}_neck_config"]))
    ch = cfg["in_channels"]
    shapes = tuple(
        (None, 8 * 4 // 2**i, 6 * 4 // 2**i, c) for i, c in enumerate(ch)
    )
    net = build_with_zero_kernels(cfg, shapes)
    count = sum(int(np.prod(w.shape)) for w in net.trainable_weights)
    assert count == int(f[f"params_rtmw_{size}_neck"])


def test_cspnext_pafpn_bad_inputs():
    with pytest.raises(ValueError, match="out_indices"):
        keraspose.build(
            dict(
                type="CSPNeXtPAFPN",
                in_channels=[4, 8],
                out_channels=None,
                out_indices=(2,),
            )
        )
    neck = keraspose.build(
        dict(
            type="CSPNeXtPAFPN",
            in_channels=[4, 8],
            out_channels=None,
            out_indices=(0, 1),
            num_csp_blocks=1,
        )
    )
    with pytest.raises(ValueError, match="does not match"):
        neck.build(((None, 7, 10, 4), (None, 3, 5, 8)))
    with pytest.raises(ValueError, match="expects 2 feature maps"):
        neck.build(((None, 6, 10, 4),))
