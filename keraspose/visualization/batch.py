"""Renders a batch of the tf.data pipeline as an image grid."""

import math
import os
from collections.abc import Mapping

import numpy as np

from keraspose.visualization.draw import _as_image
from keraspose.visualization.draw import _resolve_metainfo
from keraspose.visualization.draw import cv2
from keraspose.visualization.draw import default_radius_thickness
from keraspose.visualization.draw import draw_pose
from keraspose.visualization.draw import to_numpy

__all__ = ["CAPTION_HEIGHT", "GAP", "decode_heatmaps_argmax", "render_batch"]

#: Height in pixels of the caption band above each tile.
CAPTION_HEIGHT = 18
#: Pixels between tiles of the grid.
GAP = 4
_BACKGROUND = (32, 32, 32)
_TEXT = (235, 235, 235)
_TEXT_FLIP = (0, 220, 255)  # BGR yellow, makes flipped samples stand out


def _split(batch):
    if isinstance(batch, Mapping):
        return batch, {}
    if isinstance(batch, list | tuple) and batch:
        x = batch[0]
        y = batch[1] if len(batch) > 1 and batch[1] is not None else {}
        if isinstance(x, Mapping) and isinstance(y, Mapping):
            return x, y
    raise TypeError(
        "render_batch expects a batch `(x, y)` or `x` from the keraspose "
        "data pipeline, with x a dict holding 'images'. Received: "
        f"{type(batch).__name__}"
    )


def _heatmaps_channels_last(heatmaps, num_keypoints):
    """(B, h, w, K) heatmaps; (B, K, h, w) is transposed when recognised."""
    if heatmaps.ndim != 4:
        raise ValueError(
            "render_batch expects heatmaps of shape (B, h, w, K). Received "
            f"{heatmaps.shape}."
        )
    if (
        num_keypoints is not None
        and heatmaps.shape[-1] != num_keypoints
        and heatmaps.shape[1] == num_keypoints
    ):
        heatmaps = heatmaps.transpose(0, 2, 3, 1)
    return heatmaps


