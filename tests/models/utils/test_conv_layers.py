import numpy as np
import pytest

from keraspose.models.utils.conv_transpose2d import ConvTranspose2d
from tests.helpers import run_layer_test
from tests.helpers import to_numpy


@pytest.mark.parametrize(
    "kwargs,shape",
    [
        (dict(filters=4, kernel_size=3, strides=2, padding=1), (2, 5, 4, 4)),
        (dict(filters=4, kernel_size=1), (2, 9, 7, 4)),
        (
            dict(filters=4, kernel_size=3, padding=2, dilation_rate=2),
            (2, 9, 7, 4),
        ),
        (dict(filters=4, kernel_size=7, strides=2, padding=3), (2, 5, 4, 4)),
    ],
)
def test_conv2d(kwargs, shape, tmp_path):
    x = np.random.default_rng(0).normal(size=(2, 9, 7, 3)).astype("float32")
    run_layer_test(dict(type="Conv2d", **kwargs), x, tmp_path, shape)


def test_conv2d_matches_torch_padding():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(1).normal(size=(1, 8, 7, 3)).astype("float32")
    import keraspose

    conv = keraspose.build(
        dict(type="Conv2d", filters=5, kernel_size=3, strides=2, padding=1)
    )
    y = to_numpy(conv(x))
    w = to_numpy(conv.kernel).transpose(3, 2, 0, 1)
    ref = torch.nn.functional.conv2d(
        torch.tensor(x.transpose(0, 3, 1, 2)),
        torch.tensor(w),
        torch.tensor(to_numpy(conv.bias)),
        stride=2,
        padding=1,
    )
    np.testing.assert_allclose(y, ref.numpy().transpose(0, 2, 3, 1), atol=1e-5)


def test_conv_module(tmp_path):
    x = np.random.default_rng(0).normal(size=(2, 8, 8, 3)).astype("float32")
    run_layer_test(
        dict(
            type="ConvModule",
            in_channels=3,
            out_channels=4,
            kernel_size=3,
            padding=1,
            norm_cfg=dict(type="BN"),
        ),
        x,
        tmp_path,
        (2, 8, 8, 4),
    )


@pytest.mark.parametrize("kernel_size", [4, 3, 2])
def test_conv_transpose2d(kernel_size, tmp_path):
    x = np.random.default_rng(0).normal(size=(2, 5, 4, 3)).astype("float32")
    run_layer_test(
        dict(type="ConvTranspose2d", filters=4, kernel_size=kernel_size),
        x,
        tmp_path,
        (2, 10, 8, 4),
    )


@pytest.mark.parametrize(
    "kernel_size,padding,output_padding", [(4, 1, 0), (3, 1, 1), (2, 0, 0)]
)
def test_conv_transpose2d_equals_torch(kernel_size, padding, output_padding):
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(2).normal(size=(2, 5, 7, 3)).astype("float32")
    layer = ConvTranspose2d(6, kernel_size=kernel_size, use_bias=True)
    layer.build(x.shape)
    rng = np.random.default_rng(3)
    layer.kernel.assign(rng.normal(size=layer.kernel.shape).astype("float32"))
    layer.bias.assign(rng.normal(size=(6,)).astype("float32"))
    y = to_numpy(layer(x))
    ref = torch.nn.functional.conv_transpose2d(
        torch.tensor(x.transpose(0, 3, 1, 2)),
        torch.tensor(to_numpy(layer.kernel).transpose(2, 3, 0, 1)),
        torch.tensor(to_numpy(layer.bias)),
        stride=2,
        padding=padding,
        output_padding=output_padding,
    )
    np.testing.assert_allclose(y, ref.numpy().transpose(0, 2, 3, 1), atol=1e-5)
    # PyTorch's parameter count
    assert int(np.prod(layer.kernel.shape)) == kernel_size**2 * 3 * 6


def test_conv_transpose2d_rejects_unsupported_kernel():
    with pytest.raises(ValueError, match="kernel_size. in \\(4, 3, 2\\)"):
        ConvTranspose2d(4, kernel_size=5)
