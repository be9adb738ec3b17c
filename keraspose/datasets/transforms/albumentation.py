"""Native graph-mode versions of the albumentations transforms RTMPose uses."""

import functools
import math

from keraspose.datasets.transforms.base import BaseTransform
from keraspose.datasets.transforms.base import check_probability
from keraspose.datasets.transforms.base import split_seed
from keraspose.datasets.transforms.base import uniform
from keraspose.datasets.transforms.load_image import materialize_image
from keraspose.registry import register
from keraspose.utils.lazy_import import tf

#: Fixed-point shift of OpenCV's 8-bit box filter division.
_BOX_SHIFT = 23


def _blur_limit(value, owner):
    """albumentations' ``to_tuple(blur_limit, 3)`` plus validation."""
    if isinstance(value, int) and not isinstance(value, bool):
        limit = (min(3, value), max(3, value))
    elif (
        isinstance(value, list | tuple)
        and len(value) == 2
        and all(isinstance(v, int) and not isinstance(v, bool) for v in value)
    ):
        limit = (int(value[0]), int(value[1]))
    else:
        raise ValueError(
            f"{owner} expects blur_limit as an int or a (low, high) pair of "
            f"ints. Received: blur_limit={value!r}"
        )
    if not 1 <= limit[0] <= limit[1]:
        raise ValueError(
            f"{owner} expects 1 <= low <= high in blur_limit. Received: "
            f"blur_limit={value!r}"
        )
    return limit


def box_blur(img, ksize):
    """``cv2.blur(img, (ksize, ksize))`` of an (H, W, C) image.

    Mean over a ``ksize`` x ``ksize`` window anchored at its centre
    (``ksize // 2``), borders mirrored without repeating the edge pixel
    (``BORDER_REFLECT_101``). Integer images are rounded like OpenCV's 8-bit
    box filter: for ``ksize**2 * 255 < 2**16`` with OpenCV's fixed-point
    reciprocal, ``(sum + delta) * scale >> 23`` (the nearest integer for odd
    kernels; for even kernels it rounds some values below a half up, e.g.
    ``sum / 4 = n + 0.25`` becomes ``n + 1``, an OpenCV quirk kept),
    otherwise round half to even.

    Args:
        img: (H, W, C) image (uint8 or float).
        ksize: Python int.

    Returns:
        The blurred image, same shape and dtype.
    """
    k = int(ksize)
    if k == 1:
        return img
    lo, hi = k // 2, k - 1 - k // 2
    dtype = img.dtype
    acc = tf.int32 if dtype.is_integer else tf.float64
    x = tf.pad(tf.cast(img, acc), [[lo, hi], [lo, hi], [0, 0]], mode="REFLECT")
    # Separable window sums (exact for integers).
    h, w = tf.shape(img)[0], tf.shape(img)[1]
    x = tf.add_n([x[i : i + h] for i in range(k)])
    x = tf.add_n([x[:, j : j + w] for j in range(k)])
    area = k * k
    if not dtype.is_integer:
        return tf.ensure_shape(tf.cast(x / area, dtype), img.shape)
    if area * 255 < 2**16:
        scale = (1 << _BOX_SHIFT) / area
        div_scale = math.floor(scale)
        div_delta = area // 2
        if scale - div_scale < 0.5:
            div_delta += 1
        else:
            div_scale += 1
        x = tf.cast(x, tf.int64)
        out = tf.bitwise.right_shift((x + div_delta) * div_scale, _BOX_SHIFT)
    else:
        out = tf.round(tf.cast(x, tf.float64) / area)
    return tf.ensure_shape(tf.saturate_cast(out, dtype), img.shape)


