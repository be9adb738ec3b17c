"""Stochastic depth (MMCV's ``drop_path`` / ``DropPath``)."""

import keras
from keras import ops


def drop_path(x, rate, seed_generator, training=False):
    """Stochastic depth per sample (MMCV's ``DropPath``).

    Reference: Huang et al., "Deep Networks with Stochastic Depth", ECCV
    2016. In training each sample's branch is zeroed with probability
    ``rate`` and the kept ones are divided by ``1 - rate`` (MMCV's
    ``floor(keep + U[0, 1))`` mask); identity otherwise.

    Args:
        x: (B, ...) branch output.
        rate: drop probability.
        seed_generator: a ``keras.random.SeedGenerator``.
        training: whether in training mode.

    Returns:
        The branch output.

    Example:

    >>> import numpy as np
    >>> x = np.ones((2, 3), "float32")
    >>> seed = keras.random.SeedGenerator(0)
    >>> bool((drop_path(x, 0.5, seed) == x).all())  # inference: identity
    True
    """
    if not training or rate <= 0.0:
        return x
    keep = 1.0 - rate
    shape = (ops.shape(x)[0],) + (1,) * (len(x.shape) - 1)
    noise = keras.random.uniform(shape, seed=seed_generator, dtype=x.dtype)
    mask = ops.floor(keep + noise)
    return x / keep * mask


_DROPOUT_TYPES = ("Dropout", "DropPath")


def parse_dropout_layer(dropout_layer):
    """Reads MMCV's ``dropout_layer`` config: ``(type, rate)``.

    ``dict(type="Dropout", drop_prob=p)`` is element-wise dropout and
    ``dict(type="DropPath", drop_prob=p)`` stochastic depth (MMCV's
    ``DropPath`` default ``drop_prob`` is 0.1); None is no dropout.

    Args:
        dropout_layer: the config dict or None.

    Returns:
        ``(type, rate)``; ``("Dropout", 0.0)`` for None.

    Example:

    >>> parse_dropout_layer(dict(type="DropPath", drop_prob=0.2))
    ('DropPath', 0.2)
    """
    if dropout_layer is None:
        return "Dropout", 0.0
    if not isinstance(dropout_layer, dict) or (
        dropout_layer.get("type") not in _DROPOUT_TYPES
    ):
        raise ValueError(
            "Expected dropout_layer to be None or a dict with type in "
            f"{_DROPOUT_TYPES}. Received: dropout_layer={dropout_layer!r}"
        )
    cfg = dict(dropout_layer)
    kind = cfg.pop("type")
    rate = float(cfg.pop("drop_prob", 0.1 if kind == "DropPath" else 0.5))
    cfg.pop("inplace", None)
    if cfg or not 0.0 <= rate < 1.0:
        raise ValueError(
            "Expected dropout_layer=dict(type=..., drop_prob=p) with p in "
            f"[0, 1). Received: dropout_layer={dropout_layer!r}"
        )
    return kind, rate
