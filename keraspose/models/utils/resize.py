"""Resizing with PyTorch's ``F.interpolate`` semantics, channels-last.

Keras' own resize ops follow TensorFlow's half-pixel conventions, which
differ from PyTorch's (nearest neighbour in particular picks different
source pixels), so MMPose models that resize feature maps would drift away
from their PyTorch numbers. The functions here reproduce
``torch.nn.functional.interpolate`` and ``adaptive_avg_pool2d`` exactly on
``(N, H, W, C)`` tensors whose spatial sizes are static.

All interpolation weights are computed in NumPy when the function is
traced, from the static shapes: nearest-neighbour resizing becomes a gather
(``ops.take``) with precomputed indices, and the linear, cubic and
averaging modes become two small matrix products (one per spatial axis).
This is exact, fast, and works the same on every backend.
"""

import math

import keras
import numpy as np
from keras import ops

_MODES = ("nearest", "nearest-exact", "bilinear", "bicubic", "area")
_CUBIC_A = -0.75  # PyTorch's bicubic coefficient


def _spatial_size(x, fn):
    if len(x.shape) != 4:
        raise ValueError(
            f"`{fn}` expects a (N, H, W, C) tensor. "
            f"Received shape {tuple(x.shape)}"
        )
    height, width = x.shape[1], x.shape[2]
    if not isinstance(height, int) or not isinstance(width, int):
        raise ValueError(
            f"`{fn}` needs static spatial sizes. "
            f"Received shape {tuple(x.shape)}"
        )
    return height, width


def _pair_of(value, name, kind):
    if isinstance(value, tuple | list):
        if len(value) != 2:
            raise ValueError(
                f"Expected `{name}` to be a {kind} or a pair. "
                f"Received: {name}={value!r}"
            )
        return tuple(value)
    return (value, value)


def _compute_dtype(x):
    dtype = keras.backend.standardize_dtype(x.dtype)
    if dtype in ("float32", "float64"):
        return dtype
    return "float32"


def _apply_matrices(x, mat_h, mat_w):
    """Applies (out_h, in_h) and (out_w, in_w) matrices to a NHWC tensor."""
    in_dtype = keras.backend.standardize_dtype(x.dtype)
    dtype = _compute_dtype(x)
    y = ops.cast(x, dtype) if dtype != in_dtype else x
    if mat_h is not None:
        y = ops.einsum("oh,nhwc->nowc", ops.convert_to_tensor(mat_h, dtype), y)
    if mat_w is not None:
        y = ops.einsum("pw,nhwc->nhpc", ops.convert_to_tensor(mat_w, dtype), y)
    if dtype != in_dtype and "float" in in_dtype:
        y = ops.cast(y, in_dtype)
    return y


def _is_identity(mat):
    return mat.shape[0] == mat.shape[1] and np.array_equal(
        mat, np.eye(mat.shape[0])
    )


def _nearest_indices(in_size, out_size, scale, exact):
    """Source indices of PyTorch's CPU nearest kernels (float32 maths)."""
    if scale is not None and scale > 0:
        step = np.float32(1.0 / scale)
    else:
        step = np.float32(in_size) / np.float32(out_size)
    dst = np.arange(out_size)
    if exact:
        src = np.floor((dst + 0.5).astype(np.float32) * step)
    else:
        if out_size == in_size:
            return dst
        if out_size == 2 * in_size:
            return dst // 2
        src = np.floor(dst.astype(np.float32) * step)
    return np.minimum(src.astype(np.int64), in_size - 1)


# Source coordinates and weights are computed in float32, like PyTorch's
# kernels for float32 tensors, so the interpolation weights are bit-for-bit
# those of PyTorch (up to its fused multiply-adds).
_F32 = np.float32


def _linear_scale(in_size, out_size, scale, align_corners):
    if align_corners:
        if out_size <= 1:
            return _F32(0.0)
        return _F32(in_size - 1) / _F32(out_size - 1)
    if scale is not None and scale > 0:
        return _F32(1.0 / scale)
    return _F32(in_size) / _F32(out_size)


def _source_index(step, out_size, align_corners, cubic):
    dst = np.arange(out_size).astype(_F32)
    if align_corners:
        return step * dst
    # PyTorch's compiled kernel fuses this multiply-add (one rounding).
    half = np.float64(0.5)
    src = (np.float64(step) * (dst + half) - half).astype(_F32)
    return src if cubic else np.maximum(src, _F32(0.0))


def _guard(src, in_size):
    index = np.minimum(np.floor(src).astype(np.int64), in_size - 1)
    lam = np.clip(src - index.astype(_F32), _F32(0.0), _F32(1.0))
    return index, lam


