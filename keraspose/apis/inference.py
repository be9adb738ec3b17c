"""Top-down and bottom-up inference on whole images (MMPose's
``inference_topdown`` / ``inference_bottomup``)."""

import importlib.util

import numpy as np

from keraspose.apis.topdown_crop import crop_instances
from keraspose.utils.lazy_import import tf


def _has_cv2():
    return importlib.util.find_spec("cv2") is not None


def load_image(img):
    """(H, W, 3) uint8 BGR from a path or an array (returned as is).

    Decodes like MMPose's ``LoadImage`` (``cv2.imdecode`` with
    ``IMREAD_COLOR``, which applies a JPEG's EXIF orientation) when OpenCV
    is installed, otherwise with keraspose's ``tf.io`` ``LoadImage`` (the
    same pixels for JPEG and PNG files without an orientation tag).

    Example:

    >>> load_image(np.zeros((4, 5, 3), np.uint8)).shape
    (4, 5, 3)
    """
    if isinstance(img, np.ndarray):
        if img.ndim != 3 or img.shape[-1] != 3:
            raise ValueError(
                f"Expected an (H, W, 3) BGR image. Received shape {img.shape}"
            )
        return img
    if _has_cv2():
        import cv2

        with open(str(img), "rb") as f:
            data = np.frombuffer(f.read(), np.uint8)
        image = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
        if image is None:
            raise ValueError(
                "Expected a readable image file (JPEG, PNG, ...). Could not "
                f"decode: {img}"
            )
        return image
    from keraspose.datasets.transforms.load_image import LoadImage

    results = LoadImage(lazy_decode=False)(
        {"img_path": tf.constant(str(img))}, tf.constant([0, 0], tf.int64)
    )
    return results["img"].numpy()


def write_png(path, image_bgr):
    """Writes an (H, W, 3) uint8 BGR image as PNG (OpenCV or tf.io)."""
    image = np.ascontiguousarray(np.asarray(image_bgr, np.uint8))
    if _has_cv2():
        import cv2

        ok, data = cv2.imencode(".png", image)
        if not ok:
            raise ValueError(f"Could not encode the image as PNG: {path}")
        with open(str(path), "wb") as f:
            f.write(data.tobytes())
        return path
    rgb = np.ascontiguousarray(image[..., ::-1])
    tf.io.write_file(str(path), tf.io.encode_png(rgb))
    return path


def _as_xyxy(bboxes, bbox_format, shape):
    """(N, 4) xyxy boxes in MMPose's dtype (float32 kept, else float64)."""
    h, w = shape
    if bboxes is None or len(bboxes) == 0:
        return np.array([[0, 0, w, h]], np.float32), np.ones(1, np.float32)
    boxes = np.asarray(bboxes)
    if boxes.dtype != np.float32:
        boxes = boxes.astype(np.float64)
    if boxes.ndim == 1:
        boxes = boxes[None]
    if boxes.ndim != 2 or boxes.shape[1] not in (4, 5):
        raise ValueError(
            "Expected bboxes of shape (N, 4) or (N, 5) (with a score). "
            f"Received shape {boxes.shape}"
        )
    scores = boxes[:, 4] if boxes.shape[1] == 5 else np.ones(len(boxes))
    boxes = boxes[:, :4].copy()
    if bbox_format == "xywh":
        boxes[:, 2:] += boxes[:, :2]
    elif bbox_format != "xyxy":
        raise ValueError(
            f"Expected bbox_format 'xyxy' or 'xywh'. Received: {bbox_format!r}"
        )
    return boxes, scores.astype(np.float32)


def _refresh_predict_function(model):
    """Retraces the compiled predict step when ``test_cfg`` has changed.

    MMPose reads ``model.test_cfg`` on every call (e.g. toggling
    ``flip_test``); Keras compiles ``predict_on_batch`` once and would keep
    the options of its first call.
    """
    key = repr(sorted(getattr(model, "test_cfg", {}).items()))
    if getattr(model, "_inference_test_cfg", None) != key:
        model.predict_function = None
        model._inference_test_cfg = key


def _uses_udp(decoder):
    # MMPose's configs pair the UDP codec with TopdownAffine(use_udp=True).
    return type(decoder).__name__ == "UDPHeatmap"


