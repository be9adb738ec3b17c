"""MMEngine ``init_cfg`` entries as Keras initializers.

MMPose models describe their initialisation with ``init_cfg`` lists such as
``[dict(type="Kaiming", layer="Conv2d"), dict(type="Constant", val=1,
layer="BatchNorm2d")]``. The functions here read the ``Conv2d`` entries
that keraspose honours and drop ``Pretrained`` ones (checkpoints are not
downloaded at build time; ``warn_unloadable_init_cfg`` warns about them).

Example:

>>> kernel, bias = kaiming_initializer(
...     dict(type="Kaiming", layer="Conv2d", mode="fan_out"))
>>> type(kernel).__name__
'VarianceScaling'
>>> unpretrained([dict(type="Pretrained", checkpoint="x.pth")]) is None
True
"""

import keras


def _entries(init_cfg):
    return init_cfg if isinstance(init_cfg, list | tuple) else [init_cfg]


def conv_entry(init_cfg, kind, any_layer=False):
    """The first ``init_cfg`` entry of type ``kind`` that covers Conv2d.

    Args:
        init_cfg: an MMEngine init_cfg (dict, list of dicts or None).
        kind: the entry type ("Kaiming", "Xavier", "Normal", ...).
        any_layer: whether an entry without ``layer`` covers every layer
            (MMEngine's rule for ``Normal`` in Lite-HRNet's defaults).

    Returns:
        The entry (a dict) or None.
    """
    for cfg in _entries(init_cfg):
        if not isinstance(cfg, dict) or cfg.get("type") != kind:
            continue
        layers = cfg.get("layer")
        layers = [layers] if isinstance(layers, str) else list(layers or [])
        if "Conv2d" in layers or (any_layer and not layers):
            return cfg
    return None


def _distribution(cfg):
    if cfg.get("distribution", "normal") == "uniform":
        return "uniform"
    return "untruncated_normal"


def kaiming_initializer(init_cfg):
    """(kernel, bias) initializers of a ``Kaiming`` Conv2d entry, or None.

    mmengine's ``KaimingInit`` is PyTorch's ``kaiming_{uniform,normal}_``
    with gain ``sqrt(2 / (1 + a**2))`` (``leaky_relu``) or ``sqrt(2)``
    (``relu``); biases are set to ``bias`` (0 by default).
    """
    cfg = conv_entry(init_cfg, "Kaiming")
    if cfg is None:
        return None
    a = float(cfg.get("a", 0.0))
    leaky = cfg.get("nonlinearity", "relu") == "leaky_relu"
    return (
        keras.initializers.VarianceScaling(
            scale=2.0 / (1.0 + a * a) if leaky else 2.0,
            mode=cfg.get("mode", "fan_out"),
            distribution=_distribution(cfg),
        ),
        keras.initializers.Constant(float(cfg.get("bias", 0.0))),
    )


def xavier_initializer(init_cfg):
    """(kernel, bias) initializers of a ``Xavier`` Conv2d entry, or None.

    mmengine's ``XavierInit`` is PyTorch's ``xavier_{uniform,normal}_``
    with ``gain`` (1): fan-in plus fan-out including the receptive field.
    """
    cfg = conv_entry(init_cfg, "Xavier")
    if cfg is None:
        return None
    gain = float(cfg.get("gain", 1.0))
    return (
        keras.initializers.VarianceScaling(
            scale=gain * gain, mode="fan_avg", distribution=_distribution(cfg)
        ),
        keras.initializers.Constant(float(cfg.get("bias", 0.0))),
    )


def normal_initializer(init_cfg):
    """(kernel, bias) initializers of a ``Normal`` Conv2d entry (an entry
    without ``layer`` counts), or None."""
    cfg = conv_entry(init_cfg, "Normal", any_layer=True)
    if cfg is None:
        return None
    return (
        keras.initializers.RandomNormal(
            mean=float(cfg.get("mean", 0.0)), stddev=float(cfg.get("std", 1.0))
        ),
        keras.initializers.Constant(float(cfg.get("bias", 0.0))),
    )


def unpretrained(init_cfg):
    """init_cfg without its ``Pretrained`` entries (None if nothing left)."""
    if init_cfg is None:
        return None
    if isinstance(init_cfg, dict):
        return None if init_cfg.get("type") == "Pretrained" else init_cfg
    rest = [
        c
        for c in init_cfg
        if not (isinstance(c, dict) and c.get("type") == "Pretrained")
    ]
    return rest or None