def _linear_matrix(in_size, out_size, scale, align_corners):
    step = _linear_scale(in_size, out_size, scale, align_corners)
    src = _source_index(step, out_size, align_corners, cubic=False)
    index, lam = _guard(src, in_size)
    upper = np.where(index < in_size - 1, index + 1, index)
    mat = np.zeros((out_size, in_size), np.float64)
    rows = np.arange(out_size)
    np.add.at(mat, (rows, index), _F32(1.0) - lam)
    np.add.at(mat, (rows, upper), lam)
    return mat


def _cubic_coefficients(t):
    a = _CUBIC_A
    t = t.astype(np.float64)

    def near(x):  # |x| <= 1
        x = np.asarray(x, np.float64)
        return ((a + 2) * x - (a + 3)) * x * x + 1

    def far(x):  # 1 < |x| < 2
        x = np.asarray(x, np.float64)
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a

    # PyTorch rounds its arguments to float32 in this order.
    t1 = t
    t2 = (1.0 - t).astype(_F32).astype(np.float64)
    return (
        far((t1 + 1.0).astype(_F32)),
        near(t1),
        near(t2),
        far((t2 + 1.0).astype(_F32)),
    )


def _cubic_matrix(in_size, out_size, scale, align_corners):
    step = _linear_scale(in_size, out_size, scale, align_corners)
    src = _source_index(step, out_size, align_corners, cubic=True)
    index, lam = _guard(src, in_size)
    mat = np.zeros((out_size, in_size), np.float64)
    rows = np.arange(out_size)
    for offset, weight in enumerate(_cubic_coefficients(lam)):
        cols = np.clip(index - 1 + offset, 0, in_size - 1)
        np.add.at(mat, (rows, cols), weight)
    return mat


