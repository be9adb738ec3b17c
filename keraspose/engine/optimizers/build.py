"""Builds a Keras optimizer from MMEngine's ``optim_wrapper`` config."""

import warnings

from keraspose.engine.optimizers.paramwise import check_paramwise_cfg
from keraspose.engine.optimizers.paramwise import constructor_name
from keraspose.engine.optimizers.torch_optimizers import TorchAdam
from keraspose.engine.optimizers.torch_optimizers import TorchAdamW
from keraspose.engine.optimizers.torch_optimizers import TorchSGD
from keraspose.engine.schedulers.param_scheduler_schedule import (
    ParamSchedulerSchedule,
)

# torch.optim arguments per type and their torch defaults.
_TORCH_ARGS = {
    "Adam": dict(
        lr=1e-3,
        betas=(0.9, 0.999),
        eps=1e-8,
        weight_decay=0.0,
        amsgrad=False,
        maximize=False,
        decoupled_weight_decay=False,
    ),
    "AdamW": dict(
        lr=1e-3,
        betas=(0.9, 0.999),
        eps=1e-8,
        weight_decay=1e-2,
        amsgrad=False,
        maximize=False,
    ),
    "SGD": dict(
        lr=1e-3,
        momentum=0.0,
        dampening=0.0,
        weight_decay=0.0,
        nesterov=False,
        maximize=False,
    ),
}
# torch.optim implementation switches that do not change the numbers.
_IMPLEMENTATION_ARGS = ("foreach", "fused", "capturable", "differentiable")

_WRAPPERS = ("OptimWrapper", "AmpOptimWrapper")
_WRAPPER_ARGS = (
    "optimizer",
    "constructor",
    "paramwise_cfg",
    "clip_grad",
    "accumulative_counts",
)
_AMP_ARGS = ("loss_scale", "dtype", "use_fsdp")


def _type_name(value):
    return str(value).rsplit(".", 1)[-1]


def _clip_kwargs(clip_grad):
    if not clip_grad:
        return {}
    cfg = dict(clip_grad)
    clip_type = cfg.pop("type", "norm")
    cfg.pop("foreach", None)
    if cfg.pop("error_if_nonfinite", False):
        raise NotImplementedError(
            "clip_grad.error_if_nonfinite=True is not supported."
        )
    if clip_type == "norm":
        if "max_norm" not in cfg:
            raise ValueError(
                f"clip_grad needs `max_norm`. Received: {clip_grad}"
            )
        max_norm = float(cfg.pop("max_norm"))
        norm_type = float(cfg.pop("norm_type", 2.0))
        if norm_type != 2.0:
            raise NotImplementedError(
                f"clip_grad.norm_type={norm_type}: only the global L2 norm "
                "(norm_type=2) maps to Keras' `global_clipnorm`."
            )
        kwargs = {"global_clipnorm": max_norm}
    elif clip_type == "value":
        if "clip_value" not in cfg:
            raise ValueError(
                "clip_grad type 'value' needs `clip_value`. Received: "
                f"{clip_grad}"
            )
        kwargs = {"clipvalue": float(cfg.pop("clip_value"))}
    else:
        raise ValueError(
            "clip_grad.type must be 'norm' or 'value'. Received: "
            f"type={clip_type!r}"
        )
    if cfg:
        raise ValueError(
            f"clip_grad: unsupported argument(s) {sorted(cfg)}. Received: "
            f"{clip_grad}"
        )
    return kwargs


def _optimizer_args(optimizer_cfg):
    """Checks a torch optimizer config; returns its type and arguments."""
    cfg = dict(optimizer_cfg)
    cfg.pop("_scope_", None)
    if "type" not in cfg:
        raise ValueError(f"optimizer config needs a `type`. Received: {cfg}")
    opt_type = _type_name(cfg.pop("type"))
    if opt_type not in _TORCH_ARGS:
        raise ValueError(
            f"Unsupported optimizer type {opt_type!r}. Supported types: "
            f"{sorted(_TORCH_ARGS)}."
        )
    defaults = _TORCH_ARGS[opt_type]
    for key in _IMPLEMENTATION_ARGS:
        cfg.pop(key, None)
    unknown = sorted(set(cfg) - set(defaults))
    if unknown:
        raise ValueError(
            f"{opt_type}: unsupported argument(s) {unknown}. Supported "
            f"arguments: {sorted(defaults) + list(_IMPLEMENTATION_ARGS)}."
        )
    if cfg.get("maximize"):
        raise NotImplementedError(f"{opt_type}: `maximize=True`.")
    return opt_type, {**defaults, **cfg}


