"""Image loading (tf.io) with named errors for missing or corrupt files."""

from keraspose.datasets.transforms.base import BaseTransform
from keraspose.registry import register
from keraspose.utils.lazy_import import tf


def _image_is_complete(contents):
    """Cheap structural check: JPEG SOI/EOI markers or the PNG IEND chunk.

    Truncated downloads and non-image files fail it. The EOI marker is
    searched in the last 64 bytes (some writers pad after it).
    """
    size = tf.strings.length(contents)
    head = tf.io.decode_raw(tf.strings.substr(contents, 0, 8), tf.uint8)
    tail = tf.io.decode_raw(
        tf.strings.substr(contents, tf.maximum(size - 64, 0), 64), tf.uint8
    )
    is_jpeg = tf.io.is_jpeg(contents)
    jpeg_ok = tf.reduce_any(
        tf.logical_and(tf.equal(tail[:-1], 0xFF), tf.equal(tail[1:], 0xD9))
    )
    png_sig = tf.constant([137, 80, 78, 71, 13, 10, 26, 10], tf.uint8)
    is_png = tf.logical_and(
        tf.equal(tf.size(head), 8),
        tf.reduce_all(tf.equal(head[: tf.size(png_sig)], png_sig)),
    )
    # The last chunk: length 0, "IEND", CRC (compared as bytes: a regex
    # would read the binary CRC as UTF-8 and miss).
    png_ok = tf.equal(
        tf.strings.substr(contents, tf.maximum(size - 8, 0), 4), "IEND"
    )
    return tf.where(is_jpeg, jpeg_ok, tf.where(is_png, png_ok, False))


def check_image_bytes(contents, img_path, img_id=None, ann_id=None):
    """Asserts the structural check; errors name the file and the ids."""
    ok = _image_is_complete(contents)
    message = [
        "keraspose LoadImage: corrupt, truncated or unsupported image file "
        "(field img_path; JPEG or PNG expected):",
        img_path,
    ]
    if img_id is not None:
        message += ["img_id:", img_id]
    if ann_id is not None:
        message += ["annotation id:", ann_id]
    check = tf.debugging.Assert(ok, message, summarize=8)
    with tf.control_dependencies([check]):
        return tf.identity(contents)


def _decode_full(contents):
    image = tf.cond(
        tf.io.is_jpeg(contents),
        lambda: tf.io.decode_jpeg(
            contents, channels=3, dct_method="INTEGER_ACCURATE"
        ),
        lambda: tf.io.decode_image(
            contents, channels=3, expand_animations=False
        ),
    )
    return tf.ensure_shape(image, [None, None, 3])


def image_shape(contents):
    """(h, w) from the JPEG or PNG header, without decoding pixels."""

    def png_shape():
        raw = tf.io.decode_raw(tf.strings.substr(contents, 16, 8), tf.uint8)
        raw = tf.cast(raw, tf.int32)
        w = raw[0] * 2**24 + raw[1] * 2**16 + raw[2] * 2**8 + raw[3]
        h = raw[4] * 2**24 + raw[5] * 2**16 + raw[6] * 2**8 + raw[7]
        return tf.stack([h, w])

    return tf.cond(
        tf.io.is_jpeg(contents),
        lambda: tf.io.extract_jpeg_shape(contents, tf.int32)[:2],
        png_shape,
    )


def _apply_flips(img, results):
    img = tf.cond(
        results["img_flip_h"], lambda: tf.reverse(img, [1]), lambda: img
    )
    return tf.cond(
        results["img_flip_v"], lambda: tf.reverse(img, [0]), lambda: img
    )


def materialize_image(results):
    """Decodes a deferred image (see :class:`LoadImage`) in place."""
    if "img" in results or "img_flip_h" not in results:
        return results
    img = tf.reverse(_decode_full(results.pop("img_bytes")), axis=[-1])
    results["img"] = _apply_flips(img, results)
    results.pop("img_flip_h")
    results.pop("img_flip_v")
    return results


