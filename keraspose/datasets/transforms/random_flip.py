"""Random image flip that keeps keypoint identities."""

from keraspose.datasets.transforms.base import BaseTransform
from keraspose.datasets.transforms.base import uniform
from keraspose.registry import register
from keraspose.utils.lazy_import import tf

_DIRECTIONS = ("horizontal", "vertical", "diagonal")


def flip_sample(results, direction, take=True):
    """Flips image, boxes and keypoints of one sample (MMPose's formulas).

    Coordinates map as ``x -> w - 1 - x`` (and/or ``y -> h - 1 - y``);
    keypoints and visibilities are reordered by ``results["flip_indices"]``
    for horizontal and vertical flips.

    Args:
        results: the sample dict.
        direction: "horizontal", "vertical" or "diagonal".
        take: scalar bool tensor; where False the sample is returned as is.
    """
    out = dict(results)
    take = tf.convert_to_tensor(take)
    if "input_size" in results:
        # MMPose flips within ``input_size`` when a warp set it (bottom-up
        # samples) and unpacks that (w, h) pair as ``h, w``: a quirk kept
        # (no effect for square inputs).
        size = tf.cast(results["input_size"], tf.float32)
        h, w = size[0], size[1]
    else:
        hw = tf.cast(results["img_shape"], tf.float32)
        h, w = hw[0], hw[1]
    horizontal = direction in ("horizontal", "diagonal")
    vertical = direction in ("vertical", "diagonal")
    axes = [1] * horizontal + [0] * vertical

    def pick(new, old):
        return tf.where(take, new, old)

    if "img" in results:
        img = results["img"]
        out["img"] = tf.cond(
            take, lambda: tf.reverse(img, axis=axes), lambda: img
        )
    else:  # deferred decoding (LoadImage(lazy_decode=True)): record it
        if horizontal:
            out["img_flip_h"] = tf.math.logical_xor(results["img_flip_h"], take)
        if vertical:
            out["img_flip_v"] = tf.math.logical_xor(results["img_flip_v"], take)
    if "bbox" in results and results["bbox"].shape[-1] == 2:
        # corner boxes (N, 4, 2) of BottomupRandomAffine: flip the points
        corners = tf.cast(results["bbox"], tf.float32)
        cx, cy = tf.unstack(corners, axis=-1)
        if horizontal:
            cx = w - cx - 1
        if vertical:
            cy = h - cy - 1
        out["bbox"] = pick(tf.stack([cx, cy], axis=-1), corners)
    elif "bbox" in results:
        bbox = tf.cast(results["bbox"], tf.float32)
        x1, y1, x2, y2 = tf.unstack(bbox, axis=-1)
        if horizontal:
            x1, x2 = w - x2 - 1, w - x1 - 1
        if vertical:
            y1, y2 = h - y2 - 1, h - y1 - 1
        out["bbox"] = pick(tf.stack([x1, y1, x2, y2], axis=-1), bbox)
    if "bbox_center" in results:
        center = results["bbox_center"]
        cx, cy = tf.unstack(center, axis=-1)
        if horizontal:
            cx = w - cx - 1
        if vertical:
            cy = h - cy - 1
        out["bbox_center"] = pick(tf.stack([cx, cy], axis=-1), center)
    if "keypoints" in results:
        kpts = results["keypoints"]
        vis = results.get("keypoints_visible")
        new_kpts, new_vis = kpts, vis
        if direction != "diagonal":
            idx = results["flip_indices"]
            new_kpts = tf.gather(kpts, idx, axis=-2)
            if vis is not None:
                new_vis = tf.gather(vis, idx, axis=-1)
        x, y = new_kpts[..., 0], new_kpts[..., 1]
        if horizontal:
            x = w - 1 - x
        if vertical:
            y = h - 1 - y
        out["keypoints"] = pick(tf.stack([x, y], axis=-1), kpts)
        if vis is not None:
            out["keypoints_visible"] = pick(new_vis, vis)
    return out


@register
class RandomFlip(BaseTransform):
    """Flips the image, box and keypoints with probability ``prob``.

    Keypoints swap left/right identities through the dataset's
    ``flip_indices`` (from the metainfo's ``swap`` entries), as in MMPose.
    Multi-instance (bottom-up) samples flip all instances: keypoints
    (N, K, 2), boxes (N, 4) or corner boxes (N, 4, 2); the heatmap mask
    follows ``flip`` / ``flip_direction`` in ``BottomupGetHeatmapMask``.
    Coordinates flip within ``input_size`` when the sample has one (after
    a warp), else within ``img_shape``, as in MMPose.
    Adds ``flip`` (bool) and ``flip_direction`` (string, "" if none).

    Args:
        prob: flip probability, or one probability per direction.
        direction: "horizontal", "vertical", "diagonal" or a list of them.

    Example:

    >>> RandomFlip(prob=0.5, direction="horizontal").get_config()["prob"]
    0.5
    """

    random = True

    def __init__(self, prob=0.5, direction="horizontal"):
        directions = [direction] if isinstance(direction, str) else direction
        if not directions or any(d not in _DIRECTIONS for d in directions):
            raise ValueError(
                f"RandomFlip expects direction in {_DIRECTIONS} (or a list "
                f"of them). Received: direction={direction!r}"
            )
        probs = prob if isinstance(prob, list | tuple) else None
        if probs is not None:
            if len(probs) != len(directions) or not 0 <= sum(probs) <= 1:
                raise ValueError(
                    "RandomFlip expects one probability per direction, "
                    "summing to at most 1. Received: "
                    f"prob={prob!r}, direction={direction!r}"
                )
            probs = [float(p) for p in probs]
        else:
            if not isinstance(prob, int | float) or not 0 <= prob <= 1:
                raise ValueError(
                    "RandomFlip expects prob in [0, 1]. Received: "
                    f"prob={prob!r}"
                )
            probs = [float(prob) / len(directions)] * len(directions)
        self.prob = prob if isinstance(prob, list | tuple) else float(prob)
        self.direction = direction
        self._directions = list(directions)
        self._probs = probs

    def transform(self, results, seed):
        u = uniform(seed)
        choice = tf.constant(-1)
        edge = 0.0
        for i, p in enumerate(self._probs):
            hit = tf.logical_and(u >= edge, u < edge + p)
            choice = tf.where(hit, i, choice)
            edge += p
        out = results
        for i, d in enumerate(self._directions):
            out = flip_sample(out, d, tf.equal(choice, i))
        out["flip"] = choice >= 0
        names = tf.constant([*self._directions, ""])
        out["flip_direction"] = tf.gather(
            names, tf.where(choice >= 0, choice, len(self._directions))
        )
        return out

    def get_config(self):
        return {"prob": self.prob, "direction": self.direction}