def _adaptive_matrix(in_size, out_size):
    """PyTorch's adaptive-average bins as an (out, in) averaging matrix."""
    mat = np.zeros((out_size, in_size), np.float64)
    for i in range(out_size):
        start = (i * in_size) // out_size
        end = -((-(i + 1) * in_size) // out_size)  # ceil division
        mat[i, start:end] = 1.0 / (end - start)
    return mat


def interpolated_size(height, width, size=None, scale_factor=None):
    """The static output ``(height, width)`` of :func:`interpolate`.

    Args:
        height: input height (int, or None when unknown).
        width: input width (int, or None when unknown).
        size: as in :func:`interpolate`.
        scale_factor: as in :func:`interpolate`.

    Returns:
        A pair; an entry is None when it depends on an unknown input size.

    Example:

    >>> interpolated_size(7, 5, scale_factor=1.5)
    (10, 7)
    """
    if size is not None:
        return tuple(int(s) for s in _pair_of(size, "size", "int"))
    if scale_factor is None:
        raise ValueError(
            "Exactly one of `size` and `scale_factor` must be given. "
            "Received neither."
        )
    scales = _pair_of(scale_factor, "scale_factor", "float")
    return tuple(
        None if n is None else math.floor(n * float(s))
        for n, s in zip((height, width), scales)
    )


def interpolate(
    x,
    size=None,
    scale_factor=None,
    mode="nearest",
    align_corners=None,
    recompute_scale_factor=None,
):
    """Resizes ``(N, H, W, C)`` maps exactly like ``F.interpolate``.

    PyTorch's conventions are reproduced, including where they differ from
    TensorFlow's: ``"nearest"`` picks source pixel
    ``min(floor(dst * scale), in - 1)`` (no half-pixel offset), computed in
    float32 like PyTorch's CPU kernel; when ``scale_factor`` is given the
    source step is ``1 / scale_factor`` (not ``in / out``) and the output
    size is ``floor(in * scale_factor)``; ``"bilinear"`` clamps negative
    source coordinates to 0; ``"bicubic"`` uses ``a = -0.75`` with border
    replication. ``"area"`` is ``adaptive_avg_pool2d``.

    Args:
        x: a (N, H, W, C) tensor with static H and W.
        size: output ``(height, width)`` or an int for both.
        scale_factor: a float or a pair of floats (exclusive with ``size``).
        mode: ``"nearest"``, ``"nearest-exact"``, ``"bilinear"``,
            ``"bicubic"`` or ``"area"``.
        align_corners: for ``"bilinear"`` / ``"bicubic"`` only: map the
            corner pixel centres onto each other. ``None`` means False.
        recompute_scale_factor: if True, ``scale_factor`` only sets the
            output size and the step is recomputed as ``in / out``.

    Returns:
        The resized tensor, in the dtype of ``x`` (linear modes compute in
        float32 for half-precision inputs).

    Example:

    >>> import numpy as np
    >>> x = np.arange(6, dtype="float32").reshape(1, 2, 3, 1)
    >>> y = interpolate(x, scale_factor=2, mode="nearest")
    >>> tuple(y.shape)
    (1, 4, 6, 1)
    >>> tuple(interpolate(x, size=(5, 7), mode="bilinear").shape)
    (1, 5, 7, 1)
    """
    if mode not in _MODES:
        raise ValueError(
            f"`mode` must be one of {_MODES}. Received: mode={mode!r}"
        )
    if align_corners is not None and mode not in ("bilinear", "bicubic"):
        raise ValueError(
            "`align_corners` can only be set with mode 'bilinear' or "
            f"'bicubic'. Received: mode={mode!r}, "
            f"align_corners={align_corners!r}"
        )
    align_corners = bool(align_corners)
    in_h, in_w = _spatial_size(x, "interpolate")
    if (size is None) == (scale_factor is None):
        raise ValueError(
            "Exactly one of `size` and `scale_factor` must be given. "
            f"Received: size={size!r}, scale_factor={scale_factor!r}"
        )
    if size is not None:
        out_h, out_w = (int(s) for s in _pair_of(size, "size", "int"))
        scales = (None, None)
    else:
        scales = tuple(
            float(s) for s in _pair_of(scale_factor, "scale_factor", "float")
        )
        if min(scales) <= 0:
            raise ValueError(
                "`scale_factor` must be positive. "
                f"Received: scale_factor={scale_factor!r}"
            )
        out_h = math.floor(in_h * scales[0])
        out_w = math.floor(in_w * scales[1])
        if recompute_scale_factor:
            scales = (None, None)
    if out_h <= 0 or out_w <= 0:
        raise ValueError(
            "The output size must be positive. Received: "
            f"size={size!r}, scale_factor={scale_factor!r} for an input of "
            f"spatial size {(in_h, in_w)}"
        )

    if mode in ("nearest", "nearest-exact"):
        exact = mode == "nearest-exact"
        y = x
        for axis, (n_in, n_out, scale) in enumerate(
            zip((in_h, in_w), (out_h, out_w), scales), start=1
        ):
            idx = _nearest_indices(n_in, n_out, scale, exact)
            if n_in == n_out and np.array_equal(idx, np.arange(n_in)):
                continue
            # NumPy indices: Keras' symbolic `take` reads them on the host
            # (a tensor on a GPU would have to be copied back first).
            y = ops.take(y, idx.astype("int32"), axis=axis)
        return y

    if mode == "area":
        return adaptive_avg_pool2d(x, (out_h, out_w))
    build = _linear_matrix if mode == "bilinear" else _cubic_matrix
    mat_h = build(in_h, out_h, scales[0], align_corners)
    mat_w = build(in_w, out_w, scales[1], align_corners)
    return _apply_matrices(
        x,
        None if _is_identity(mat_h) else mat_h,
        None if _is_identity(mat_w) else mat_w,
    )


def adaptive_avg_pool2d(x, output_size):
    """``F.adaptive_avg_pool2d`` on a ``(N, H, W, C)`` tensor.

    Output cell ``i`` averages input rows ``floor(i * in / out)`` to
    ``ceil((i + 1) * in / out)`` (exclusive), PyTorch's bin rule, so bins
    may overlap when ``in`` is not a multiple of ``out``.

    Args:
        x: a (N, H, W, C) tensor with static H and W.
        output_size: ``(height, width)`` or an int for both; a ``None``
            entry keeps the input size along that axis.

    Returns:
        The pooled tensor, in the dtype of ``x``.

    Example:

    >>> import numpy as np
    >>> x = np.arange(25, dtype="float32").reshape(1, 5, 5, 1)
    >>> y = adaptive_avg_pool2d(x, 2)  # bins rows/cols 0-2 and 2-4
    >>> np.round(np.asarray(y)[0, :, :, 0], 4).tolist()
    [[6.0, 8.0], [16.0, 18.0]]
    """
    in_h, in_w = _spatial_size(x, "adaptive_avg_pool2d")
    out_h, out_w = _pair_of(output_size, "output_size", "int")
    out_h = in_h if out_h is None else int(out_h)
    out_w = in_w if out_w is None else int(out_w)
    if out_h <= 0 or out_w <= 0:
        raise ValueError(
            "`output_size` must be positive. "
            f"Received: output_size={output_size!r}"
        )
    mat_h = _adaptive_matrix(in_h, out_h)
    mat_w = _adaptive_matrix(in_w, out_w)
    return _apply_matrices(
        x,
        None if _is_identity(mat_h) else mat_h,
        None if _is_identity(mat_w) else mat_w,
    )