def _batcher_pairs(n):
    """Comparators of Batcher's odd-even merge sort of ``n`` wires."""
    pairs = []

    def merge(lo, hi, r):
        step = r * 2
        if step < hi - lo:
            merge(lo, hi, step)
            merge(lo + r, hi, step)
            pairs.extend((i, i + r) for i in range(lo + r, hi - r, step))
        else:
            pairs.append((lo, lo + r))

    def sort(lo, hi):
        if hi > lo:
            mid = lo + (hi - lo) // 2
            sort(lo, mid)
            sort(mid + 1, hi)
            merge(lo, hi, 1)

    size = 1
    while size < n:
        size *= 2
    sort(0, size - 1)
    return [(a, b) for a, b in pairs if b < n]


@functools.cache
def _median_plan(k):
    """A pruned min/max network giving the median of a k x k window.

    The window's columns are sorted (shared between neighbouring windows),
    then its rows; in the resulting sorted-rows-and-columns matrix only the
    entries that can be the median remain candidates, and a sorting network
    over them is cut down to the operations the median depends on.

    Returns:
        ``(nodes, output, needed)``: nodes in evaluation order, each
        ``("row", i)`` (padded rows ``i:i+H``), ``("shift", node, j)``
        (columns ``j:j+W``), ``("min", a, b)`` or ``("max", a, b)``; the
        index of the median node; the indices it depends on (470 min/max
        operations for k=7, 156 for k=5, 20 for k=3).
    """
    nodes = []

    def add(node):
        nodes.append(node)
        return len(nodes) - 1

    def sort(wires):
        wires = list(wires)
        for a, b in _batcher_pairs(len(wires)):
            x, y = wires[a], wires[b]
            wires[a], wires[b] = add(("min", x, y)), add(("max", x, y))
        return wires

    columns = sort(add(("row", i)) for i in range(k))
    table = [sort(add(("shift", c, j)) for j in range(k)) for c in columns]
    rank = k * k // 2  # 0-based rank of the median
    # An entry (i, j) has >= (i+1)(j+1) entries <= it and >= (k-i)(k-j)
    # entries >= it; keep those that can hold the median.
    cand = [
        table[i][j]
        for i in range(k)
        for j in range(k)
        if (i + 1) * (j + 1) <= rank + 1 and (k - i) * (k - j) <= rank + 1
    ]
    below = sum(
        (k - i) * (k - j) > rank + 1 for i in range(k) for j in range(k)
    )
    output = sort(cand)[rank - below]
    # Keep only what the output depends on.
    needed = {output}
    for idx in range(len(nodes) - 1, -1, -1):
        if idx in needed:
            node = nodes[idx]
            if node[0] == "shift":
                needed.add(node[1])
            elif node[0] in ("min", "max"):
                needed.update(node[1:])
    return tuple(nodes), output, frozenset(needed)


def median_blur(img, ksize):
    """``cv2.medianBlur(img, ksize)`` of an (H, W, C) image.

    Median over a ``ksize`` x ``ksize`` window with replicated borders
    (OpenCV's ``medianBlur`` border). Computed with a min/max network (see
    :func:`_median_plan`): exact for any dtype.

    Args:
        img: (H, W, C) image.
        ksize: odd Python int.

    Returns:
        The filtered image, same shape and dtype.
    """
    k = int(ksize)
    if k == 1:
        return img
    r = k // 2
    h, w = tf.shape(img)[0], tf.shape(img)[1]
    x = tf.concat([tf.repeat(img[:1], r, 0), img, tf.repeat(img[-1:], r, 0)], 0)
    x = tf.concat([tf.repeat(x[:, :1], r, 1), x, tf.repeat(x[:, -1:], r, 1)], 1)
    nodes, output, needed = _median_plan(k)
    values = {}
    for idx, node in enumerate(nodes):
        if idx not in needed:
            continue
        kind = node[0]
        if kind == "row":
            values[idx] = x[node[1] : node[1] + h]
        elif kind == "shift":
            values[idx] = values[node[1]][:, node[2] : node[2] + w]
        elif kind == "min":
            values[idx] = tf.minimum(values[node[1]], values[node[2]])
        else:
            values[idx] = tf.maximum(values[node[1]], values[node[2]])
    return tf.ensure_shape(values[output], img.shape)


