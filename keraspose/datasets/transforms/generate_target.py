"""Training targets from the codec, inside the tf.data graph."""

from keraspose.codecs.base import BaseKeypointCodec
from keraspose.datasets.transforms.base import BaseTransform
from keraspose.datasets.transforms.graph_encoding import graph_encode
from keraspose.registry import build
from keraspose.registry import register
from keraspose.registry import to_config
from keraspose.utils.lazy_import import tf

#: Key under which GenerateTarget lists the target keys for packing.
TARGET_KEYS = "_target_keys"


@register
class GenerateTarget(BaseTransform):
    """Encodes the sample's keypoints into the codec's training targets.

    Uses ``transformed_keypoints`` (after :class:`TopdownAffine`) or
    ``keypoints``, and ``keypoints_visible``. The codec runs as graph ops
    through :func:`~keraspose.datasets.transforms.graph_encoding.graph_encode`
    (native for the heatmap codecs, a ``tf.numpy_function`` wrapper
    otherwise). For top-down samples the
    per-instance labels lose their instance axis: ``keypoint_weights`` is
    (K,) and batches to (B, K), the fit contract of the heads.

    Args:
        encoder: a codec or its config dict.
        target_type: deprecated in MMPose; accepted and ignored.
        multilevel: MMPose's multi-encoder mode; not supported yet.
        use_dataset_keypoint_weights: multiply ``keypoint_weights`` by the
            metainfo's ``joint_weights``.
        max_instances: multi-instance (bottom-up) samples, keypoints
            (N, K, 2): the codec's per-instance ``label_keys`` outputs
            (e.g. ``keypoint_indices`` (N, K, 2), ``keypoint_weights``
            (N, K)) are padded with zeros (= invalid) or truncated to this
            many instances so that batches stack (like MMPose 0.x AE's
            ``max_num_people``, default 30). Truncation keeps the first
            instances in annotation order; the dense targets (heatmaps)
            still encode all of them.

    Example:

    >>> t = GenerateTarget(encoder=dict(type="MSRAHeatmap",
    ...     input_size=(192, 256), heatmap_size=(48, 64), sigma=2))
    >>> type(t.encoder).__name__
    'MSRAHeatmap'
    """

    def __init__(
        self,
        encoder,
        target_type=None,
        multilevel=False,
        use_dataset_keypoint_weights=False,
        max_instances=30,
    ):
        if isinstance(encoder, list | tuple) or multilevel:
            raise ValueError(
                "GenerateTarget supports a single encoder for now (MMPose's "
                "multi-encoder / multilevel targets are not implemented). "
                f"Received: encoder={encoder!r}, multilevel={multilevel!r}"
            )
        encoder = build(encoder)
        if not isinstance(encoder, BaseKeypointCodec):
            raise TypeError(
                "GenerateTarget expects a keraspose codec or its config. "
                f"Received: {type(encoder).__name__}"
            )
        if (
            not isinstance(max_instances, int)
            or isinstance(max_instances, bool)
            or max_instances <= 0
        ):
            raise ValueError(
                "GenerateTarget expects max_instances as a positive int. "
                f"Received: max_instances={max_instances!r}"
            )
        self.encoder = encoder
        self.use_dataset_keypoint_weights = bool(use_dataset_keypoint_weights)
        self.max_instances = max_instances

    def transform(self, results, seed):
        if "transformed_keypoints" in results:
            keypoints = results["transformed_keypoints"]
        elif "keypoints" in results:
            keypoints = results["keypoints"]
        else:
            raise ValueError(
                "GenerateTarget needs 'transformed_keypoints' or 'keypoints' "
                f"in the sample. Received keys: {sorted(results)}"
            )
        visible = results["keypoints_visible"]
        aux = {
            key: results[key]
            for key in self.encoder.auxiliary_encode_keys
            if key in results
        }
        if self.encoder.auxiliary_encode_keys:
            # Codecs with auxiliary inputs (pose lifting) define their own
            # shapes: no instance-axis handling here.
            encoded = graph_encode(self.encoder, keypoints, visible, **aux)
            results.update(encoded)
            target_keys = self.encoder.target_keys or sorted(encoded)
            results[TARGET_KEYS] = tuple(target_keys)
            return results
        single = len(keypoints.shape) == 2
        if single:
            keypoints, visible = keypoints[None], visible[None]
        encoded = graph_encode(self.encoder, keypoints, visible)
        if single:
            encoded = {
                k: v[0] if k in self.encoder.label_keys else v
                for k, v in encoded.items()
            }
        else:
            encoded = {
                k: pad_instances(v, self.max_instances)
                if k in self.encoder.label_keys
                else v
                for k, v in encoded.items()
            }
        if self.use_dataset_keypoint_weights and "keypoint_weights" in encoded:
            encoded["keypoint_weights"] = encoded["keypoint_weights"] * (
                tf.cast(results["dataset_keypoint_weights"], tf.float32)
            )
        results.update(encoded)
        target_keys = self.encoder.target_keys or sorted(encoded)
        results[TARGET_KEYS] = tuple(target_keys)
        return results

    def get_config(self):
        return {
            "encoder": to_config(self.encoder),
            "use_dataset_keypoint_weights": self.use_dataset_keypoint_weights,
            "max_instances": self.max_instances,
        }


def pad_instances(value, max_instances):
    """Pads (zeros) or truncates the leading instance axis to a fixed size."""
    value = tf.convert_to_tensor(value)
    value = value[:max_instances]
    pad = max_instances - tf.shape(value)[0]
    paddings = tf.concat(
        [[[0, pad]], tf.zeros([tf.rank(value) - 1, 2], tf.int32)], axis=0
    )
    out = tf.pad(value, paddings)
    return tf.ensure_shape(out, [max_instances, *value.shape[1:]])
