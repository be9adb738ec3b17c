"""PyTorch state dicts <-> keraspose models, by MMPose parameter name.

keraspose names every sublayer after its MMPose module path with "." written
"_", so each Keras weight has exactly one PyTorch name
(its module path from the layer names, as
:func:`keraspose.engine.optimizers.param_names.parameter_name` gives the
optimizer's ``paramwise_cfg`` rules). Loading is a name lookup plus
a layout change for the layers whose tensors PyTorch stores differently:

=====================  =======================  ===========================
layer                  PyTorch ``weight``       Keras kernel
=====================  =======================  ===========================
``Conv2d``             (out, in/groups, kh, kw)  (kh, kw, in/groups, out)
``ConvTranspose2d``    (in, out, kh, kw)         (kh, kw, in, out)
``Dense`` (Linear)     (out, in)                 (in, out)
``Conv1D`` (Conv1d)    (out, in, k)              (k, in, out)
=====================  =======================  ===========================

Everything else (norm layers, position embeddings, scales) has the same shape
on both sides. Before matching, MMPose's own load-time rewrites are applied
(the ``_load_state_dict_pre_hook`` methods of its modules): 0.x checkpoints'
``keypoint_head`` becomes ``head``, old ``HeatmapHead`` / ``RLEHead`` /
``IntegralRegressionHead`` key layouts are renamed, and a ViT's ``pos_embed``
loses its class-token entry or is resized bicubically to the model's patch
grid, as mmpretrain does.

Buffers that keraspose computes from the config instead of storing
(BatchNorm's ``num_batches_tracked``, the data preprocessor's ``mean`` /
``std``, RealNVP's ``mask`` / ``loc`` / ``cov``, the integral heads'
``linspace_*``) are skipped and listed in the report.
"""

import collections
from typing import NamedTuple

import keras
import numpy as np

from keraspose.engine.optimizers.param_names import local_parameter_name
from keraspose.engine.optimizers.param_names import module_name

# Buffers keraspose derives from the config: skipped, by owner class name.
_CONSTANT_BUFFERS = {
    "RealNVP": ("mask", "loc", "cov"),
    "IntegralRegressionHead": ("linspace_x", "linspace_y"),
    "DSNTHead": ("linspace_x", "linspace_y"),
    "AdaptiveActivationBlock": ("regular_matrix",),
}
_ALWAYS_SKIPPED = ("num_batches_tracked",)
_PREPROCESSOR_BUFFERS = ("data_preprocessor.mean", "data_preprocessor.std")


class LoadReport(NamedTuple):
    """What :func:`load_state_dict` did.

    Attributes:
        loaded: checkpoint keys assigned to a Keras weight.
        missing: MMPose names of Keras weights the checkpoint lacks.
        unexpected: checkpoint keys that match no Keras weight.
        skipped: checkpoint buffers keraspose computes itself.
        renamed: ``(old, new)`` keys rewritten by MMPose's load hooks.
    """

    loaded: list
    missing: list
    unexpected: list
    skipped: list
    renamed: list

    def summary(self):
        """A one-line human summary."""
        parts = [f"{len(self.loaded)} tensors loaded"]
        for name in ("missing", "unexpected", "skipped", "renamed"):
            if getattr(self, name):
                parts.append(f"{len(getattr(self, name))} {name}")
        return ", ".join(parts)


def _class_names(layer):
    return {klass.__name__ for klass in type(layer).__mro__}


def _layout(owner):
    """``(to_keras, to_torch)`` array transforms for ``owner``'s kernel."""
    from keraspose.models.utils.conv2d import Conv2d
    from keraspose.models.utils.conv_transpose2d import ConvTranspose2d
    from keraspose.models.utils.deform_conv2d import DeformConv2d

    if isinstance(owner, Conv2d | DeformConv2d):
        return (lambda w: w.transpose(2, 3, 1, 0)), (
            lambda w: w.transpose(3, 2, 0, 1)
        )
    if isinstance(owner, ConvTranspose2d):
        return (lambda w: w.transpose(2, 3, 0, 1)), (
            lambda w: w.transpose(2, 3, 0, 1)
        )
    if isinstance(owner, keras.layers.Dense):
        return np.transpose, np.transpose
    if isinstance(owner, keras.layers.Conv1D):  # (out, in, k) <-> (k, in, out)
        return np.transpose, np.transpose
    return None


