"""Private helpers shared by the necks (input checks, init configs)."""

from keraspose.models.utils.conv2d import Conv2d
from keraspose.models.utils.init_cfg import kaiming_initializer
from keraspose.models.utils.init_cfg import unpretrained
from keraspose.models.utils.init_cfg import xavier_initializer
from keraspose.models.utils.resize import _MODES
from keraspose.registry import warn_unloadable_init_cfg


def is_shape_sequence(shape):
    """True for a tuple/list of shapes (not a single shape)."""
    return (
        isinstance(shape, tuple | list)
        and len(shape) > 0
        and all(isinstance(s, tuple | list) for s in shape)
    )


def check_feature_sequence(inputs, expected, owner):
    """Checks ``inputs`` is a tuple/list of ``expected`` feature maps."""
    if not isinstance(inputs, tuple | list):
        raise TypeError(
            f"{owner} expects a tuple or list of (N, H, W, C) feature maps. "
            f"Received: {type(inputs).__name__}"
        )
    if len(inputs) != expected:
        raise ValueError(
            f"{owner} expects {expected} feature maps (one per entry of "
            f"in_channels). Received {len(inputs)}"
        )


def check_in_channels(in_channels, owner):
    """``in_channels`` must be a non-empty list of positive ints."""
    if not isinstance(in_channels, list | tuple) or not in_channels:
        raise ValueError(
            f"{owner} expects `in_channels` to be a non-empty list of ints. "
            f"Received: in_channels={in_channels!r}"
        )
    if not all(isinstance(c, int) and c > 0 for c in in_channels):
        raise ValueError(
            f"{owner} expects positive int `in_channels`. "
            f"Received: in_channels={in_channels!r}"
        )
    return list(in_channels)


def check_upsample_cfg(cfg, allowed, owner):
    """Validates an upsample config against :func:`interpolate`'s args."""
    if not isinstance(cfg, dict):
        raise ValueError(
            f"{owner} expects `upsample_cfg` to be a dict. "
            f"Received: upsample_cfg={cfg!r}"
        )
    unknown = set(cfg) - set(allowed)
    if unknown:
        raise ValueError(
            f"{owner}: unsupported upsample_cfg keys {sorted(unknown)}; "
            f"expected a subset of {sorted(allowed)}. "
            f"Received: upsample_cfg={cfg!r}"
        )
    mode = cfg.get("mode", "nearest")
    if mode not in _MODES:
        raise ValueError(
            f"{owner}: upsample_cfg mode must be one of {_MODES}. "
            f"Received: upsample_cfg={cfg!r}"
        )
    return dict(cfg)


def apply_conv_init_cfg(layer, init_cfg, owner):
    """Sets the conv initializers of ``layer`` from an MMPose init_cfg.

    ``Xavier`` and ``Kaiming`` entries on ``Conv2d`` are honoured;
    ``Pretrained`` warns (nothing is downloaded). Returns the init_cfg to
    store in ``get_config`` (without ``Pretrained`` entries).
    """
    warn_unloadable_init_cfg(init_cfg, owner)
    init_cfg = unpretrained(init_cfg)
    if init_cfg is None:
        return None
    init = xavier_initializer(init_cfg) or kaiming_initializer(init_cfg)
    if init is not None:
        kernel_init, bias_init = init
        for sub in layer._flatten_layers(include_self=False):
            if isinstance(sub, Conv2d):
                sub.kernel_initializer = kernel_init
                sub.bias_initializer = bias_init
    return init_cfg


def with_channels(shape, channels):
    return (*tuple(shape)[:-1], channels)