def inference_topdown(
    model, img, bboxes=None, bbox_format="xyxy", padding=1.25, use_udp=None
):
    """Estimates the pose of each box of one image with a top-down model.

    Reproduces MMPose's ``inference_topdown`` with its test pipeline: each
    box is padded (``GetBBoxCenterScale``) and grown to the input aspect
    ratio, warped to the head codec's ``input_size`` (``TopdownAffine``),
    predicted with the model's ``test_cfg`` (e.g. flip test) and mapped
    back to the image (``add_pred_to_datasample``). The crops are made on
    the host by :func:`keraspose.apis.topdown_crop.crop_instances`, which
    matches MMPose's OpenCV 4 crops bit for bit (no TensorFlow or OpenCV
    needed for arrays), and box, matrix and back-projection arithmetic keep
    MMPose's dtypes: float32 boxes stay float32, other boxes (e.g. a Python
    list) are float64, as ``np.array`` makes them in MMPose.

    Args:
        model: a keraspose ``TopdownPoseEstimator`` (e.g. loaded with
            ``keras.saving.load_model(path, compile=False)`` or
            ``keraspose.convert_mmpose_checkpoint``).
        img: image path, or an (H, W, 3) uint8 BGR array (OpenCV order).
        bboxes: (N, 4) or (N, 5) boxes (a 5th column is the box score);
            None or empty uses the whole image as one box, like MMPose.
        bbox_format: ``"xyxy"`` or ``"xywh"``.
        padding: box padding of ``GetBBoxCenterScale``.
        use_udp: UDP warp of ``TopdownAffine``; None picks it for a
            ``UDPHeatmap`` codec, as MMPose's UDP configs do.

    Returns:
        dict of NumPy arrays: ``keypoints`` (N, K, 2) image pixels,
        ``keypoint_scores`` (N, K), ``bboxes`` (N, 4) xyxy,
        ``bbox_scores`` (N,) and, with a ``VisPredictHead``,
        ``keypoints_visible`` (N, K).

    Example:

    >>> # model = keras.saving.load_model("model.keras", compile=False)
    >>> # out = inference_topdown(model, "person.jpg", [[10, 20, 110, 260]])
    >>> # out["keypoints"].shape  -> (1, 17, 2)
    """
    decoder = getattr(getattr(model, "head", None), "decoder", None)
    if decoder is None:
        raise ValueError(
            "inference_topdown needs a top-down model whose head has a "
            "decoder (codec) with an input_size."
        )
    image = load_image(img)
    boxes, scores = _as_xyxy(bboxes, bbox_format, image.shape[:2])
    if use_udp is None:
        use_udp = _uses_udp(decoder)
    input_size = tuple(int(v) for v in decoder.input_size)
    crops, centers, scales = crop_instances(
        image, boxes, input_size, padding=padding, use_udp=use_udp
    )
    _refresh_predict_function(model)
    preds = model.predict_on_batch(crops)
    preds = {k: np.asarray(v) for k, v in preds.items()}
    # add_pred_to_datasample: float64 arithmetic (the int input size
    # promotes it), stored back into the float32 keypoints.
    kpts = preds["keypoints"]
    size = np.array(input_size)
    image_kpts = (
        kpts / size * scales[:, None] + centers[:, None] - 0.5 * scales[:, None]
    )
    preds["keypoints"] = image_kpts.astype(kpts.dtype)
    preds["bboxes"] = boxes
    preds["bbox_scores"] = scores
    return preds


def _ceil_to_multiple(size, base):
    return tuple(int(np.ceil(s / base) * base) for s in size)


def bottomup_resize(
    image,
    input_size,
    aug_scales=None,
    size_factor=32,
    resize_mode="fit",
    use_udp=False,
):
    """MMPose's test-time ``BottomupResize`` of one image, on the host.

    The image is warped (OpenCV 4's bilinear ``warpAffine`` arithmetic, see
    :func:`keraspose.apis.topdown_crop.warp_affine_linear`; zero padding)
    to the input size grown to multiples of ``size_factor``: ``'fit'``
    keeps the whole image inside ``input_size`` (which must then be a
    multiple of ``size_factor``), ``'expand'`` covers it (the longer side
    exceeds it). With ``aug_scales`` the extra pyramid levels are made
    from the original image at ``int(w * s), int(h * s)``.

    Args:
        image: (H, W, 3) uint8 BGR image.
        input_size: model input (w, h).
        aug_scales: extra scales of a multi-scale test.
        size_factor: the padded size is a multiple of it.
        resize_mode: ``'fit'`` or ``'expand'``.
        use_udp: MMPose's UDP warp.

    Returns:
        dict: ``images`` (list of (h, w, 3) arrays, main scale first),
        ``input_center`` / ``input_scale`` (2,) float32 and
        ``input_size`` (w, h) of the main scale.

    Example:

    >>> out = bottomup_resize(np.zeros((40, 60, 3), np.uint8), (32, 32),
    ...                       resize_mode="expand")
    >>> out["images"][0].shape, out["input_size"]
    ((32, 64, 3), (64, 32))
    """
    from keraspose.apis.topdown_crop import get_udp_warp_matrix
    from keraspose.apis.topdown_crop import get_warp_matrix
    from keraspose.apis.topdown_crop import warp_affine_linear

    if resize_mode not in ("fit", "expand"):
        raise ValueError(
            f"Expected resize_mode 'fit' or 'expand'. Received: {resize_mode!r}"
        )
    img_h, img_w = image.shape[:2]
    w, h = (int(v) for v in input_size)
    sizes = [(w, h)] + [(int(w * s), int(h * s)) for s in aug_scales or ()]
    ratio = img_w / img_h
    out = {"images": []}
    for i, size in enumerate(sizes):
        if resize_mode == "fit":
            padded = _ceil_to_multiple(size, size_factor)
            if padded != size:
                raise ValueError(
                    "resize_mode='fit' needs an input size (at every "
                    f"scale) that is a multiple of size_factor={size_factor}"
                    f". Received: {size}"
                )
            rsz = (min(padded[0], padded[1] * ratio),)
            rsz += (min(padded[1], padded[0] / ratio),)
        else:
            pad_w, pad_h = _ceil_to_multiple(size, size_factor)
            rsz = (max(pad_w, pad_h * ratio), max(pad_h, pad_w / ratio))
            padded = _ceil_to_multiple(rsz, size_factor)
        if use_udp:
            center = np.array(
                [(img_w - 1.0) / 2, (img_h - 1.0) / 2], dtype=np.float32
            )
            scale = np.array([img_w, img_h], dtype=np.float32)
            mat = get_udp_warp_matrix(center, scale, 0, rsz)
        else:
            center = np.array([img_w / 2, img_h / 2], dtype=np.float32)
            scale = np.array(
                [img_w * padded[0] / rsz[0], img_h * padded[1] / rsz[1]],
                dtype=np.float32,
            )
            mat = get_warp_matrix(center, scale, 0, padded)
        out["images"].append(warp_affine_linear(image, mat, padded))
        if i == 0:
            out.update(input_center=center, input_scale=scale)
            out["input_size"] = padded
    return out


