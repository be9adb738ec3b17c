"""YOLOX's random HSV gains on a uint8 BGR image."""

import numpy as np

from keraspose.datasets.transforms.base import BaseTransform
from keraspose.datasets.transforms.base import split_seed
from keraspose.datasets.transforms.load_image import materialize_image
from keraspose.registry import register
from keraspose.utils.lazy_import import tf

#: Fixed-point shift of OpenCV's 8-bit BGR -> HSV conversion.
_HSV_SHIFT = 12


def _division_tables():
    """OpenCV's reciprocal tables for 8-bit saturation and hue (H < 180).

    ``s_table[v] = round(255 * 2**12 / v)`` and
    ``h_table[d] = round(180 * 2**12 / (6 * d))`` (round half to even,
    entry 0 is 0), computed once on the host.
    """
    i = np.arange(256, dtype=np.float64)
    with np.errstate(divide="ignore"):
        s_table = np.rint((255 << _HSV_SHIFT) / i)
        h_table = np.rint((180 << _HSV_SHIFT) / (6.0 * i))
    s_table[0] = 0
    h_table[0] = 0
    return s_table.astype(np.int32), h_table.astype(np.int32)


def bgr_to_hsv_uint8(img):
    """``cv2.cvtColor(img, cv2.COLOR_BGR2HSV)`` for uint8, as int32 tensors.

    OpenCV's integer algorithm: V is the channel maximum, S and H use the
    fixed-point reciprocal tables of :func:`_division_tables` with rounding
    ``(x + 2**11) >> 12``; H lies in [0, 180).

    Args:
        img: (H, W, 3) uint8 BGR image.

    Returns:
        ``(h, s, v)``, three (H, W) int32 tensors.
    """
    s_table, h_table = _division_tables()
    b, g, r = tf.unstack(tf.cast(img, tf.int32), axis=-1)
    v = tf.maximum(tf.maximum(b, g), r)
    vmin = tf.minimum(tf.minimum(b, g), r)
    diff = v - vmin
    half = 1 << (_HSV_SHIFT - 1)
    scale = 1 << _HSV_SHIFT
    s = (diff * tf.gather(tf.constant(s_table), v) + half) // scale
    # OpenCV tests "max is red" first, then "max is green".
    h = tf.where(
        tf.equal(v, r),
        g - b,
        tf.where(tf.equal(v, g), b - r + 2 * diff, r - g + 4 * diff),
    )
    h = (h * tf.gather(tf.constant(h_table), diff) + half) // scale
    h = tf.where(h < 0, h + 180, h)
    return h, s, v


def _one_minus_product(a, b):
    """``1 - a * b`` of float32 tensors rounded once (a fused multiply-add).

    OpenCV's compiled vector code fuses this step; the float64 product of
    two float32 values is exact, so only the final cast rounds.
    """
    a64 = tf.cast(a, tf.float64)
    b64 = tf.cast(b, tf.float64)
    return tf.cast(1.0 - a64 * b64, tf.float32)


def hsv_to_bgr_uint8(h, s, v):
    """``cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR)`` for uint8 H in [0, 180).

    OpenCV's vectorised 8-bit path, operation by operation in float32: S
    and V scaled by ``1/255``, six hue sectors (``1 - s * h`` fused as the
    compiled code does), the result multiplied by 255 and *truncated* (not
    rounded) to uint8.

    Args:
        h, s, v: (H, W) integer tensors (H in [0, 180), S and V in
            [0, 255]).

    Returns:
        (H, W, 3) uint8 BGR image.
    """
    f32 = np.float32
    inv255 = tf.constant(f32(1.0) / f32(255.0))
    hue = tf.cast(h, tf.float32) * tf.constant(f32(6.0) / f32(180.0))
    pre = tf.floor(hue)  # hue >= 0: trunc == floor
    frac = hue - pre
    sector = pre - tf.floor(pre * tf.constant(f32(1.0) / f32(6.0))) * 6.0
    sector = tf.cast(sector, tf.int32)
    sat = tf.cast(s, tf.float32) * inv255
    val = tf.cast(v, tf.float32) * inv255
    tab0 = val
    tab1 = val * (1.0 - sat)
    tab2 = val * _one_minus_product(sat, frac)
    tab3 = val * _one_minus_product(sat, 1.0 - frac)
    # The channel values per hue sector 0..5 (OpenCV's sector table).
    b = tf.where(
        sector < 2,
        tab1,
        tf.where(sector == 2, tab3, tf.where(sector < 5, tab0, tab2)),
    )
    g = tf.where(
        sector < 1,
        tab3,
        tf.where(sector < 3, tab0, tf.where(sector == 3, tab2, tab1)),
    )
    r = tf.where(
        sector < 1,
        tab0,
        tf.where(
            sector == 1,
            tab2,
            tf.where(sector < 4, tab1, tf.where(sector == 4, tab3, tab0)),
        ),
    )
    bgr = tf.stack([b, g, r], axis=-1)
    bgr = tf.floor(bgr * 255.0)  # non-negative: trunc == floor
    return tf.cast(tf.clip_by_value(bgr, 0.0, 255.0), tf.uint8)


