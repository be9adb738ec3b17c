"""Random half-body crops (upper or lower body)."""

from keraspose.datasets.transforms.base import BaseTransform
from keraspose.datasets.transforms.base import check_probability
from keraspose.datasets.transforms.base import split_seed
from keraspose.datasets.transforms.base import uniform
from keraspose.registry import register
from keraspose.utils.lazy_import import tf


def _ids_mask(ids, num_keypoints):
    ids = tf.cast(ids, tf.int32)
    return tf.reduce_any(
        tf.equal(tf.range(num_keypoints)[:, None], ids[None, :]), axis=1
    )


@register
class RandomHalfBody(BaseTransform):
    """Replaces the box by the box of the visible upper or lower body.

    MMPose's rule: with probability ``prob``, an instance with at least
    ``min_total_keypoints`` visible keypoints gets the box of its visible
    upper-body keypoints (chosen with probability
    ``upper_prioritized_prob``) or lower-body keypoints, falling back to the
    other half when one has too few keypoints. The new centre is the mean of
    the selected keypoints and the size their extent times ``padding``.
    Upper/lower keypoints come from the metainfo (``upper_body_ids``,
    ``lower_body_ids``, put in every sample by the dataset).

    Args:
        min_total_keypoints: visible keypoints needed to crop at all.
        min_upper_keypoints: visible upper-body keypoints needed for upper.
        min_lower_keypoints: visible lower-body keypoints needed for lower.
        padding: scale of the half-body box.
        prob: probability of a half-body crop.
        upper_prioritized_prob: probability of preferring the upper body.

    Example:

    >>> RandomHalfBody().get_config()["min_total_keypoints"]
    9
    """

    random = True

    def __init__(
        self,
        min_total_keypoints=9,
        min_upper_keypoints=2,
        min_lower_keypoints=3,
        padding=1.5,
        prob=0.3,
        upper_prioritized_prob=0.7,
    ):
        self.min_total_keypoints = int(min_total_keypoints)
        self.min_upper_keypoints = int(min_upper_keypoints)
        self.min_lower_keypoints = int(min_lower_keypoints)
        self.padding = float(padding)
        self.prob = check_probability(prob, "prob", "RandomHalfBody")
        self.upper_prioritized_prob = check_probability(
            upper_prioritized_prob, "upper_prioritized_prob", "RandomHalfBody"
        )

    def select(self, visible, upper_mask, lower_mask, u_apply, u_upper):
        """Deterministic selection given the two uniform draws.

        Returns:
            ``(mask (K,) bool, apply scalar bool)``.
        """
        vis = visible > 0
        total = tf.reduce_sum(tf.cast(visible, tf.float32))
        upper = tf.logical_and(vis, upper_mask)
        lower = tf.logical_and(vis, lower_mask)
        n_up = tf.reduce_sum(tf.cast(upper, tf.int32))
        n_low = tf.reduce_sum(tf.cast(lower, tf.int32))
        few_up = n_up < self.min_upper_keypoints
        few_low = n_low < self.min_lower_keypoints
        prefer_upper = u_upper < self.upper_prioritized_prob
        apply = tf.logical_and(
            total >= self.min_total_keypoints, u_apply <= self.prob
        )
        apply = tf.logical_and(
            apply, tf.logical_not(tf.logical_and(few_up, few_low))
        )
        use_upper = tf.where(
            few_low, True, tf.where(few_up, False, prefer_upper)
        )
        return tf.where(use_upper, upper, lower), apply

    def half_body_box(self, keypoints, mask):
        """Centre and padded extent of the masked keypoints."""
        m = tf.cast(mask, tf.float32)[:, None]
        n = tf.maximum(tf.reduce_sum(m), 1.0)
        center = tf.reduce_sum(keypoints * m, axis=0) / n
        big = tf.constant(3.0e38, tf.float32)
        lo = tf.reduce_min(tf.where(mask[:, None], keypoints, big), axis=0)
        hi = tf.reduce_max(tf.where(mask[:, None], keypoints, -big), axis=0)
        return center, (hi - lo) * self.padding

    def transform(self, results, seed):
        s1, s2 = split_seed(seed, 2)
        keypoints = tf.cast(results["keypoints"], tf.float32)
        num_keypoints = tf.shape(keypoints)[0]
        upper_mask = _ids_mask(results["upper_body_ids"], num_keypoints)
        lower_mask = _ids_mask(results["lower_body_ids"], num_keypoints)
        mask, apply = self.select(
            results["keypoints_visible"],
            upper_mask,
            lower_mask,
            uniform(s1),
            uniform(s2),
        )
        center, scale = self.half_body_box(keypoints, mask)
        results["bbox_center"] = tf.where(apply, center, results["bbox_center"])
        results["bbox_scale"] = tf.where(apply, scale, results["bbox_scale"])
        return results

    def get_config(self):
        return {
            "min_total_keypoints": self.min_total_keypoints,
            "min_upper_keypoints": self.min_upper_keypoints,
            "min_lower_keypoints": self.min_lower_keypoints,
            "padding": self.padding,
            "prob": self.prob,
            "upper_prioritized_prob": self.upper_prioritized_prob,
        }
