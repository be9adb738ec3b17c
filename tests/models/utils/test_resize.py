"""PyTorch parity of the channels-last resize utilities."""

import itertools

import keras
import numpy as np
import pytest

from keraspose.models.utils.resize import adaptive_avg_pool2d
from keraspose.models.utils.resize import interpolate

torch = pytest.importorskip("torch")
F = torch.nn.functional

SIZES = [(1, 1), (2, 3), (5, 4), (7, 9), (13, 6), (16, 12)]
SCALES = [0.5, 1.7, 2, 3, 0.4, (2, 0.75), 1.5]


def _torch_ref(x, fn, **kwargs):
    t = torch.from_numpy(np.transpose(x, (0, 3, 1, 2)).copy())
    return np.transpose(fn(t, **kwargs).numpy(), (0, 2, 3, 1))


def _check(x, **kwargs):
    want = _torch_ref(x, F.interpolate, **kwargs)
    got = keras.ops.convert_to_numpy(interpolate(x, **kwargs))
    assert got.shape == want.shape, (kwargs, got.shape, want.shape)
    np.testing.assert_allclose(
        got, want, atol=1e-5, rtol=1e-5, err_msg=str(kwargs)
    )


MODE_CASES = [
    ("nearest", None),
    ("nearest-exact", None),
    ("bilinear", False),
    ("bilinear", True),
    ("bicubic", False),
    ("bicubic", True),
    ("area", None),
]


@pytest.mark.parametrize("mode,align_corners", MODE_CASES)
def test_interpolate_size_matches_torch(mode, align_corners):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, 7, 5, 3)).astype("float32")
    for size in SIZES + [(7, 5), (14, 10), (3, 2), (21, 4)]:
        _check(x, size=size, mode=mode, align_corners=align_corners)
    for src, dst in itertools.product([(1, 1), (4, 6), (9, 11)], SIZES):
        x = rng.normal(size=(1, *src, 2)).astype("float32")
        _check(x, size=dst, mode=mode, align_corners=align_corners)


@pytest.mark.parametrize("mode,align_corners", MODE_CASES)
def test_interpolate_scale_factor_matches_torch(mode, align_corners):
    rng = np.random.default_rng(1)
    for shape, scale in itertools.product([(5, 7), (6, 6), (11, 3)], SCALES):
        x = rng.normal(size=(1, *shape, 2)).astype("float32")
        _check(x, scale_factor=scale, mode=mode, align_corners=align_corners)
        if mode != "area":
            _check(
                x,
                scale_factor=scale,
                mode=mode,
                align_corners=align_corners,
                recompute_scale_factor=True,
            )


def test_interpolate_int_size_and_identity():
    x = np.random.default_rng(2).normal(size=(1, 6, 4, 2)).astype("float32")
    _check(x, size=5, mode="bilinear")
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(interpolate(x, size=(6, 4))), x
    )


@pytest.mark.parametrize(
    "in_size,out_size",
    [
        ((7, 5), (3, 2)),
        ((6, 6), 4),
        ((5, 9), (5, 2)),
        ((4, 3), (9, 7)),
        ((8, 8), (8, None)),
        ((1, 1), 3),
    ],
)
def test_adaptive_avg_pool2d_matches_torch(in_size, out_size):
    x = np.random.default_rng(3).normal(size=(2, *in_size, 3)).astype("float32")
    want = _torch_ref(x, F.adaptive_avg_pool2d, output_size=out_size)
    got = keras.ops.convert_to_numpy(adaptive_avg_pool2d(x, out_size))
    np.testing.assert_allclose(got, want, atol=1e-6, rtol=1e-6)


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(size=(9, 7), mode="bilinear", align_corners=False),
        dict(scale_factor=2, mode="nearest"),
        dict(size=(3, 11), mode="bicubic", align_corners=True),
    ],
)
def test_compiled_and_half_precision(kwargs):
    x = np.random.default_rng(4).normal(size=(3, 5, 6, 4)).astype("float32")
    inp = keras.Input(shape=x.shape[1:])
    model = keras.Model(inp, interpolate(inp, **kwargs))
    got = model.predict(x, batch_size=2, verbose=0)
    want = _torch_ref(x, F.interpolate, **kwargs)
    np.testing.assert_allclose(got, want, atol=1e-5, rtol=1e-5)
    want_resized = want

    pooled = keras.Model(inp, adaptive_avg_pool2d(inp, (2, 4)))
    want = _torch_ref(x, F.adaptive_avg_pool2d, output_size=(2, 4))
    np.testing.assert_allclose(
        pooled.predict(x, verbose=0), want, atol=1e-6, rtol=1e-6
    )

    for dtype in ("float16", "bfloat16"):
        xh = keras.ops.cast(x, dtype)
        y = interpolate(xh, **kwargs)
        assert keras.backend.standardize_dtype(y.dtype) == dtype
        np.testing.assert_allclose(
            keras.ops.convert_to_numpy(keras.ops.cast(y, "float32")),
            want_resized,
            atol=0.1,
            rtol=0.05,
        )


def test_bad_arguments():
    x = np.zeros((1, 4, 4, 1), "float32")
    with pytest.raises(ValueError, match="mode"):
        interpolate(x, size=2, mode="trilinear")
    with pytest.raises(ValueError, match="align_corners"):
        interpolate(x, size=2, mode="nearest", align_corners=True)
    with pytest.raises(ValueError, match="Exactly one"):
        interpolate(x)
    with pytest.raises(ValueError, match="Exactly one"):
        interpolate(x, size=2, scale_factor=2)
    with pytest.raises(ValueError, match="scale_factor"):
        interpolate(x, scale_factor=-1.0)
    with pytest.raises(ValueError, match="static"):
        interpolate(keras.Input(shape=(None, 4, 1)), size=2)
    with pytest.raises(ValueError, match="N, H, W, C"):
        interpolate(np.zeros((4, 4, 1), "float32"), size=2)
    with pytest.raises(ValueError, match="output_size"):
        adaptive_avg_pool2d(x, 0)