def _is_kernel(variable):
    return variable.path.rsplit("/", 1)[-1].split(":")[0] == "kernel"


def _own_variables(layer):
    return list(getattr(layer, "_trainable_variables", ())) + list(
        getattr(layer, "_non_trainable_variables", ())
    )


def _walk(layer, prefix, seen):
    """``(module path, layer)`` pairs of ``layer``'s tree, depth first,
    by layer name (not variable path: layers built before being attached
    to their parent keep a short path)."""
    if id(layer) in seen:
        return
    seen.add(id(layer))
    yield prefix, layer
    for sub in layer._flatten_layers(include_self=False, recursive=False):
        name = module_name(sub.name)
        yield from _walk(sub, f"{prefix}.{name}" if prefix else name, seen)


def _modules(layer):
    """``{MMPose module path: layer}`` for ``layer`` and its sublayers."""
    return dict(_walk(layer, "", set()))


def named_weights(layer):
    """``{MMPose name: (variable, owner)}`` for every weight of ``layer``.

    Names are relative to ``layer`` (``backbone.layer1.0.conv1.weight`` for
    a pose estimator, ``layer1.0.conv1.weight`` for its backbone): the
    module path of each owning layer (layer names, see
    :func:`~keraspose.engine.optimizers.param_names.module_name`) plus
    PyTorch's name of the variable.

    Args:
        layer: a built Keras layer or model.

    Returns:
        An ordered dict in depth-first layer order.
    """
    weights = {id(v) for v in layer.weights}
    out = collections.OrderedDict()
    seen_variables = set()
    for path, owner in _modules(layer).items():
        for variable in _own_variables(owner):
            if id(variable) not in weights or id(variable) in seen_variables:
                continue
            seen_variables.add(id(variable))
            local = local_parameter_name(variable.name, owner)
            name = f"{path}.{local}" if path else local
            if name in out:
                raise ValueError(
                    f"Two weights of {layer.name!r} map to the PyTorch name "
                    f"{name!r}: {out[name][0].path} and {variable.path}."
                )
            out[name] = (variable, owner)
    return out


def _version(metadata, module):
    entry = (metadata or {}).get(module)
    if isinstance(entry, dict):
        return entry.get("version")
    return None


def _rename(state, old, new, renamed):
    state[new] = state.pop(old)
    renamed.append((old, new))


def _apply_mmpose_hooks(state, modules, metadata, renamed):
    """MMPose's and mmpretrain's ``_load_state_dict_pre_hook`` rewrites."""
    # BasePoseEstimator (version 2): 0.x checkpoints call the head
    # "keypoint_head".
    if not (_version(metadata, "") or 0) >= 2:
        for key in [k for k in state if "keypoint_head" in k]:
            _rename(state, key, key.replace("keypoint_head", "head"), renamed)
    for path, layer in modules.items():
        names = _class_names(layer)
        prefix = path + "." if path else ""
        version = _version(metadata, path) or 0
        if "HeatmapHead" in names and version < 2:
            _heatmap_head_hook(layer, state, prefix, renamed)
        if "RLEHead" in names and version < 2:
            for key in [k for k in state if k.startswith(prefix + "loss.")]:
                new = prefix + "loss_module." + key[len(prefix) + 5 :]
                _rename(state, key, new, renamed)
        if "IntegralRegressionHead" in names:
            _integral_head_hook(layer, state, prefix, renamed)
        if "DEKRHead" in names and version < 2:
            _dekr_head_hook(state, prefix, renamed)
        if "VisionTransformer" in names:
            _vit_pos_embed_hook(layer, state, prefix)


def _heatmap_head_hook(head, state, prefix, renamed):
    # Before 1.0 the intermediate convs were "final_layer.<n>"; the last
    # of them is the new "final_layer".
    num_convs = len(getattr(head, "conv_layers", None) or [])
    for key in [k for k in state if k.startswith(prefix + "final_layer.")]:
        parts = key[len(prefix) :].split(".")
        if len(parts) != 3:
            continue
        index = int(parts[1])
        if index < num_convs:
            new = prefix + "conv_layers." + ".".join(parts[1:])
        else:
            new = prefix + "final_layer." + parts[2]
        _rename(state, key, new, renamed)


