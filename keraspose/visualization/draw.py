"""Drawing keypoints and skeletons on images with OpenCV.

Colour convention: as in MMPose, the ``keypoint_colors`` and
``skeleton_link_colors`` of a dataset's metainfo are **RGB** triples. (Its
``PoseLocalVisualizer`` docstring says BGR, but the visualizer draws them
with matplotlib on an RGB image, so COCO's left limbs, ``(0, 255, 0)``, are
green and its right limbs, ``(255, 128, 0)``, orange.) :func:`draw_pose`
keeps that look on both channel orders: with ``channel_order="bgr"`` (the
order of the keraspose data pipeline and of ``cv2.imwrite``) the colours
are reversed before drawing.
"""

from collections.abc import Mapping

import numpy as np

from keraspose.utils.lazy_import import LazyModule

cv2 = LazyModule("cv2")

__all__ = ["default_radius_thickness", "draw_pose", "to_numpy"]

#: Keypoint colour (RGB) without metainfo: MMPose's visualizer default, red.
DEFAULT_KEYPOINT_COLOR = (255, 0, 0)
#: Link colour (RGB) for metainfo with links but no link colours.
DEFAULT_LINK_COLOR = (96, 96, 255)

# Sub-pixel precision of cv2 drawing calls (coordinates are scaled by 2**4).
_SHIFT = 4


def to_numpy(value):
    """Converts a tensor (TensorFlow, JAX, PyTorch) or array to NumPy.

    Args:
        value: an array-like.

    Returns:
        np.ndarray: the values on the host.

    Example:
        >>> to_numpy([1, 2]).tolist()
        [1, 2]
    """
    if isinstance(value, np.ndarray):
        return value
    if hasattr(value, "detach"):  # torch
        value = value.detach().cpu()
    if hasattr(value, "numpy") and not hasattr(value, "__array__"):
        value = value.numpy()
    return np.asarray(value)


def default_radius_thickness(shape):
    """Keypoint radius and link thickness that suit an image size.

    About 1% of the longer side for the radius (at least 2 px) and half of
    it for the line thickness (at least 1 px).

    Args:
        shape: the image shape ``(H, W, ...)``.

    Returns:
        tuple: ``(radius, thickness)`` in pixels.

    Example:
        >>> default_radius_thickness((512, 384, 3))
        (5, 2)
    """
    longest = max(int(shape[0]), int(shape[1]))
    radius = max(2, int(round(longest / 100)))
    thickness = max(1, int(round(radius / 2)))
    return radius, thickness


def _resolve_metainfo(metainfo):
    if metainfo is None or (
        isinstance(metainfo, Mapping) and "keypoint_colors" in metainfo
    ):
        return metainfo
    from keraspose.datasets.metainfo import load_metainfo

    return load_metainfo(metainfo)


def _colors(colors, count, default, what):
    if colors is None:
        return np.tile(np.asarray(default, np.uint8), (count, 1))
    colors = np.asarray(colors, np.uint8).reshape(-1, 3)
    if len(colors) != count:
        raise ValueError(
            f"draw_pose: the metainfo has {len(colors)} {what} colours but "
            f"{count} {what}s are drawn. Pass the metainfo of the dataset "
            "the keypoints come from."
        )
    return colors


def _fixed(point):
    return tuple(int(round(float(c) * (1 << _SHIFT))) for c in point)


def _as_image(image):
    image = to_numpy(image)
    if image.ndim == 2:
        image = np.repeat(image[..., None], 3, axis=-1)
    if image.ndim != 3 or image.shape[-1] not in (1, 3):
        raise ValueError(
            "draw_pose expects an (H, W, 3) or (H, W) image. Received "
            f"shape {image.shape}."
        )
    if image.shape[-1] == 1:
        image = np.repeat(image, 3, axis=-1)
    if image.dtype != np.uint8:
        image = image.astype(np.float32)
        if image.size and np.nanmax(image) <= 1.0:
            image = image * 255.0
        image = np.clip(np.nan_to_num(image), 0, 255).astype(np.uint8)
    return np.ascontiguousarray(image).copy()