def inference_bottomup(
    model,
    img,
    input_size=None,
    size_factor=32,
    resize_mode="expand",
    use_udp=False,
    aug_scales=None,
):
    """Estimates the poses of everyone in one image with a bottom-up model.

    Reproduces MMPose's ``inference_bottomup`` with the test pipeline of
    its bottom-up configs (``LoadImage``, ``BottomupResize(input_size,
    size_factor, resize_mode='expand')``, see :func:`bottomup_resize`),
    predicts with the model's ``test_cfg`` (flip test, multi-scale test
    with ``test_cfg['aug_scales']``) and maps the instances back to the
    image. MMPose reads the resize options from the model's config; pass
    those of your config (e.g. ``size_factor=64`` for MMPose's AE config).

    Args:
        model: a keraspose ``BottomupPoseEstimator``.
        img: image path, or an (H, W, 3) uint8 BGR array.
        input_size: (w, h); the head codec's ``input_size`` when None.
        size_factor: ``BottomupResize`` size factor.
        resize_mode: ``'expand'`` (MMPose's configs) or ``'fit'``.
        use_udp: ``BottomupResize`` UDP warp.
        aug_scales: pyramid scales; ``test_cfg['aug_scales']`` when None
            and the model runs a multi-scale test.

    Returns:
        dict of NumPy arrays for the valid instances only: ``keypoints``
        (N, K, 2) image pixels, ``keypoint_scores`` (N, K),
        ``keypoints_visible`` (N, K) and the head's other instance fields
        (e.g. ``bbox_scores`` (N,)).

    Example:

    >>> # model = keras.saving.load_model("dekr.keras", compile=False)
    >>> # out = inference_bottomup(model, "people.jpg")
    >>> # out["keypoints"].shape  -> (N, 17, 2)
    """
    test_cfg = getattr(model, "test_cfg", None)
    if test_cfg is None or not hasattr(model, "postprocess"):
        raise ValueError(
            "inference_bottomup needs a BottomupPoseEstimator. Received: "
            f"{type(model).__name__}"
        )
    if input_size is None:
        decoder = getattr(getattr(model, "head", None), "decoder", None)
        if decoder is None:
            raise ValueError(
                "inference_bottomup needs input_size=(w, h) or a head with "
                "a decoder (codec) that has an input_size."
            )
        input_size = decoder.input_size
    if aug_scales is None and test_cfg.get("multiscale_test", False):
        aug_scales = test_cfg.get("aug_scales")
    image = load_image(img)
    data = bottomup_resize(
        image,
        input_size,
        aug_scales=aug_scales,
        size_factor=size_factor,
        resize_mode=resize_mode,
        use_udp=use_udp,
    )
    x = {
        "images": data["images"][0][None],
        "input_center": data["input_center"][None],
        "input_scale": data["input_scale"][None],
        "input_size": np.array([data["input_size"]], np.float32),
    }
    for i, level in enumerate(data["images"][1:]):
        x[f"aug_images_{i}"] = level[None]
    _refresh_predict_function(model)
    preds = model.predict_on_batch(x)
    mask = np.asarray(preds.pop("instance_mask"))[0]
    return {k: np.asarray(v)[0][mask] for k, v in preds.items()}