def apply_hsv_gains(img, gains):
    """Adds integer ``(hue, saturation, value)`` gains in OpenCV's 8-bit HSV.

    Hue wraps modulo 180 (floor modulo, so negative gains wrap too);
    saturation and value are clipped to [0, 255].

    Args:
        img: (H, W, 3) uint8 BGR image.
        gains: (3,) integer tensor.

    Returns:
        (H, W, 3) uint8 BGR image.
    """
    gains = tf.cast(gains, tf.int32)
    h, s, v = bgr_to_hsv_uint8(img)
    h = tf.math.floormod(h + gains[0], 180)
    s = tf.clip_by_value(s + gains[1], 0, 255)
    v = tf.clip_by_value(v + gains[2], 0, 255)
    return hsv_to_bgr_uint8(h, s, v)


def sample_hsv_gains(seed, deltas):
    """YOLOX's random gains: ``trunc(U(-1, 1) * delta * Bernoulli(1/2))``.

    Args:
        seed: (2,) stateless seed.
        deltas: ``(hue_delta, saturation_delta, value_delta)``.

    Returns:
        (3,) int32 tensor.
    """
    seeds = split_seed(seed, 2)
    u = tf.random.stateless_uniform(
        [3], seed=seeds[0], minval=-1.0, maxval=1.0, dtype=tf.float64
    )
    keep = tf.random.stateless_uniform(
        [3], seed=seeds[1], minval=0, maxval=2, dtype=tf.int32
    )
    gains = u * tf.constant(deltas, tf.float64) * tf.cast(keep, tf.float64)
    return tf.cast(gains, tf.int32)  # truncation toward zero, like astype


@register
class YOLOXHSVRandomAug(BaseTransform):
    """Random hue, saturation and value offsets (MMDetection's YOLOX aug).

    Draws ``gain = trunc(U(-1, 1) * delta)`` for each of hue, saturation and
    value, keeps each with probability 1/2 (else 0), converts the uint8 BGR
    image to OpenCV's 8-bit HSV (H in [0, 180)), adds the gains (hue modulo
    180, saturation and value clipped to [0, 255]) and converts back. The
    conversions are OpenCV's own 8-bit algorithms written as tensor ops (no
    lookup table on the host): for fixed gains the output equals
    MMDetection's bit for bit (checked on all 2**24 colours against
    opencv-python 4.11 and 5.0 on x86-64).

    Quirks kept: the image always goes through the lossy 8-bit
    BGR -> HSV -> BGR round trip, even when all three gains are 0; and
    OpenCV's vectorised HSV -> BGR truncates to uint8 where its scalar code
    rounds. OpenCV runs the scalar code only on the tail of a row that is
    not a multiple of its SIMD block (32 pixels with AVX2; RTMPose's 192
    and 288 are multiples), and there about one channel value in ten
    differs by 1 from ours.

    Reference: Ge et al., "YOLOX: Exceeding YOLO Series in 2021",
    arXiv:2107.08430. RTMPose (Jiang et al., arXiv:2303.07399) uses it in
    its training pipelines (``type="mmdet.YOLOXHSVRandomAug"``).

    Args:
        hue_delta: maximum hue offset (OpenCV hue units, degrees / 2).
        saturation_delta: maximum saturation offset.
        value_delta: maximum value offset.

    Example:

    >>> YOLOXHSVRandomAug().get_config()
    {'hue_delta': 5, 'saturation_delta': 30, 'value_delta': 30}
    """

    random = True

    def __init__(self, hue_delta=5, saturation_delta=30, value_delta=30):
        for name, value in (
            ("hue_delta", hue_delta),
            ("saturation_delta", saturation_delta),
            ("value_delta", value_delta),
        ):
            if (
                not isinstance(value, int | float)
                or isinstance(value, bool)
                or value < 0
            ):
                raise ValueError(
                    "YOLOXHSVRandomAug expects a non-negative number for "
                    f"`{name}`. Received: {name}={value!r}"
                )
        self.hue_delta = hue_delta
        self.saturation_delta = saturation_delta
        self.value_delta = value_delta

    def transform(self, results, seed):
        materialize_image(results)
        img = results["img"]
        if img.dtype != tf.uint8:
            raise TypeError(
                "YOLOXHSVRandomAug expects a uint8 BGR image (LoadImage with "
                f"to_float32=False). Received: dtype={img.dtype.name}"
            )
        gains = sample_hsv_gains(
            seed, (self.hue_delta, self.saturation_delta, self.value_delta)
        )
        out = apply_hsv_gains(img, gains)
        results["img"] = tf.ensure_shape(out, img.shape)
        return results

    def get_config(self):
        return {
            "hue_delta": self.hue_delta,
            "saturation_delta": self.saturation_delta,
            "value_delta": self.value_delta,
        }
