"""Builds ``LayerNormalization`` layers from MMCV's ``LN`` norm configs."""

import keras

_LN_TYPES = ("LN", "LayerNorm")


def build_layer_norm(norm_cfg, name, dtype=None):
    """Returns a Keras ``LayerNormalization`` for an MMCV ``LN`` config.

    The normalization runs over the last (channel) axis with a learned
    scale and offset (Keras' ``gamma`` / ``beta``: PyTorch's ``weight`` /
    ``bias``). ``eps`` defaults to PyTorch's 1e-5; mmpretrain's
    ``VisionTransformer`` passes 1e-6.

    Args:
        norm_cfg: dict with ``type`` ("LN") and optional ``eps``
            (``requires_grad=False`` is not supported); None means
            ``dict(type="LN")``.
        name: layer name.
        dtype: layer dtype policy.

    Returns:
        A ``keras.layers.LayerNormalization``.

    Example:

    >>> ln = build_layer_norm(dict(type="LN", eps=1e-6), name="ln1")
    >>> ln.epsilon
    1e-06
    """
    cfg = dict(norm_cfg or {"type": "LN"})
    norm_type = cfg.pop("type", "LN")
    if norm_type not in _LN_TYPES:
        raise ValueError(
            f"Unsupported norm_cfg type {norm_type!r}; expected one of "
            f"{_LN_TYPES}. Received: norm_cfg={norm_cfg!r}"
        )
    eps = float(cfg.pop("eps", 1e-5))
    if cfg.get("requires_grad", True):
        cfg.pop("requires_grad", None)
    if cfg:
        raise ValueError(
            f"Unsupported LN argument(s) {sorted(cfg)}; expected `eps`. "
            f"Received: norm_cfg={norm_cfg!r}"
        )
    return keras.layers.LayerNormalization(
        axis=-1, epsilon=eps, name=name, dtype=dtype
    )