def decode_region(results, x0, y0, x1, y1):
    """Pixels ``[y0:y1+1, x0:x1+1]`` of the sample's (flipped) image.

    For a deferred JPEG only that window is decoded (identical pixels away
    from the window border; callers keep a margin); otherwise the decoded
    image is sliced.
    """
    if "img" in results:
        return results["img"][y0 : y1 + 1, x0 : x1 + 1]
    h, w = tf.unstack(tf.cast(results["img_shape"], tf.int32))
    fh, fv = results["img_flip_h"], results["img_flip_v"]
    ox0 = tf.where(fh, w - 1 - x1, x0)
    oy0 = tf.where(fv, h - 1 - y1, y0)
    window = tf.stack([oy0, ox0, y1 - y0 + 1, x1 - x0 + 1])
    contents = results["img_bytes"]
    crop = tf.cond(
        tf.io.is_jpeg(contents),
        lambda: tf.image.decode_and_crop_jpeg(
            contents, window, channels=3, dct_method="INTEGER_ACCURATE"
        ),
        lambda: tf.slice(
            _decode_full(contents), [oy0, ox0, 0], [window[2], window[3], 3]
        ),
    )
    crop = tf.reverse(tf.ensure_shape(crop, [None, None, 3]), axis=[-1])
    return _apply_flips(crop, results)


@register
class LoadImage(BaseTransform):
    """Reads and decodes the sample's image (MMPose's ``LoadImage``).

    Reads ``img_bytes`` when the sample carries the encoded image (TFDS),
    otherwise the file at ``img_path``. Produces ``img`` (H, W, 3) uint8 in
    BGR order (OpenCV's, MMPose's), ``img_shape`` and ``ori_shape`` (h, w).
    A missing file raises TensorFlow's ``NotFoundError`` with its path; a
    truncated or corrupt file raises ``InvalidArgumentError`` naming the file,
    the image id and the annotation id.

    With ``lazy_decode=True`` (default) the pixels are decoded later, by
    :class:`TopdownAffine`, and only inside the window its warp reads
    (``tf.image.decode_and_crop_jpeg``); flips before it are recorded and
    applied to that window. The result is the same image (libjpeg decodes
    a window identically away from its border, and a margin is kept) at
    about half the decoding cost. Until then the sample holds ``img_bytes``
    and ``img_shape`` instead of ``img``; keraspose transforms that need the
    pixels decode them on demand, and :class:`Compose` decodes before a plain
    callable step and at the end of the pipeline.

    Known difference: OpenCV applies a JPEG's EXIF orientation tag, tf.io
    does not (COCO-style datasets store pixels as annotated, so this only
    matters for camera photos with a rotation tag).

    Args:
        to_float32: return float32 pixels instead of uint8.
        color_type: only ``"color"`` (3 channels) is supported.
        imdecode_backend: accepted for MMPose configs; decoding is tf.io.
        backend_args: accepted for MMPose configs and ignored.
        ignore_empty: accepted for MMPose configs; must be False.
        lazy_decode: defer decoding to the crop (see above).

    Example:

    >>> t = LoadImage()
    >>> t.get_config()["to_float32"]
    False
    """

    def __init__(
        self,
        to_float32=False,
        color_type="color",
        imdecode_backend="cv2",
        backend_args=None,
        ignore_empty=False,
        lazy_decode=True,
    ):
        if color_type != "color":
            raise ValueError(
                "LoadImage supports color_type='color' only. Received: "
                f"color_type={color_type!r}"
            )
        if ignore_empty:
            raise ValueError(
                "LoadImage(ignore_empty=True) is not supported: missing "
                "images are reported when the dataset is built."
            )
        self.to_float32 = bool(to_float32)
        self.lazy_decode = bool(lazy_decode) and not self.to_float32

    def transform(self, results, seed):
        if "img" not in results:
            path = results.get("img_path", tf.constant("<unknown>"))
            if "img_bytes" in results:
                contents = results.pop("img_bytes")
            else:
                contents = tf.io.read_file(path)
            contents = check_image_bytes(
                contents, path, results.get("img_id"), results.get("id")
            )
            if self.lazy_decode:
                shape = image_shape(contents)
                results["img_bytes"] = contents
                results["img_flip_h"] = tf.constant(False)
                results["img_flip_v"] = tf.constant(False)
                results["img_shape"] = shape
                results["ori_shape"] = shape
                return results
            results["img"] = tf.reverse(_decode_full(contents), axis=[-1])
        img = results["img"]
        if self.to_float32:
            img = tf.cast(img, tf.float32)
        results["img"] = img
        shape = tf.shape(img)[:2]
        results["img_shape"] = shape
        results["ori_shape"] = shape
        return results

    def get_config(self):
        return {
            "to_float32": self.to_float32,
            "lazy_decode": self.lazy_decode,
        }
