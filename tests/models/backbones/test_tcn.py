"""TCN (VideoPose3D) backbone: shapes, config/saving, MMPose parity."""

import json

import keras
import numpy as np
import pytest

import keraspose
from keraspose import converters
from tests.conftest import FIXTURES
from tests.helpers import run_layer_test
from tests.helpers import to_numpy

CASES = (
    "dilated",
    "dilated_causal",
    "stride",
    "stride_causal",
    "stride5",
    "no_residual",
    "max_norm",
)


@pytest.fixture(scope="module")
def fx():
    return dict(np.load(FIXTURES / "mmpose_tcn.npz"))


def state(fx, tag):
    prefix = f"{tag}_state/"
    return {k[len(prefix) :]: v for k, v in fx.items() if k.startswith(prefix)}


def test_tcn_layer(tmp_path):
    run_layer_test(
        dict(
            type="TCN",
            in_channels=8,
            stem_channels=8,
            kernel_sizes=(3, 3, 3),
            use_stride_conv=True,
        ),
        np.random.default_rng(0).normal(size=(2, 27, 8)).astype("float32"),
        tmp_path,
        expected_output_shape=((2, 3, 8), (2, 1, 8)),
    )


def test_basic_temporal_block_layer(tmp_path):
    run_layer_test(
        dict(
            type="BasicTemporalBlock",
            in_channels=4,
            out_channels=6,
            mid_channels=5,
            kernel_size=3,
            dilation=2,
            causal=True,
            max_norm=0.5,
        ),
        np.random.default_rng(1).normal(size=(2, 9, 4)).astype("float32"),
        tmp_path,
        expected_output_shape=(2, 5, 6),
    )


@pytest.mark.parametrize("tag", CASES)
def test_tcn_and_heads_equal_mmpose(fx, tag):
    """MMPose's state dict through the public converter: equal backbone
    outputs and raw head outputs (channels-first fixtures transposed)."""
    cfg = json.loads(str(fx[f"{tag}_cfg"]))
    x = np.transpose(fx[f"{tag}_input"], (0, 2, 1))  # (B, T, K * C)
    b, t, kc = x.shape
    model = keraspose.build(cfg)
    model.build((None, t, kc // 2, 2))
    report = converters.load_state_dict(model, state(fx, tag))
    assert not report.missing and not report.unexpected
    feats, traj_feats = model.extract_feat(x, training=False)
    for i, f in enumerate(to_numpy(feats)):
        np.testing.assert_allclose(
            f, np.transpose(fx[f"{tag}_out{i}"], (0, 2, 1)), atol=1e-5
        )
    head = to_numpy(model.head(feats))
    np.testing.assert_allclose(head, fx[f"{tag}_head"], atol=1e-5)
    traj = to_numpy(model.traj_head(traj_feats))
    np.testing.assert_allclose(traj, fx[f"{tag}_traj"], atol=1e-5)
    # the (B, T, K, C) entry point flattens to the same channel order
    outs = to_numpy(model(dict(keypoints=x.reshape(b, t, kc // 2, 2))))
    np.testing.assert_allclose(outs[0], fx[f"{tag}_head"], atol=1e-5)


def test_max_norm_clips_kernels_after_updates():
    tcn = keraspose.build(
        dict(
            type="TCN",
            in_channels=4,
            stem_channels=4,
            kernel_sizes=(1, 1, 1),
            max_norm=0.1,
            dropout=0.0,
        )
    )
    x = np.random.default_rng(0).normal(size=(8, 1, 4)).astype("float32")
    inputs = keras.Input((1, 4))
    model = keras.Model(inputs, tcn(inputs)[-1])
    model.compile(optimizer=keras.optimizers.SGD(1.0), loss="mse")
    model.train_on_batch(x, np.ones((8, 1, 4), "float32"))
    for w in tcn.weights:
        if w.path.endswith("kernel"):
            norm = np.linalg.norm(keras.ops.convert_to_numpy(w))
            assert norm <= 0.1 + 1e-5


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(num_blocks=3), "num_blocks"),
        (dict(kernel_sizes=(3, 2, 3)), "odd"),
        (dict(conv_cfg=dict(type="Conv2d")), "Conv1d"),
        (dict(norm_cfg=dict(type="GN")), "1D batch norm"),
        (dict(max_norm=0), "max_norm"),
    ],
)
def test_tcn_config_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        keraspose.build(dict(type="TCN", in_channels=4, **kwargs))


def test_tcn_input_errors():
    tcn = keraspose.build(dict(type="TCN", in_channels=4, stem_channels=4))
    with pytest.raises(ValueError, match=r"\(B, T, 4\)"):
        tcn(np.zeros((1, 27, 5), "float32"))
    with pytest.raises(ValueError, match="longer sequence"):
        tcn(np.zeros((1, 9, 4), "float32"))