def _dekr_head_hook(state, prefix, renamed):
    # MMPose 0.x DEKR: "offset_conv_layers" (displacements pointing the
    # other way: the last conv is negated), the root heatmap first instead
    # of last, and the rescore net at the top level. MMPose rewrites any
    # state without version metadata; keraspose only one with 0.x keys,
    # so that 1.x state dicts that lost their metadata (npz) load as is.
    if not any(
        k.startswith(prefix) and "offset_conv_layers" in k for k in state
    ):
        return
    for key in list(state):
        if key.startswith(prefix) and "offset_conv_layers" in key:
            new = key.replace("offset_conv_layers", "displacement_conv_layers")
            if "displacement_conv_layers.3." in new:
                state[key] = -np.asarray(state[key])
            _rename(state, key, new, renamed)
        elif key.startswith(prefix + "heatmap_conv_layers.2."):
            value = np.asarray(state[key])
            state[key] = np.concatenate([value[1:], value[:1]])
        elif key.startswith("rescore_net.") and prefix:
            _rename(state, key, prefix + key, renamed)


def _integral_head_hook(head, state, prefix, renamed):
    # IntegralRegressionHead loads a HeatmapHead's deconvs and final layer
    # into its "simplebaseline_head" (MMPose applies this to any version).
    if getattr(head, "simplebaseline_head", None) is None:
        return
    for key in [k for k in state if k.startswith(prefix)]:
        local = key[len(prefix) :]
        first, _, rest = local.partition(".")
        if first == "conv_layers":
            new = prefix + "simplebaseline_head.deconv_layers." + rest
        elif first == "final_layer":
            new = prefix + "simplebaseline_head." + local
        else:
            continue
        _rename(state, key, new, renamed)


def _vit_pos_embed_hook(vit, state, prefix):
    from keraspose.models.backbones.vision_transformer import resize_pos_embed

    key = prefix + "pos_embed"
    if key not in state or getattr(vit, "pos_embed", None) is None:
        return
    value = state[key]
    want = tuple(vit.pos_embed.shape)
    if not vit.with_cls_token and value.shape[1] == want[1] + 1:
        value = value[:, 1:]  # the class token's entry is not used
    if tuple(value.shape) != want:
        side = int(np.sqrt(value.shape[1] - vit.num_extra_tokens))
        value = np.asarray(
            keras.ops.convert_to_numpy(
                resize_pos_embed(
                    value.astype(np.float32),
                    (side, side),
                    tuple(vit.patch_resolution),
                    mode=vit.interpolate_mode,
                    num_extra_tokens=vit.num_extra_tokens,
                )
            )
        )
    state[key] = value


def _is_constant_buffer(key, modules):
    if key.rsplit(".", 1)[-1] in _ALWAYS_SKIPPED or key in (
        _PREPROCESSOR_BUFFERS
    ):
        return True
    module, _, local = key.rpartition(".")
    layer = modules.get(module)
    if layer is None:
        return False
    return any(
        local in _CONSTANT_BUFFERS.get(name, ()) for name in _class_names(layer)
    )


def _shape_error(key, value, variable, owner, source):
    layout = _layout(owner) if _is_kernel(variable) else None
    torch_shape = tuple(variable.shape)
    if layout is not None:
        torch_shape = layout[1](np.empty(variable.shape, np.uint8)).shape
    where = f" of {source}" if source else ""
    return ValueError(
        f"Shape mismatch for {key!r}{where}: the checkpoint holds "
        f"{tuple(value.shape)}, the keraspose model expects {torch_shape} "
        f"(PyTorch layout; Keras weight {variable.path} "
        f"{tuple(variable.shape)}). Check that the config matches the "
        "checkpoint (widths, number of keypoints, input size)."
    )


