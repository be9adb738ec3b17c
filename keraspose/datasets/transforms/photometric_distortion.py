"""Random brightness, contrast, saturation, hue and channel swap."""

from keraspose.datasets.transforms.base import BaseTransform
from keraspose.datasets.transforms.base import split_seed
from keraspose.datasets.transforms.base import uniform
from keraspose.datasets.transforms.load_image import materialize_image
from keraspose.registry import register
from keraspose.utils.lazy_import import tf


def _convert(img, alpha=1.0, beta=0.0):
    """``uint8(clip(img * alpha + beta, 0, 255))`` kept in float32."""
    return tf.floor(tf.clip_by_value(img * alpha + beta, 0.0, 255.0))


@register
class PhotometricDistortion(BaseTransform):
    """MMPose's photometric augmentation, on a uint8 BGR image.

    Each step is applied with probability 1/2, in MMPose's order:
    brightness (add ``U(-brightness_delta, brightness_delta)``), contrast
    (multiply by ``U(contrast_range)``), then one of {nothing, saturation,
    hue, both} in HSV, then a random channel permutation with probability
    1/2.

    MMPose quirks kept: "contrast" multiplies pixel values (no mean
    subtraction), and because MMPose tests ``contrast_mode == 1`` before and
    after the HSV step, contrast is applied twice (before and after) in half
    of the cases and never in the other half. Known difference: the HSV step
    is computed in float (tf.image) rather than OpenCV's 8-bit HSV, and a
    negative hue shift wraps around the hue circle instead of through
    uint8 arithmetic.

    Args:
        brightness_delta: maximum brightness offset.
        contrast_range: (low, high) contrast factors.
        saturation_range: (low, high) saturation factors.
        hue_delta: maximum hue shift in OpenCV hue units (degrees / 2).

    Example:

    >>> PhotometricDistortion().get_config()["hue_delta"]
    18
    """

    random = True

    def __init__(
        self,
        brightness_delta=32,
        contrast_range=(0.5, 1.5),
        saturation_range=(0.5, 1.5),
        hue_delta=18,
    ):
        self.brightness_delta = int(brightness_delta)
        self.contrast_range = tuple(float(v) for v in contrast_range)
        self.saturation_range = tuple(float(v) for v in saturation_range)
        self.hue_delta = int(hue_delta)
        for name in ("contrast_range", "saturation_range"):
            lo, hi = getattr(self, name)
            if not 0 <= lo <= hi:
                raise ValueError(
                    f"PhotometricDistortion expects {name}=(low, high) with "
                    f"0 <= low <= high. Received: {name}={(lo, hi)!r}"
                )

    def transform(self, results, seed):
        seeds = split_seed(seed, 10)
        coin = [uniform(s) < 0.5 for s in seeds[:4]]
        brightness_flag, contrast_mode, contrast_flag, swap_flag = coin
        hsv_mode = tf.random.stateless_uniform(
            [], seed=seeds[4], minval=0, maxval=4, dtype=tf.int32
        )
        beta = uniform(
            seeds[5], (), -self.brightness_delta, self.brightness_delta
        )
        alpha = uniform(seeds[6], (), *self.contrast_range)
        sat = uniform(seeds[7], (), *self.saturation_range)
        hue = tf.random.stateless_uniform(
            [],
            seed=seeds[8],
            minval=-self.hue_delta,
            maxval=max(self.hue_delta, 1 - self.hue_delta),
            dtype=tf.int32,
        )
        materialize_image(results)
        dtype = results["img"].dtype
        img = tf.cast(results["img"], tf.float32)
        img = tf.cond(
            brightness_flag, lambda: _convert(img, beta=beta), lambda: img
        )
        do_contrast = tf.logical_and(contrast_mode, contrast_flag)

        def contrast(img):
            return tf.cond(
                do_contrast, lambda: _convert(img, alpha=alpha), lambda: img
            )

        img = contrast(img)

        def hsv(img):
            rgb = tf.reverse(img, axis=[-1]) / 255.0
            h, s, v = tf.unstack(tf.image.rgb_to_hsv(rgb), axis=-1)
            s_new = tf.floor(tf.clip_by_value(s * 255.0 * sat, 0, 255)) / 255
            s = tf.where(tf.logical_or(hsv_mode == 1, hsv_mode == 3), s_new, s)
            h_new = tf.math.floormod(h + tf.cast(hue, tf.float32) / 180.0, 1.0)
            h = tf.where(tf.logical_or(hsv_mode == 2, hsv_mode == 3), h_new, h)
            out = tf.image.hsv_to_rgb(tf.stack([h, s, v], axis=-1))
            return tf.reverse(tf.round(out * 255.0), axis=[-1])

        img = tf.cond(hsv_mode > 0, lambda: hsv(img), lambda: img)
        img = contrast(img)
        perm = tf.random.experimental.stateless_shuffle(
            tf.range(3), seed=seeds[9]
        )
        img = tf.cond(
            swap_flag, lambda: tf.gather(img, perm, axis=-1), lambda: img
        )
        results["img"] = tf.cast(img, dtype)
        return results

    def get_config(self):
        return {
            "brightness_delta": self.brightness_delta,
            "contrast_range": self.contrast_range,
            "saturation_range": self.saturation_range,
            "hue_delta": self.hue_delta,
        }
