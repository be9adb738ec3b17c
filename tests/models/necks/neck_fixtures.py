"""Shared loading of ``tests/fixtures/mmpose_necks.npz`` (see
``tools/make_mmpose_neck_fixtures.py``)."""

import json
from functools import lru_cache

import keras
import numpy as np

from tests.conftest import FIXTURES
from tests.mmpose_weights import build_with_zero_kernels
from tests.mmpose_weights import fixture_state
from tests.mmpose_weights import load_state_dict


@lru_cache(maxsize=1)
def neck_fixture():
    return dict(np.load(FIXTURES / "mmpose_necks.npz"))


def fixture_tags(prefix):
    return sorted(
        k[: -len("_config")]
        for k in neck_fixture()
        if k.startswith(prefix) and k.endswith("_config")
    )


def check_mmpose_forward(tag, cfg_override=None, atol=1e-5):
    """Our neck with MMPose's weights gives MMPose's outputs (eval mode)."""
    f = neck_fixture()
    meta = json.loads(str(f[f"{tag}_config"]))
    cfg = dict(type=meta["type"], **meta["cfg"], **(cfg_override or {}))
    single = bool(f[f"{tag}_single"])
    n_in = sum(k.startswith(f"{tag}_in") for k in f)
    feats = [
        f[f"{tag}_in{i}"].astype(np.float32).transpose(0, 2, 3, 1) / 32
        for i in range(n_in)
    ]
    if single:
        shapes = (None, *feats[0].shape[1:])
    else:
        shapes = tuple((None, *x.shape[1:]) for x in feats)
    net = build_with_zero_kernels(cfg, shapes)
    state = fixture_state(f, tag)
    assert load_state_dict(net, state, "") == set(state)
    if single:
        inputs = keras.Input(feats[0].shape[1:])
        model = keras.Model(inputs, net(inputs, training=False))
        outs = [model.predict(feats[0], verbose=0)]
    else:
        inputs = [keras.Input(x.shape[1:]) for x in feats]
        model = keras.Model(inputs, net(tuple(inputs), training=False))
        outs = model.predict(feats, verbose=0)
        outs = outs if isinstance(outs, list | tuple) else [outs]
    n_out = sum(k.startswith(f"{tag}_out") for k in f)
    assert len(outs) == n_out
    worst = 0.0
    for i, out in enumerate(outs):
        ref = f[f"{tag}_out{i}"].transpose(0, 2, 3, 1)
        assert out.shape == ref.shape, (i, out.shape, ref.shape)
        np.testing.assert_allclose(out, ref, atol=atol, rtol=0)
        worst = max(worst, float(np.abs(out - ref).max()))
    return worst