class _AlbuStep:
    """One albumentations transform: probability, config, ``apply``."""

    name = None

    def __init__(self, p=0.5, always_apply=False):
        self.p = check_probability(p, "p", self.name)
        self.always_apply = bool(always_apply)

    def __call__(self, img, seed):
        coin_seed, seed = split_seed(seed, 2)
        if self.always_apply:
            return self.apply(img, seed)
        return tf.cond(
            uniform(coin_seed) < self.p,
            lambda: self.apply(img, seed),
            lambda: img,
        )

    def get_config(self):
        return {"p": self.p, "always_apply": self.always_apply}


class _Blur(_AlbuStep):
    """albumentations 1.x ``Blur``: box blur, kernel from blur_limit."""

    name = "Blur"
    filter = staticmethod(box_blur)

    def __init__(self, blur_limit=7, always_apply=False, p=0.5):
        super().__init__(p, always_apply)
        self.blur_limit = _blur_limit(blur_limit, self.name)
        self.ksizes = list(range(self.blur_limit[0], self.blur_limit[1] + 1, 2))

    def apply(self, img, seed):
        if len(self.ksizes) == 1:
            return self.filter(img, self.ksizes[0])
        choice = tf.random.stateless_uniform(
            [], seed=seed, minval=0, maxval=len(self.ksizes), dtype=tf.int32
        )
        return tf.switch_case(
            choice,
            [functools.partial(self.filter, img, k) for k in self.ksizes],
        )

    def get_config(self):
        return {"blur_limit": self.blur_limit, **super().get_config()}


class _MedianBlur(_Blur):
    """albumentations 1.x ``MedianBlur``: odd kernel from blur_limit."""

    name = "MedianBlur"
    filter = staticmethod(median_blur)

    def __init__(self, blur_limit=7, always_apply=False, p=0.5):
        super().__init__(blur_limit, always_apply, p)
        if self.blur_limit[0] % 2 != 1 or self.blur_limit[1] % 2 != 1:
            raise ValueError(
                "MedianBlur expects odd blur limits. Received: "
                f"blur_limit={blur_limit!r}"
            )


