"""MMEngine / MMPose ``paramwise_cfg`` rules as per-variable multipliers.

MMEngine's optim-wrapper constructors put every parameter in its own
parameter group with a learning rate and a weight decay derived from
``paramwise_cfg``. The Torch* optimizers keep one learning rate and one
weight decay and scale them per variable; :func:`paramwise_multipliers`
gives those scales from the parameters' MMEngine names and module types
(:func:`~keraspose.engine.optimizers.param_names.parameter_info`).
"""

import warnings

DEFAULT = "DefaultOptimWrapperConstructor"
FORCE_DEFAULT = "ForceDefaultOptimWrapperConstructor"
LAYER_DECAY = "LayerDecayOptimWrapperConstructor"
CONSTRUCTORS = (DEFAULT, FORCE_DEFAULT, LAYER_DECAY)

DEFAULT_KEYS = (
    "custom_keys",
    "bias_lr_mult",
    "bias_decay_mult",
    "norm_decay_mult",
    "dwconv_decay_mult",
    "flat_decay_mult",
    "dcn_offset_lr_mult",
    "bypass_duplicate",
)
LAYER_DECAY_KEYS = ("num_layers", "layer_decay_rate")
# Multipliers MMEngine uses only when the optimizer sets `weight_decay`, and
# refuses (`base_wd should not be None`) for the first three.
_DECAY_KEYS = ("bias_decay_mult", "norm_decay_mult", "dwconv_decay_mult")
_RULE_KEYS = ("lr_mult", "decay_mult")


def constructor_name(constructor):
    """MMEngine's constructor name (``None`` -> the default one)."""
    if constructor is None:
        return DEFAULT
    name = str(constructor).rsplit(".", 1)[-1]
    if name not in CONSTRUCTORS:
        raise NotImplementedError(
            f"optim_wrapper constructor {name!r} is not supported. "
            f"Supported: {list(CONSTRUCTORS)}."
        )
    return name


def _number(value, what):
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ValueError(
            f"paramwise_cfg.{what} must be a number. Received: {value!r}"
        ) from None