def decode_heatmaps_argmax(heatmaps, input_size):
    """Keypoints from heatmaps by argmax, in input-image pixels.

    The position of each keypoint's maximum is multiplied by the stride
    ``input_size / heatmap_size`` (MSRA heatmaps put keypoint ``x`` at
    heatmap pixel ``round(x / stride)``). Keypoints whose heatmap is
    everywhere <= 0 get visibility 0.

    Args:
        heatmaps: (h, w, K) or (B, h, w, K) heatmaps.
        input_size: ``(W, H)`` of the image the heatmaps belong to.

    Returns:
        tuple: ``(keypoints, visible)``, (..., K, 2) float32 and (..., K)
        float32.

    Example:
        >>> hm = np.zeros((8, 6, 1), np.float32)
        >>> hm[2, 3, 0] = 1.0
        >>> kpts, vis = decode_heatmaps_argmax(hm, (24, 32))
        >>> kpts.tolist(), vis.tolist()
        ([[12.0, 8.0]], [1.0])
    """
    hm = np.asarray(to_numpy(heatmaps), np.float32)
    h, w, k = hm.shape[-3:]
    flat = np.moveaxis(hm, -1, -3).reshape(*hm.shape[:-3], k, h * w)
    idx = flat.argmax(-1)
    peak = np.take_along_axis(flat, idx[..., None], -1)[..., 0]
    sx = float(input_size[0]) / w
    sy = float(input_size[1]) / h
    kpts = np.stack([(idx % w) * sx, (idx // w) * sy], -1).astype(np.float32)
    return kpts, (peak > 0).astype(np.float32)


def _heatmap_panel(crop, heatmap, scale):
    """Colour-mapped max-over-keypoints heatmap blended over the crop.

    The heatmap is warped so that heatmap pixel ``j`` lands on input pixel
    ``j * stride`` (the MSRA encoding), then upsampled like the crop.
    """
    hh, hw = heatmap.shape
    out_h, out_w = crop.shape[:2]
    sx = out_w / hw  # stride * scale
    sy = out_h / hh
    off = 0.5 * scale - 0.5
    mat = np.array([[sx, 0, off], [0, sy, off]], np.float64)
    warped = cv2.warpAffine(
        np.ascontiguousarray(heatmap, np.float32),
        mat,
        (out_w, out_h),
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_REPLICATE,
    )
    warped = np.clip(np.nan_to_num(warped), 0.0, None)
    warped = warped / max(1.0, float(warped.max(initial=0.0)))
    heat = cv2.applyColorMap(
        np.round(warped * 255).astype(np.uint8), cv2.COLORMAP_JET
    )
    return cv2.addWeighted(crop, 0.5, heat, 0.5, 0)


def _caption(band, text, color):
    cv2.putText(
        band,
        text,
        (3, CAPTION_HEIGHT - 5),
        cv2.FONT_HERSHEY_SIMPLEX,
        0.4,
        color,
        1,
        cv2.LINE_AA,
    )


def render_batch(
    batch,
    metainfo,
    path=None,
    max_samples=16,
    cols=4,
    heatmap_overlay=True,
    scale=2,
    channel_order="bgr",
    kpt_thr=0.5,
):
    """Draws a pipeline batch as a grid of annotated crops.

    For each of the first ``max_samples`` samples a tile holds a caption
    band (index in the batch, ``x["id"]`` and "flip" when ``x["flip"]``),
    the crop ``x["images"]`` upscaled by ``scale`` with its keypoints drawn
    (:func:`draw_pose`) and, with ``heatmap_overlay``, a second panel with
    the max over keypoints of ``y["heatmaps"]`` as a JET colour map blended
    over the crop.

    Keypoints are ``x["transformed_keypoints"]`` (``PackPoseInputs(
    pack_transformed=True)``); without them they are decoded from the
    heatmaps (argmax x stride, :func:`decode_heatmaps_argmax`). Visibility
    is ``x["keypoints_visible"]`` when packed (``meta_keys``), else
    ``y["keypoint_weights"]`` (0 for unlabelled keypoints and those the
    codec dropped outside the crop), else all visible.

    Grid layout: tiles are ``CAPTION_HEIGHT + H * scale`` high and
    ``P * W * scale`` wide (``P`` = 2 panels with a heatmap overlay, else
    1), ``min(cols, n)`` per row, ``GAP`` pixels apart. The grid is
    ``(rows * tile_h + (rows - 1) * GAP, c * tile_w + (c - 1) * GAP, 3)``.

    Args:
        batch: ``(x, y)`` (or ``x``) from ``dataset.to_tf_dataset(...)``;
            NumPy arrays or tensors. ``x["images"]`` is (B, H, W, 3).
            Heatmaps are (B, h, w, K) (``(B, K, h, w)`` is recognised when
            the metainfo gives K).
        metainfo: dataset metainfo (parsed, or a name such as ``"coco"``),
            or None for red keypoints without links.
        path: where to write the grid as an image (PNG recommended); its
            folder is created. Nothing is written when None.
        max_samples: draw at most this many samples of the batch.
        cols: tiles per row.
        heatmap_overlay: add the heatmap panel when heatmaps are present.
        scale: integer upscaling of the crops, for legible drawings.
        channel_order: ``"bgr"`` (the pipeline's order) or ``"rgb"``, the
            order of ``x["images"]``.
        kpt_thr: visibility threshold for drawing a keypoint.

    Returns:
        np.ndarray: the grid, (H', W', 3) uint8 in **BGR** order (ready for
        ``cv2.imwrite``; use ``grid[..., ::-1]`` for matplotlib).

    Raises:
        TypeError: the batch is not ``(x, y)`` or ``x``.
        KeyError: ``x`` has no ``"images"``.
        OSError: ``path`` could not be written.

    Example:
        >>> x = {"images": np.zeros((2, 32, 24, 3), np.uint8),
        ...      "transformed_keypoints": np.full((2, 17, 2), 10.0)}
        >>> render_batch((x, {}), "coco", scale=1).shape
        (50, 52, 3)
    """
    if channel_order not in ("bgr", "rgb"):
        raise ValueError(
            "render_batch expects channel_order='bgr' or 'rgb'. Received: "
            f"channel_order={channel_order!r}"
        )
    scale = int(scale)
    if scale < 1 or int(max_samples) < 1 or int(cols) < 1:
        raise ValueError(
            "render_batch expects scale, max_samples and cols >= 1. "
            f"Received: scale={scale}, max_samples={max_samples}, "
            f"cols={cols}"
        )
    x, y = _split(batch)
    if "images" not in x:
        raise KeyError(
            "render_batch needs x['images'] (PackPoseInputs output). "
            f"Received keys: {sorted(x)}"
        )

    def get(key):
        value = y.get(key, x.get(key))
        return None if value is None else to_numpy(value)

    images = to_numpy(x["images"])
    batched = images.ndim == 4
    if not batched:  # a single unbatched sample
        images = images[None]

    def field(key):
        value = get(key)
        if value is not None and not batched:
            value = value[None]
        return value

    meta = _resolve_metainfo(metainfo)
    num_kpts = None if meta is None else int(meta["num_keypoints"])
    n = min(len(images), int(max_samples))
    height, width = images.shape[1:3]

    heatmaps = field("heatmaps")
    if heatmaps is not None:
        heatmaps = _heatmaps_channels_last(heatmaps, num_kpts)
    keypoints = field("transformed_keypoints")
    visible = field("keypoints_visible")
    if visible is None:
        visible = field("keypoint_weights")
    if keypoints is None and heatmaps is not None:
        keypoints, decoded_vis = decode_heatmaps_argmax(
            heatmaps, (width, height)
        )
        visible = decoded_vis if visible is None else visible * decoded_vis
    ids = field("id")
    flips = field("flip")

    panels = 2 if heatmap_overlay and heatmaps is not None else 1
    tile_h = CAPTION_HEIGHT + height * scale
    tile_w = panels * width * scale
    ncols = min(int(cols), n)
    nrows = math.ceil(n / ncols)
    grid = np.empty(
        (
            nrows * tile_h + (nrows - 1) * GAP,
            ncols * tile_w + (ncols - 1) * GAP,
            3,
        ),
        np.uint8,
    )
    grid[...] = _BACKGROUND
    radius, thickness = default_radius_thickness(
        (height * scale, width * scale)
    )
    for i in range(n):
        crop = _as_image(images[i])
        if channel_order == "rgb":
            crop = crop[..., ::-1]
        crop = cv2.resize(
            np.ascontiguousarray(crop),
            (width * scale, height * scale),
            interpolation=cv2.INTER_LINEAR,
        )
        drawn = crop
        if keypoints is not None:
            # Pixel centre u of the crop lands on (u + 0.5) * scale - 0.5.
            kpts = (np.asarray(keypoints[i], np.float64) + 0.5) * scale - 0.5
            drawn = draw_pose(
                crop,
                kpts,
                None if visible is None else visible[i],
                meta,
                radius=radius,
                thickness=thickness,
                kpt_thr=kpt_thr,
                channel_order="bgr",
            )
        tile = [drawn]
        if panels == 2:
            tile.append(_heatmap_panel(crop, heatmaps[i].max(-1), scale))
        r, c = divmod(i, ncols)
        top = r * (tile_h + GAP)
        left = c * (tile_w + GAP)
        grid[top + CAPTION_HEIGHT : top + tile_h, left : left + tile_w] = (
            np.concatenate(tile, axis=1)
        )
        flipped = flips is not None and bool(np.asarray(flips[i]).any())
        text = f"{i}" + (f" id {int(ids[i])}" if ids is not None else "")
        text += " flip" if flipped else ""
        band = grid[top : top + CAPTION_HEIGHT, left : left + tile_w].copy()
        _caption(band, text, _TEXT_FLIP if flipped else _TEXT)
        grid[top : top + CAPTION_HEIGHT, left : left + tile_w] = band

    if path is not None:
        path = os.fspath(path)
        folder = os.path.dirname(path)
        if folder:
            os.makedirs(folder, exist_ok=True)
        if not cv2.imwrite(path, grid):
            raise OSError(
                f"render_batch could not write {path!r} (check the folder "
                "and that the extension is an image format, e.g. .png)."
            )
    return grid