class _CoarseDropout(_AlbuStep):
    """albumentations 1.3 ``CoarseDropout`` on the image (see Albumentation)."""

    name = "CoarseDropout"

    def __init__(
        self,
        max_holes=8,
        max_height=8,
        max_width=8,
        min_holes=None,
        min_height=None,
        min_width=None,
        fill_value=0,
        mask_fill_value=None,
        always_apply=False,
        p=0.5,
    ):
        super().__init__(p, always_apply)
        min_holes = max_holes if min_holes is None else min_holes
        min_height = max_height if min_height is None else min_height
        min_width = max_width if min_width is None else min_width
        if not (
            isinstance(min_holes, int)
            and isinstance(max_holes, int)
            and 0 < min_holes <= max_holes
        ):
            raise ValueError(
                "CoarseDropout expects ints 0 < min_holes <= max_holes. "
                f"Received: min_holes={min_holes!r}, max_holes={max_holes!r}"
            )
        sizes = {
            "max_height": max_height,
            "min_height": min_height,
            "max_width": max_width,
            "min_width": min_width,
        }
        kinds = {
            "int"
            if isinstance(v, int) and not isinstance(v, bool)
            else "float"
            if isinstance(v, float)
            else "other"
            for v in sizes.values()
        }
        if len(kinds) != 1 or "other" in kinds:
            raise ValueError(
                "CoarseDropout expects min/max height and width all ints "
                "(pixels) or all floats (fractions of the image). Received: "
                f"{sizes!r}"
            )
        self.fractional = kinds == {"float"}
        if self.fractional and not all(0 <= v < 1 for v in sizes.values()):
            raise ValueError(
                "CoarseDropout expects fractional sizes in [0, 1). "
                f"Received: {sizes!r}"
            )
        for dim in ("height", "width"):
            lo, hi = sizes[f"min_{dim}"], sizes[f"max_{dim}"]
            if not 0 < lo <= hi:
                raise ValueError(
                    f"CoarseDropout expects 0 < min_{dim} <= max_{dim}. "
                    f"Received: min_{dim}={lo!r}, max_{dim}={hi!r}"
                )
        if isinstance(fill_value, list | tuple):
            fill_value = tuple(fill_value)
        elif not isinstance(fill_value, int | float):
            raise ValueError(
                "CoarseDropout expects fill_value as a number or one number "
                f"per channel. Received: fill_value={fill_value!r}"
            )
        self.max_holes, self.min_holes = max_holes, min_holes
        self.max_height, self.min_height = max_height, min_height
        self.max_width, self.min_width = max_width, min_width
        self.fill_value = fill_value
        self.mask_fill_value = mask_fill_value

    def _randint(self, seed, lo, hi):
        """Uniform int in [lo, hi] (inclusive, like ``random.randint``)."""
        return tf.random.stateless_uniform(
            [], seed=seed, minval=lo, maxval=hi + 1, dtype=tf.int32
        )

    def holes(self, shape, seed):
        """``(active, y1, x1, y2, x2)`` int32 vectors of length max_holes."""
        h, w = shape[0], shape[1]
        seeds = split_seed(seed, 1 + 4 * self.max_holes)
        count = self._randint(seeds[0], self.min_holes, self.max_holes)
        rows = []
        for i in range(self.max_holes):
            s = seeds[1 + 4 * i : 5 + 4 * i]
            if self.fractional:
                hh = tf.cast(
                    tf.cast(h, tf.float32)
                    * uniform(s[0], (), self.min_height, self.max_height),
                    tf.int32,
                )
                hw = tf.cast(
                    tf.cast(w, tf.float32)
                    * uniform(s[1], (), self.min_width, self.max_width),
                    tf.int32,
                )
            else:
                hh = self._randint(s[0], self.min_height, self.max_height)
                hw = self._randint(s[1], self.min_width, self.max_width)
            y1 = self._randint(s[2], 0, tf.maximum(h - hh, 0))
            x1 = self._randint(s[3], 0, tf.maximum(w - hw, 0))
            on = tf.cast(i < count, tf.int32)
            rows.append(tf.stack([on, y1, x1, y1 + hh, x1 + hw]))
        return tf.unstack(tf.stack(rows), axis=1)

    def apply(self, img, seed):
        shape = tf.shape(img)
        active, y1, x1, y2, x2 = self.holes(shape, seed)
        active = tf.cast(active, tf.bool)
        ys = tf.range(shape[0])[None, :, None]
        xs = tf.range(shape[1])[None, None, :]
        inside = (
            active[:, None, None]
            & (ys >= y1[:, None, None])
            & (ys < y2[:, None, None])
            & (xs >= x1[:, None, None])
            & (xs < x2[:, None, None])
        )
        mask = tf.reduce_any(inside, axis=0)[..., None]
        fill = tf.cast(tf.constant(self.fill_value, tf.float64), img.dtype)
        return tf.where(mask, tf.broadcast_to(fill, tf.shape(img)), img)

    def get_config(self):
        return {
            "max_holes": self.max_holes,
            "max_height": self.max_height,
            "max_width": self.max_width,
            "min_holes": self.min_holes,
            "min_height": self.min_height,
            "min_width": self.min_width,
            "fill_value": self.fill_value,
            "mask_fill_value": self.mask_fill_value,
            **super().get_config(),
        }


_STEPS = {cls.name: cls for cls in (_Blur, _MedianBlur, _CoarseDropout)}