def build_optimizer(
    optim_wrapper,
    steps_per_epoch,
    param_scheduler=None,
    batch_size=None,
    auto_scale_lr=None,
    max_epochs=None,
):
    """Builds the Keras optimizer of an MMEngine training config.

    ``Adam``, ``AdamW`` and ``SGD`` map to :class:`TorchAdam`,
    :class:`TorchAdamW` and :class:`TorchSGD`: Keras optimizers with
    ``torch.optim``'s update rules (L2 ``weight_decay`` for Adam/SGD,
    torch's momentum buffer and epsilon placement). ``clip_grad`` maps to
    ``global_clipnorm`` (``norm_type=2``) or ``clipvalue`` (``type='value'``)
    and ``accumulative_counts`` to ``gradient_accumulation_steps``. The
    learning rate is ``optimizer.lr`` (times ``batch_size /
    base_batch_size`` when ``auto_scale_lr.enable``), driven by a
    :class:`ParamSchedulerSchedule` when ``param_scheduler`` is given.

    ``paramwise_cfg`` becomes a learning-rate and a weight-decay multiplier
    per variable, evaluated when the optimizer is built on a model's
    variables from their MMEngine names (``backbone.layer1.0.conv1.weight``)
    and their layers' types:

    * ``DefaultOptimWrapperConstructor`` (and no ``constructor``):
      ``custom_keys`` (``lr_mult``, ``decay_mult``; the longest key that is
      a substring of the name wins and turns the other rules off),
      ``bias_lr_mult``, ``norm_decay_mult``, ``bias_decay_mult``,
      ``dwconv_decay_mult``, ``flat_decay_mult``, in MMEngine's precedence.
      ``dcn_offset_lr_mult`` selects nothing (keraspose has no deformable
      convolutions) and ``bypass_duplicate`` changes nothing (Keras lists
      shared variables once).
    * MMPose's ``ForceDefaultOptimWrapperConstructor``: the same, and with
      ``force_default_settings=True`` the default rules also override a
      ``custom_keys`` match.
    * MMPose's ``LayerDecayOptimWrapperConstructor`` (ViTPose): learning
      rate ``layer_decay_rate ** (num_layers + 1 - layer_id)`` with
      MMPose's ViT layer ids (0 for ``backbone.pos_embed`` /
      ``cls_token`` / ``patch_embed``, ``i + 1`` for ``backbone.layers.i``,
      ``num_layers + 1`` for the rest), and no weight decay for 1-D
      variables, names ending in ``.bias`` and names containing
      ``pos_embed``. As in MMPose, its ``custom_keys`` are ignored (the
      ViTPose configs' ``'bias': dict(decay_multi=0.0)`` typo is
      harmless).

    As in MMEngine, decay multipliers apply only when the optimizer config
    sets ``weight_decay`` (``bias_decay_mult``, ``norm_decay_mult``,
    ``dwconv_decay_mult`` or a ``custom_keys`` ``decay_mult`` without it
    raise ``ValueError``), and a group's learning rate follows the
    ``param_scheduler`` from its own base rate (with an absolute
    ``eta_min`` it is not a multiple of the base rate).

    Not supported (``NotImplementedError``): ``custom_keys`` rules setting
    optimizer arguments (``lr``, ``momentum``...) per group, several
    optimizers. ``AmpOptimWrapper`` warns: mixed precision comes from the
    Keras dtype policy (``Model.compile`` adds loss scaling for
    ``mixed_float16``).

    Args:
        optim_wrapper: MMEngine's ``optim_wrapper`` dict.
        steps_per_epoch: training iterations per epoch.
        param_scheduler: MMEngine's ``param_scheduler`` list (or dict), or
            None for a constant learning rate.
        batch_size: the global batch size (all devices), used by
            ``auto_scale_lr``.
        auto_scale_lr: MMEngine's ``auto_scale_lr`` dict
            (``base_batch_size``, ``enable``), or None.
        max_epochs: ``train_cfg.max_epochs``: the default ``end`` of the
            schedulers, as in MMEngine's runner.

    Returns:
        A Keras optimizer.

    Example:

    >>> opt = build_optimizer(
    ...     dict(optimizer=dict(type="AdamW", lr=4e-3, weight_decay=0.05),
    ...          paramwise_cfg=dict(norm_decay_mult=0, bias_decay_mult=0),
    ...          clip_grad=dict(max_norm=35, norm_type=2)),
    ...     steps_per_epoch=100,
    ...     param_scheduler=[dict(type="LinearLR", start_factor=1e-5,
    ...                           by_epoch=False, begin=0, end=1000)],
    ...     max_epochs=420,
    ... )
    >>> type(opt).__name__, opt.weight_decay, opt.global_clipnorm
    ('TorchAdamW', 0.05, 35.0)
    >>> opt.paramwise_cfg
    {'norm_decay_mult': 0.0, 'bias_decay_mult': 0.0}
    """
    if not isinstance(optim_wrapper, dict):
        raise TypeError(
            "`optim_wrapper` must be an MMEngine optim_wrapper dict. "
            f"Received: {optim_wrapper!r}"
        )
    cfg = dict(optim_wrapper)
    cfg.pop("_scope_", None)
    wrapper_type = _type_name(cfg.pop("type", "OptimWrapper"))
    if wrapper_type not in _WRAPPERS:
        raise NotImplementedError(
            f"optim_wrapper type {wrapper_type!r} is not supported. "
            f"Supported types: {list(_WRAPPERS)}."
        )
    if wrapper_type == "AmpOptimWrapper":
        for key in _AMP_ARGS:
            cfg.pop(key, None)
        warnings.warn(
            "AmpOptimWrapper: Keras selects mixed precision through the "
            "dtype policy (keras.config.set_dtype_policy('mixed_float16' or "
            "'mixed_bfloat16')) and Model.compile adds dynamic loss scaling "
            "for float16; the optimizer is built as for OptimWrapper.",
            stacklevel=2,
        )
    if "optimizer" not in cfg:
        raise NotImplementedError(
            "optim_wrapper without an `optimizer` entry (an "
            "OptimWrapperDict of several optimizers) is not supported."
        )
    unknown = sorted(set(cfg) - set(_WRAPPER_ARGS))
    if unknown:
        raise ValueError(
            f"optim_wrapper: unsupported argument(s) {unknown}. Supported "
            f"arguments: {['type', *_WRAPPER_ARGS]}."
        )
    constructor = constructor_name(cfg.get("constructor"))

    opt_type, args = _optimizer_args(cfg["optimizer"])
    optimizer_cfg = dict(cfg["optimizer"])
    paramwise_cfg = check_paramwise_cfg(
        constructor,
        cfg.get("paramwise_cfg"),
        base_lr=optimizer_cfg.get("lr"),
        base_wd=optimizer_cfg.get("weight_decay"),
        optimizer_args=tuple(_TORCH_ARGS[opt_type]) + _IMPLEMENTATION_ARGS,
    )

    lr = float(args["lr"])
    if auto_scale_lr and auto_scale_lr.get("enable", False):
        if "base_batch_size" not in auto_scale_lr:
            raise ValueError("auto_scale_lr needs `base_batch_size`.")
        if batch_size is None:
            raise ValueError(
                "auto_scale_lr is enabled: pass the global `batch_size`."
            )
        lr *= float(batch_size) / float(auto_scale_lr["base_batch_size"])
    learning_rate = lr
    if param_scheduler:
        learning_rate = ParamSchedulerSchedule(
            base_lr=lr,
            param_scheduler=param_scheduler,
            steps_per_epoch=steps_per_epoch,
            max_epochs=max_epochs,
        )

    kwargs = _clip_kwargs(cfg.get("clip_grad"))
    accumulation = int(cfg.get("accumulative_counts", 1))
    if accumulation < 1:
        raise ValueError(
            f"accumulative_counts must be >= 1. Received: {accumulation}"
        )
    if accumulation > 1:
        kwargs["gradient_accumulation_steps"] = accumulation
    weight_decay = float(args["weight_decay"])
    common = dict(
        learning_rate=learning_rate,
        paramwise_cfg=paramwise_cfg,
        constructor=constructor,
        **kwargs,
    )
    if opt_type == "SGD":
        if float(args["dampening"]) != 0:
            raise NotImplementedError("SGD: `dampening` other than 0.")
        return TorchSGD(
            momentum=float(args["momentum"]),
            nesterov=bool(args["nesterov"]),
            weight_decay=weight_decay or None,
            **common,
        )
    beta_1, beta_2 = (float(b) for b in args["betas"])
    adam_args = dict(
        beta_1=beta_1,
        beta_2=beta_2,
        epsilon=float(args["eps"]),
        amsgrad=bool(args["amsgrad"]),
        **common,
    )
    if opt_type == "AdamW" or args.get("decoupled_weight_decay"):
        return TorchAdamW(weight_decay=weight_decay, **adam_args)
    return TorchAdam(weight_decay=weight_decay or None, **adam_args)
