"""Builds normalization / activation layers from MMPose's ``norm_cfg``."""

import keras

_BN_TYPES = ("BN", "BN2d", "SyncBN", "BatchNorm", "BatchNorm2d", "MMSyncBN")


def build_norm_layer(norm_cfg, name, dtype=None, gamma_zero=False):
    """Returns a Keras normalization layer for an MMPose ``norm_cfg``.

    ``BN`` and ``SyncBN`` map to ``keras.layers.BatchNormalization`` with
    PyTorch's numbers (``eps=1e-5``, momentum 0.1 in PyTorch's convention,
    i.e. 0.9 in Keras'). Cross-device synchronisation of ``SyncBN`` is left to
    the distribution strategy.

    Args:
        norm_cfg: dict with ``type`` and optional ``eps``, ``momentum``,
            ``requires_grad``; None means ``dict(type="BN")``.
        name: layer name.
        dtype: layer dtype policy.
        gamma_zero: initialise gamma to zero (``zero_init_residual``).
    """
    cfg = dict(norm_cfg or {"type": "BN"})
    norm_type = cfg.pop("type", "BN")
    if norm_type not in _BN_TYPES:
        raise ValueError(
            f"Unsupported norm_cfg type {norm_type!r}; expected one of "
            f"{_BN_TYPES}. Received: norm_cfg={norm_cfg!r}"
        )
    layer = keras.layers.BatchNormalization(
        axis=-1,
        momentum=1.0 - float(cfg.get("momentum", 0.1)),
        epsilon=float(cfg.get("eps", 1e-5)),
        gamma_initializer="zeros" if gamma_zero else "ones",
        name=name,
        dtype=dtype,
    )
    return layer


def build_activation(act_cfg, name, dtype=None):
    """Returns a Keras activation layer for an MMPose ``act_cfg``."""
    cfg = dict(act_cfg or {"type": "ReLU"})
    act_type = cfg.pop("type")
    mapping = {
        "ReLU": "relu",
        "SiLU": "silu",
        "Swish": "silu",
        "GELU": "gelu",
        "Sigmoid": "sigmoid",
        "Tanh": "tanh",
        "ReLU6": "relu6",
        "HSigmoid": "hard_sigmoid",
        "HSwish": "hard_silu",
    }
    if act_type == "LeakyReLU":
        return keras.layers.LeakyReLU(
            negative_slope=float(cfg.get("negative_slope", 0.01)),
            name=name,
            dtype=dtype,
        )
    if act_type not in mapping:
        raise ValueError(
            f"Unsupported act_cfg type {act_type!r}; expected one of "
            f"{sorted(mapping) + ['LeakyReLU']}. Received: act_cfg={act_cfg!r}"
        )
    return keras.layers.Activation(mapping[act_type], name=name, dtype=dtype)