@register
class Albumentation(BaseTransform):
    """MMPose's ``Albumentation`` wrapper with native graph-mode transforms.

    Takes MMPose's config form (a list of albumentations transform dicts)
    and runs each transform in order with its probability ``p`` (or always,
    with ``always_apply=True``), as ``albumentations.Compose`` does. The
    transforms RTMPose's configs use are implemented natively with
    albumentations 1.x semantics:

    * ``Blur(blur_limit=7)``: box blur (``cv2.blur``, reflect-101 border)
      with a kernel drawn uniformly from ``range(low, high + 1, 2)`` of
      ``blur_limit`` (an int ``n`` means ``(3, n)``).
    * ``MedianBlur(blur_limit=7)``: median filter (``cv2.medianBlur``,
      replicated border), odd limits only.
    * ``CoarseDropout(max_holes=8, max_height=8, max_width=8, ...)``:
      ``randint(min_holes, max_holes)`` rectangles set to ``fill_value``;
      sizes in pixels (ints, ``randint``) or fractions of the image (floats,
      ``int(size * U(min, max))``), top-left corner uniform so the hole fits.

    Only the image changes: MMPose passes just the image to albumentations,
    so keypoints are kept even inside a dropped-out hole. Known difference:
    with integer hole sizes larger than the image, albumentations fails;
    here the hole is clipped to the image.

    Outputs equal OpenCV's for a given kernel (including OpenCV's 8-bit box
    filter rounding); random draws use the stateless seed.

    Reference: Buslaev et al., "Albumentations: Fast and Flexible Image
    Augmentations", Information 2020. RTMPose (Jiang et al.,
    arXiv:2303.07399) uses Blur, MedianBlur and CoarseDropout.

    Args:
        transforms: list of dicts ``dict(type="Blur", p=0.1)``; supported
            types: Blur, MedianBlur, CoarseDropout.
        keymap: ``{results key: albumentations key}``; default
            ``{"img": "image"}``. Only the ``"image"`` target is supported.

    Example:

    >>> t = Albumentation([dict(type="Blur", p=0.1)])
    >>> t.get_config()["transforms"][0]["blur_limit"]
    (3, 7)
    """

    random = True

    def __init__(self, transforms, keymap=None):
        if not isinstance(transforms, list | tuple):
            raise TypeError(
                "Albumentation expects a list of albumentations transform "
                f"dicts. Received: {type(transforms).__name__}"
            )
        self.steps = []
        for i, cfg in enumerate(transforms):
            if not isinstance(cfg, dict) or "type" not in cfg:
                raise ValueError(
                    "Albumentation expects each transform as a dict with a "
                    f"`type` key. Received at index {i}: {cfg!r}"
                )
            args = dict(cfg)
            name = args.pop("type")
            if name not in _STEPS:
                raise ValueError(
                    f"Albumentation: unsupported albumentations transform "
                    f"{name!r}. Supported: {', '.join(sorted(_STEPS))}."
                )
            try:
                self.steps.append(_STEPS[name](**args))
            except TypeError as e:
                raise TypeError(
                    f"Albumentation: bad arguments for {name}: {e}"
                ) from e
        keymap = {"img": "image"} if not keymap else dict(keymap)
        targets = list(keymap.values())
        if targets != ["image"] or not isinstance(next(iter(keymap)), str):
            raise ValueError(
                "Albumentation supports image-only transforms: keymap must "
                "map one results key to 'image'. Received: "
                f"keymap={keymap!r}"
            )
        self.keymap = keymap
        self._key = next(iter(keymap))

    def transform(self, results, seed):
        if self._key == "img":
            materialize_image(results)
        if self._key not in results:
            raise KeyError(
                f"Albumentation needs results[{self._key!r}] (keymap "
                f"{self.keymap!r}). Received keys: {sorted(results)}"
            )
        img = results[self._key]
        seeds = split_seed(seed, max(len(self.steps), 2))
        for step, s in zip(self.steps, seeds):
            img = step(img, s)
        results[self._key] = img
        return results

    def get_config(self):
        return {
            "transforms": [
                {"type": step.name, **step.get_config()} for step in self.steps
            ],
            "keymap": dict(self.keymap),
        }