def check_paramwise_cfg(
    constructor, paramwise_cfg, base_lr, base_wd, optimizer_args=()
):
    """Validates a ``paramwise_cfg`` as MMEngine's constructor would.

    Raises where MMEngine raises (``decay`` multipliers without an optimizer
    ``weight_decay``) or would fail at its first step (layer decay without
    ``weight_decay``, ``num_layers`` or ``layer_decay_rate``), and for
    settings keraspose does not support.

    Args:
        constructor: the constructor name (see :func:`constructor_name`).
        paramwise_cfg: MMEngine's ``paramwise_cfg`` dict, or None.
        base_lr: the optimizer config's ``lr`` (None if unset).
        base_wd: the optimizer config's ``weight_decay`` (None if unset).
        optimizer_args: the optimizer's hyperparameter names (a
            ``custom_keys`` rule setting one of them is not supported).

    Returns:
        The ``paramwise_cfg`` the optimizer applies: a plain dict, empty
        when MMEngine would build no parameter groups. Decay multipliers
        are dropped when the optimizer config sets no ``weight_decay``
        (MMEngine ignores them then).
    """
    cfg = dict(paramwise_cfg or {})
    if not cfg:
        return {}
    known = DEFAULT_KEYS + ("force_default_settings",)
    if constructor == LAYER_DECAY:
        known += LAYER_DECAY_KEYS
    unknown = sorted(set(cfg) - set(known))
    if unknown:
        warnings.warn(
            f"paramwise_cfg: ignoring unknown key(s) {unknown} (MMEngine "
            f"ignores them too). Known keys: {list(known)}.",
            stacklevel=3,
        )
        cfg = {k: v for k, v in cfg.items() if k in known}
    custom_keys = cfg.get("custom_keys")
    if custom_keys is None:
        custom_keys = {}
    if not isinstance(custom_keys, dict):
        raise TypeError(
            "paramwise_cfg.custom_keys must be a dict. Received: "
            f"{type(custom_keys).__name__}"
        )
    if base_wd is None:
        decay_keys = [k for k in _DECAY_KEYS if k in cfg]
        decay_keys += [
            f"custom_keys[{k!r}].decay_mult"
            for k, rule in custom_keys.items()
            if "decay_mult" in dict(rule or {})
        ]
        if decay_keys:
            raise ValueError(
                f"paramwise_cfg sets {decay_keys} but the optimizer config "
                "has no `weight_decay` (MMEngine: 'base_wd should not be "
                "None')."
            )
    if constructor == LAYER_DECAY:
        return _check_layer_decay(cfg, base_lr, base_wd)

    rules = {}
    for key in sorted(custom_keys):
        rule = dict(custom_keys[key] or {})
        clashing = sorted(set(rule) & set(optimizer_args))
        if clashing:
            raise NotImplementedError(
                f"paramwise_cfg.custom_keys[{key!r}] sets optimizer "
                f"argument(s) {clashing} per parameter group; only "
                f"{list(_RULE_KEYS)} are supported."
            )
        inert = sorted(set(rule) - set(_RULE_KEYS))
        if inert:
            warnings.warn(
                f"paramwise_cfg.custom_keys[{key!r}]: {inert} have no "
                "effect (MMEngine copies them into the parameter group, "
                "where the optimizer ignores them); the key still selects "
                "its parameters, which then skip the other rules.",
                stacklevel=3,
            )
        rules[str(key)] = {
            k: _number(rule[k], f"custom_keys[{key!r}].{k}")
            for k in _RULE_KEYS
            if k in rule and (k != "decay_mult" or base_wd is not None)
        }
    if custom_keys:
        cfg["custom_keys"] = rules
    elif "custom_keys" in cfg:
        del cfg["custom_keys"]
    for key in DEFAULT_KEYS[1:7]:
        if key in cfg and cfg[key] is None:
            del cfg[key]
        elif key in cfg:
            cfg[key] = _number(cfg[key], key)
    if base_wd is None:
        cfg.pop("flat_decay_mult", None)
    if base_lr is None and (rules or "bias_lr_mult" in cfg):
        raise ValueError(
            "paramwise_cfg scales learning rates but the optimizer config "
            "has no `lr` (MMEngine multiplies `lr` by them)."
        )
    if "bypass_duplicate" in cfg:
        cfg["bypass_duplicate"] = bool(cfg["bypass_duplicate"])
    if constructor != FORCE_DEFAULT:
        # Only MMPose's ForceDefaultOptimWrapperConstructor reads it.
        cfg.pop("force_default_settings", None)
    elif "force_default_settings" in cfg:
        cfg["force_default_settings"] = bool(cfg["force_default_settings"])
    return cfg


def _check_layer_decay(cfg, base_lr, base_wd):
    missing = [k for k in LAYER_DECAY_KEYS if cfg.get(k) is None]
    if missing:
        raise ValueError(
            f"LayerDecayOptimWrapperConstructor needs paramwise_cfg "
            f"{list(LAYER_DECAY_KEYS)}; missing {missing} (MMPose's "
            "`layer_decay_rate` default of 0.5 is never used: it fails)."
        )
    if base_wd is None or base_lr is None:
        raise ValueError(
            "LayerDecayOptimWrapperConstructor needs `lr` and "
            "`weight_decay` in the optimizer config (MMPose copies them "
            "into every parameter group and fails without them). Received: "
            f"lr={base_lr}, weight_decay={base_wd}"
        )
    num_layers = cfg["num_layers"]
    if int(num_layers) != num_layers or num_layers < 0:
        raise ValueError(
            "paramwise_cfg.num_layers must be a non-negative integer. "
            f"Received: {num_layers!r}"
        )
    # custom_keys and the other default rules are not used by this
    # constructor (MMPose only validates them).
    return dict(
        num_layers=int(num_layers),
        layer_decay_rate=_number(cfg["layer_decay_rate"], "layer_decay_rate"),
    )


def vit_layer_id(name, num_max_layer):
    """MMPose's ``get_num_layer_for_vit``: the layer-decay depth of a
    parameter (0 for embeddings, ``i + 1`` for ``backbone.layers.i``,
    ``num_max_layer - 1`` for everything else, the head included)."""
    if name in ("backbone.cls_token", "backbone.mask_token"):
        return 0
    if name == "backbone.pos_embed" or name.startswith("backbone.patch_embed"):
        return 0
    if name.startswith("backbone.layers"):
        parts = name.split(".")
        if len(parts) < 3 or not parts[2].isdigit():
            raise ValueError(
                "LayerDecayOptimWrapperConstructor reads the block index of "
                f"{name!r} from its third component (MMPose's "
                "`int(name.split('.')[2])`), which is not an integer."
            )
        return int(parts[2]) + 1
    return num_max_layer - 1