def load_state_dict(model, state_dict, strict=True, source=None):
    """Loads a PyTorch / MMPose state dict into a built keraspose layer.

    Keys are matched to the Keras weights by MMPose parameter name
    (relative to ``model``: pass a pose estimator for a full MMPose
    checkpoint, ``model.backbone`` for a backbone-only one), after MMPose's
    own load-time renames; kernels are transposed to Keras' layout.

    Args:
        model: a built Keras layer or model.
        state_dict: ``{name: array}`` (NumPy arrays or anything
            ``np.asarray`` accepts). An ``OrderedDict`` with PyTorch's
            ``_metadata`` (module versions) selects MMPose's upgrade rules
            as PyTorch would.
        strict: raise when a Keras weight has no checkpoint entry or a
            checkpoint entry matches no weight (shape mismatches always
            raise). With ``strict=False`` the rest is loaded and reported.
        source: the checkpoint's name for messages (e.g. its path).

    Returns:
        A :class:`LoadReport`.

    Raises:
        ValueError: on a shape mismatch (naming the key and both shapes),
            or with ``strict=True`` on missing or unexpected keys (naming
            them all).

    Example:

    >>> import keras, keraspose
    >>> from keraspose.converters import load_state_dict
    >>> bn = keraspose.build(dict(type="ResNet", depth=18)).get_layer("bn1")
    >>> bn.build((None, 8, 8, 64))
    >>> report = load_state_dict(bn, {
    ...     "weight": np.ones(64), "bias": np.zeros(64),
    ...     "running_mean": np.zeros(64), "running_var": np.ones(64),
    ...     "num_batches_tracked": np.array(0)})
    >>> report.summary()
    '4 tensors loaded, 1 skipped'
    """
    if not getattr(model, "built", False):
        raise ValueError(
            f"Build {model.name!r} before loading weights into it (call it "
            "on an input, or `model.build(input_shape)`)."
        )
    metadata = getattr(state_dict, "_metadata", None)
    state = collections.OrderedDict(
        (str(k), np.asarray(v)) for k, v in state_dict.items()
    )
    weights = named_weights(model)
    modules = _modules(model)
    renamed = []
    _apply_mmpose_hooks(state, modules, metadata, renamed)

    loaded, skipped, unexpected = [], [], []
    assignments = []
    for key, value in state.items():
        if key not in weights:
            if _is_constant_buffer(key, modules):
                skipped.append(key)
            else:
                unexpected.append(key)
            continue
        variable, owner = weights[key]
        layout = _layout(owner) if _is_kernel(variable) else None
        array = value if layout is None else layout[0](value)
        if tuple(array.shape) != tuple(variable.shape):
            if array.size == int(np.prod(variable.shape)) and (
                array.ndim <= 1 and len(variable.shape) <= 1
            ):
                array = array.reshape(variable.shape)  # () vs (1,) scalars
            else:
                raise _shape_error(key, value, variable, owner, source)
        assignments.append((variable, array))
        loaded.append(key)
    missing = [name for name in weights if name not in state]
    if strict and (missing or unexpected):
        where = f" {source!r}" if source else ""
        lines = [f"The checkpoint{where} does not match the keraspose model:"]
        if missing:
            lines.append(
                f"  missing keys ({len(missing)}): {', '.join(missing)}"
            )
        if unexpected:
            lines.append(
                f"  unexpected keys ({len(unexpected)}): "
                f"{', '.join(unexpected)}"
            )
        lines.append(
            "Pass strict=False to load the matching weights anyway, or "
            "check that the config matches the checkpoint."
        )
        raise ValueError("\n".join(lines))
    for variable, array in assignments:
        variable.assign(np.asarray(array, dtype=variable.dtype))
    return LoadReport(loaded, missing, unexpected, skipped, renamed)


def export_state_dict(model):
    """The MMPose / PyTorch state dict of a built keraspose layer.

    The inverse of :func:`load_state_dict`: every Keras weight under its
    MMPose name, in PyTorch's layout (float32 NumPy arrays). Buffers that
    keraspose does not store (``num_batches_tracked``, RealNVP's constants)
    are not included; PyTorch's ``load_state_dict(..., strict=False)`` fills
    them from the module.

    Args:
        model: a built Keras layer or model.

    Returns:
        An ``OrderedDict`` ``{name: np.ndarray}``.

    Example:

    >>> import keraspose
    >>> net = keraspose.build(dict(type="ResNet", depth=18))
    >>> net.build((None, 32, 32, 3))
    >>> state = export_state_dict(net)
    >>> state["conv1.weight"].shape
    (64, 3, 7, 7)
    """
    out = collections.OrderedDict()
    for name, (variable, owner) in named_weights(model).items():
        array = keras.ops.convert_to_numpy(variable.value)
        layout = _layout(owner) if _is_kernel(variable) else None
        if layout is not None:
            array = layout[1](array)
        out[name] = np.ascontiguousarray(array)
    return out