def draw_pose(
    image,
    keypoints,
    keypoints_visible=None,
    metainfo=None,
    radius=None,
    thickness=None,
    kpt_thr=0.5,
    channel_order="bgr",
):
    """Draws keypoints and skeleton links of one or more instances.

    Links come first (metainfo link colours), then a filled disc per
    keypoint (keypoint colours), so discs sit on top of lines. A keypoint is
    skipped when its visibility is below ``kpt_thr`` or a coordinate is not
    finite; a link is skipped when either end is skipped or lies outside
    the image (as in MMPose's ``PoseLocalVisualizer``). Coordinates are in
    pixels with the centre of pixel ``(i, j)`` at ``x = j, y = i``; they are
    drawn with sub-pixel precision and anti-aliasing.

    Without ``metainfo`` every keypoint is red and no links are drawn.

    Args:
        image: (H, W, 3) or (H, W) image, NumPy or a tensor; uint8, or
            float in [0, 1] or [0, 255]. It is not modified.
        keypoints: (K, 2) or (N, K, 2) pixel coordinates; a last axis of 3
            is read as ``(x, y, visibility)``.
        keypoints_visible: (K,) or (N, K) visibility or score; all visible
            when None (unless ``keypoints`` carries it).
        metainfo: parsed metainfo (:func:`keraspose.datasets.load_metainfo`)
            or anything it accepts (e.g. ``"coco"``); its
            ``keypoint_colors``, ``skeleton_links`` and
            ``skeleton_link_colors`` are RGB, as in MMPose.
        radius: keypoint disc radius in pixels; scaled to the image size
            when None (see :func:`default_radius_thickness`).
        thickness: link thickness in pixels; scaled when None.
        kpt_thr: visibility threshold for drawing a keypoint.
        channel_order: ``"bgr"`` or ``"rgb"``, the channel order of
            ``image``; the returned image has the same order.

    Returns:
        np.ndarray: a new (H, W, 3) uint8 image with the pose drawn.

    Raises:
        ValueError: bad shapes, an unknown ``channel_order``, or colours
            that do not match the number of keypoints / links.
        ImportError: OpenCV is not installed.

    Example:
        >>> img = np.zeros((64, 48, 3), np.uint8)
        >>> out = draw_pose(img, [[10.0, 20.0], [30.0, 40.0]], radius=3)
        >>> out[20, 10].tolist()  # red in BGR
        [0, 0, 255]
    """
    if channel_order not in ("bgr", "rgb"):
        raise ValueError(
            "draw_pose expects channel_order='bgr' or 'rgb'. Received: "
            f"channel_order={channel_order!r}"
        )
    canvas = _as_image(image)
    kpts = np.asarray(to_numpy(keypoints), np.float64)
    if kpts.ndim == 2:
        kpts = kpts[None]
    if kpts.ndim != 3 or kpts.shape[-1] not in (2, 3):
        raise ValueError(
            "draw_pose expects keypoints of shape (K, 2) or (N, K, 2) (or a "
            f"last axis of 3 with visibility). Received {kpts.shape}."
        )
    num, k = kpts.shape[:2]
    if keypoints_visible is not None:
        vis = np.asarray(to_numpy(keypoints_visible), np.float64)
        if vis.size not in (k, num * k):
            raise ValueError(
                f"draw_pose: keypoints_visible has shape {vis.shape}; "
                f"expected ({k},) or ({num}, {k}) for keypoints of shape "
                f"{kpts.shape}."
            )
        vis = np.broadcast_to(vis.reshape(-1, k), (num, k))
    elif kpts.shape[-1] == 3:
        vis = kpts[..., 2]
    else:
        vis = np.ones((num, k))
    kpts = kpts[..., :2]

    meta = _resolve_metainfo(metainfo)
    if meta is None:
        kpt_colors = _colors(None, k, DEFAULT_KEYPOINT_COLOR, "keypoint")
        links = []
        link_colors = np.zeros((0, 3), np.uint8)
    else:
        kpt_colors = _colors(
            meta.get("keypoint_colors"), k, DEFAULT_KEYPOINT_COLOR, "keypoint"
        )
        links = [
            tuple(int(i) for i in link)
            for link in meta.get("skeleton_links", [])
        ]
        link_colors = _colors(
            meta.get("skeleton_link_colors") if len(links) else None,
            len(links),
            DEFAULT_LINK_COLOR,
            "link",
        )
        for a, b in links:
            if not (0 <= a < k and 0 <= b < k):
                raise ValueError(
                    f"draw_pose: skeleton link ({a}, {b}) refers to a "
                    f"keypoint outside 0..{k - 1}; the metainfo does not "
                    f"match the {k} keypoints."
                )
    if channel_order == "bgr":
        kpt_colors = kpt_colors[:, ::-1]
        link_colors = link_colors[:, ::-1]

    default_r, default_t = default_radius_thickness(canvas.shape)
    radius = default_r if radius is None else max(1, int(round(radius)))
    thickness = (
        default_t if thickness is None else max(1, int(round(thickness)))
    )
    h, w = canvas.shape[:2]
    for inst_kpts, inst_vis in zip(kpts, vis):
        ok = (inst_vis >= kpt_thr) & np.isfinite(inst_kpts).all(-1)
        inside = (
            ok
            & (inst_kpts[:, 0] >= 0)
            & (inst_kpts[:, 0] <= w - 1)
            & (inst_kpts[:, 1] >= 0)
            & (inst_kpts[:, 1] <= h - 1)
        )
        for (a, b), color in zip(links, link_colors):
            if not (inside[a] and inside[b]):
                continue
            cv2.line(
                canvas,
                _fixed(inst_kpts[a]),
                _fixed(inst_kpts[b]),
                tuple(int(c) for c in color),
                thickness,
                cv2.LINE_AA,
                _SHIFT,
            )
        for i in np.flatnonzero(ok):
            cv2.circle(
                canvas,
                _fixed(inst_kpts[i]),
                radius << _SHIFT,
                tuple(int(c) for c in kpt_colors[i]),
                -1,
                cv2.LINE_AA,
                _SHIFT,
            )
    return canvas