def paramwise_multipliers(infos, constructor, paramwise_cfg):
    """Learning-rate and weight-decay multipliers of each parameter.

    ``DefaultOptimWrapperConstructor`` (MMEngine 0.10) per parameter: the
    longest ``custom_keys`` key contained in ``"<module path>.<name>"``
    (ties: alphabetical; a parameter of the top module is ``".<name>"``)
    sets ``lr_mult`` / ``decay_mult`` and skips every other rule. Otherwise
    ``bias_lr_mult`` scales ``bias`` parameters outside normalization
    layers, and the first of these decay rules that applies wins:
    ``norm_decay_mult`` (normalization layers), ``bias_decay_mult``
    (``bias``), ``dwconv_decay_mult`` (depthwise convolutions),
    ``flat_decay_mult`` (1-D parameters).
    ``ForceDefaultOptimWrapperConstructor`` (MMPose) with
    ``force_default_settings=True`` applies those rules after a
    ``custom_keys`` match as well, overriding it.

    ``LayerDecayOptimWrapperConstructor`` (MMPose): learning rate
    ``layer_decay_rate ** (num_layers + 1 - layer_id)`` (:func:`vit_layer_id`)
    and no decay for 1-D parameters, names ending in ``.bias`` and names
    containing ``pos_embed``; ``custom_keys`` and the default rules are
    ignored, as in MMPose.

    Args:
        infos: :class:`~keraspose.engine.optimizers.param_names.ParameterInfo`
            of each parameter.
        constructor: the constructor name.
        paramwise_cfg: the checked ``paramwise_cfg``
            (:func:`check_paramwise_cfg`).

    Returns:
        A list of ``(lr_mult, decay_mult)`` float pairs.
    """
    cfg = dict(paramwise_cfg or {})
    if not cfg:
        return [(1.0, 1.0)] * len(infos)
    if constructor == LAYER_DECAY:
        num_layers = int(cfg["num_layers"]) + 2
        rate = float(cfg["layer_decay_rate"])
        out = []
        for info in infos:
            no_decay = (
                info.ndim == 1
                or info.name.endswith(".bias")
                or "pos_embed" in info.name
            )
            layer_id = vit_layer_id(info.name, num_layers)
            scale = rate ** (num_layers - layer_id - 1)
            out.append((float(scale), 0.0 if no_decay else 1.0))
        return out

    custom_keys = cfg.get("custom_keys") or {}
    sorted_keys = sorted(sorted(custom_keys), key=len, reverse=True)
    force = bool(cfg.get("force_default_settings", False))
    bias_lr = cfg.get("bias_lr_mult")
    norm_decay = cfg.get("norm_decay_mult")
    bias_decay = cfg.get("bias_decay_mult")
    dwconv_decay = cfg.get("dwconv_decay_mult")
    flat_decay = cfg.get("flat_decay_mult")
    out = []
    for info in infos:
        lr_mult, decay_mult = 1.0, 1.0
        full = info.name if "." in info.name else "." + info.name
        key = next((k for k in sorted_keys if k in full), None)
        if key is not None:
            lr_mult = custom_keys[key].get("lr_mult", 1.0)
            decay_mult = custom_keys[key].get("decay_mult", 1.0)
        if key is None or force:
            is_bias = info.local_name == "bias"
            if is_bias and not info.is_norm and bias_lr is not None:
                lr_mult = bias_lr
            if info.is_norm and norm_decay is not None:
                decay_mult = norm_decay
            elif is_bias and bias_decay is not None:
                decay_mult = bias_decay
            elif info.is_dwconv and dwconv_decay is not None:
                decay_mult = dwconv_decay
            elif info.ndim == 1 and flat_decay is not None:
                decay_mult = flat_decay
        out.append((float(lr_mult), float(decay_mult)))
    return out
