"""Random shift, scale and rotation of the person box."""

from keraspose.datasets.transforms.base import BaseTransform
from keraspose.datasets.transforms.base import check_probability
from keraspose.datasets.transforms.base import split_seed
from keraspose.datasets.transforms.base import truncnorm
from keraspose.datasets.transforms.base import uniform
from keraspose.registry import register
from keraspose.utils.lazy_import import tf


@register
class RandomBBoxTransform(BaseTransform):
    """Randomly shifts, rescales and rotates the box (MMPose's sampling).

    With truncated-normal draws ``t ~ N(0, 1)`` cut to [-1, 1]:
    the centre moves by ``t * shift_factor * bbox_scale`` with probability
    ``shift_prob``; the scale is multiplied by
    ``mu + t * sigma`` (``mu``, ``sigma`` = mid-point and half-range of
    ``scale_factor``) with probability ``scale_prob``; the rotation is
    ``t * rotate_factor`` degrees with probability ``rotate_prob``
    (``bbox_rotation``, used by :class:`TopdownAffine`).

    Args:
        shift_factor: shift as a fraction of the box size.
        shift_prob: probability of shifting.
        scale_factor: (min, max) scale factor.
        scale_prob: probability of rescaling.
        rotate_factor: rotation bound in degrees.
        rotate_prob: probability of rotating.

    Example:

    >>> RandomBBoxTransform().get_config()["rotate_factor"]
    80.0
    """

    random = True

    def __init__(
        self,
        shift_factor=0.16,
        shift_prob=0.3,
        scale_factor=(0.5, 1.5),
        scale_prob=1.0,
        rotate_factor=80.0,
        rotate_prob=0.6,
    ):
        owner = "RandomBBoxTransform"
        scale_factor = tuple(float(v) for v in scale_factor)
        if len(scale_factor) != 2 or not 0 < scale_factor[0] <= scale_factor[1]:
            raise ValueError(
                f"{owner} expects scale_factor=(min, max) with 0 < min <= "
                f"max. Received: scale_factor={scale_factor!r}"
            )
        self.shift_factor = float(shift_factor)
        self.shift_prob = check_probability(shift_prob, "shift_prob", owner)
        self.scale_factor = scale_factor
        self.scale_prob = check_probability(scale_prob, "scale_prob", owner)
        self.rotate_factor = float(rotate_factor)
        self.rotate_prob = check_probability(rotate_prob, "rotate_prob", owner)

    def transform(self, results, seed):
        s_t, s_shift, s_scale, s_rot = split_seed(seed, 4)
        t = truncnorm(s_t, [4])
        lo, hi = self.scale_factor
        offset = t[:2] * self.shift_factor
        offset = tf.where(uniform(s_shift) < self.shift_prob, offset, 0.0)
        scale = t[2] * ((hi - lo) * 0.5) + (hi + lo) * 0.5
        scale = tf.where(uniform(s_scale) < self.scale_prob, scale, 1.0)
        rotate = t[3] * self.rotate_factor
        rotate = tf.where(uniform(s_rot) < self.rotate_prob, rotate, 0.0)
        bbox_scale = results["bbox_scale"]
        results["bbox_center"] = results["bbox_center"] + offset * bbox_scale
        results["bbox_scale"] = bbox_scale * scale
        results["bbox_rotation"] = rotate
        return results

    def get_config(self):
        return {
            "shift_factor": self.shift_factor,
            "shift_prob": self.shift_prob,
            "scale_factor": self.scale_factor,
            "scale_prob": self.scale_prob,
            "rotate_factor": self.rotate_factor,
            "rotate_prob": self.rotate_prob,
        }
