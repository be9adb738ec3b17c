"""MMEngine parameter names and module types of Keras variables.

keraspose names every sublayer after its MMPose module path with "." written
"_" (``layer1_0`` is ``layer1.0``), so a Keras variable's ``path`` determines
the name PyTorch gives the same parameter (``backbone.layer1.0.conv1.weight``).
MMEngine's ``paramwise_cfg`` rules select parameters by that name and by the
type of the module that owns them (normalization layers, depthwise
convolutions); :func:`parameter_info` recovers both for the variables an
optimizer is built on.

The checkpoint converter (loading MMPose ``.pth`` state dicts) should reuse
:func:`parameter_name`, so that optimizer rules and weight loading agree on
one naming.
"""

import gc
from typing import NamedTuple

import keras

# Keras' short variable names -> PyTorch's, for any owner.
_VARIABLE_NAMES = {
    "kernel": "weight",
    "depthwise_kernel": "weight",
    "embeddings": "weight",
    "moving_mean": "running_mean",
    "moving_variance": "running_var",
}
# Normalization layers' scale / offset are torch's `weight` / `bias`.
_NORM_VARIABLE_NAMES = {"gamma": "weight", "beta": "bias"}

# MMEngine's normalization types (`_BatchNorm`, `_InstanceNorm`, `GroupNorm`,
# `LayerNorm`) in Keras; InstanceNorm is a GroupNormalization with one
# channel per group.
NORM_LAYERS = (
    keras.layers.BatchNormalization,
    keras.layers.LayerNormalization,
    keras.layers.GroupNormalization,
)


class ParameterInfo(NamedTuple):
    """What MMEngine's paramwise rules look at for one variable.

    Attributes:
        name: the full MMEngine parameter name (``head.final_layer.bias``).
        local_name: the name inside its module (``bias``).
        owner: the Keras layer that owns the variable, or None.
        is_norm: whether the owner is a normalization layer.
        is_dwconv: whether the owner is a 2D convolution with
            ``in_channels == groups`` (MMEngine's depthwise test).
        ndim: the number of dimensions of the variable.
    """

    name: str
    local_name: str
    owner: object
    is_norm: bool
    is_dwconv: bool
    ndim: int


def module_name(layer_name):
    """The MMEngine module path of a keraspose layer name.

    ``_<digits>`` segments are container indices: ``layer1_0`` is
    ``layer1.0`` and ``layers_3_attn`` is ``layers.3.attn`` (PyTorch
    attributes cannot start with a digit, so the index is a whole path
    component). Other underscores are kept (``patch_embed``, ``final_layer``).

    Args:
        layer_name: a Keras layer name.

    Returns:
        The dotted module path.

    Example:

    >>> module_name("layer1_0"), module_name("ffn_layers_0_0")
    ('layer1.0', 'ffn_layers.0.0')
    """
    tokens = layer_name.split("_")
    out = tokens[0]
    for prev, token in zip(tokens, tokens[1:]):
        index = token.isdigit() or prev.isdigit()
        out += ("." if index else "_") + token
    return out


def is_norm_layer(layer):
    """Whether ``layer`` is a normalization layer in MMEngine's sense.

    Keras' ``BatchNormalization``, ``LayerNormalization`` and
    ``GroupNormalization``, or any layer whose class sets
    ``is_norm_layer = True`` (for custom normalization layers).
    """
    if layer is None:
        return False
    return isinstance(layer, NORM_LAYERS) or bool(
        getattr(type(layer), "is_norm_layer", False)
    )


def is_depthwise_conv(layer):
    """MMEngine's depthwise test: a 2D convolution whose input channel
    count equals its number of groups (a 1-channel plain convolution counts
    too, as in MMEngine)."""
    if layer is None:
        return False
    if isinstance(layer, keras.layers.DepthwiseConv2D):
        return True
    kernel = getattr(layer, "kernel", None)
    groups = getattr(layer, "groups", None)
    if kernel is None or groups is None or len(kernel.shape) != 4:
        return False
    from keraspose.models.utils.conv2d import Conv2d

    if not isinstance(layer, Conv2d | keras.layers.Conv2D):
        return False
    # kernel: (kh, kw, in_channels // groups, filters)
    return int(kernel.shape[2]) * int(groups) == int(groups)


def parameter_name(variable, owner=None, root=None):
    """The MMEngine / PyTorch parameter name of a Keras variable.

    Path components are layer names (see :func:`module_name`); the
    variable's own name maps ``kernel`` -> ``weight``, ``moving_mean`` ->
    ``running_mean``, ``moving_variance`` -> ``running_var`` and, for
    normalization layers (or variables without an owner), ``gamma`` ->
    ``weight`` and ``beta`` -> ``bias``; other names are kept (``pos_embed``,
    RTMCCBlock's ``gamma``).

    Args:
        variable: a Keras variable.
        owner: the layer owning it (decides the ``gamma``/``beta`` rename);
            None for a variable without a layer.
        root: path prefix to drop (a string, or a layer / model whose
            ``path`` is used): the top-level model, which MMEngine's names
            do not include.

    Returns:
        The dotted name, e.g. ``"backbone.layers.3.attn.qkv.weight"``.

    Example:

    >>> import keras
    >>> bn = keras.layers.BatchNormalization(name="bn1")
    >>> bn.build((None, 4))
    >>> parameter_name(bn.gamma, owner=bn)
    'bn1.weight'
    """
    path = variable.path
    if root is not None:
        prefix = root if isinstance(root, str) else root.path
        if prefix and path.startswith(prefix + "/"):
            path = path[len(prefix) + 1 :]
    *layers, short = path.split("/")
    short = local_parameter_name(short.split(":")[0], owner)
    return ".".join([module_name(n) for n in layers] + [short])


def local_parameter_name(short, owner=None):
    """PyTorch's name for a Keras variable named ``short`` inside its
    module (``kernel`` -> ``weight``; ``gamma`` / ``beta`` -> ``weight`` /
    ``bias`` for normalization layers or variables without an owner)."""
    if owner is None or is_norm_layer(owner):
        short = _NORM_VARIABLE_NAMES.get(short, short)
    return _VARIABLE_NAMES.get(short, short)


def _live_layers():
    """Every live Keras layer (one pass over the garbage collector's
    objects; ``type()`` rather than ``isinstance`` so that no object's
    ``__class__`` property runs)."""
    layer_type = keras.layers.Layer
    return [o for o in gc.get_objects() if issubclass(type(o), layer_type)]


def owning_layers(variables, layers=None):
    """The layer owning each variable (None when no layer tracks it).

    Keras variables do not point back to their layer; this maps every live
    layer's own (non-nested) variables to it. A variable tracked by several
    layers (shared weights) goes to the layer whose path prefixes its own.

    Args:
        variables: Keras variables.
        layers: the layers to search (default: every live Keras layer).

    Returns:
        A list with the owning layer (or None) of each variable.
    """
    wanted = {id(v): v for v in variables}
    owners = {}
    for layer in _live_layers() if layers is None else layers:
        own = list(getattr(layer, "_trainable_variables", ()))
        own += list(getattr(layer, "_non_trainable_variables", ()))
        for v in own:
            key = id(v)
            if wanted.get(key) is not v:
                continue
            if key not in owners or _created_by(layer, v):
                owners[key] = layer
    return [owners.get(id(v)) for v in variables]


def _created_by(layer, variable):
    path = getattr(layer, "path", None)
    return bool(path) and variable.path.rsplit("/", 1)[0] == path


def _root_path(variables, layers):
    """The top-level model's path when every variable lies under it.

    Subclassed and Sequential models put their own name first in their
    variables' paths (``topdown_pose_estimator/backbone/...``); MMEngine's
    names start below the model. Functional models do not prefix paths.
    """
    firsts = {v.path.split("/", 1)[0] for v in variables if "/" in v.path}
    if len(firsts) != 1 or any("/" not in v.path for v in variables):
        return None
    (first,) = firsts
    for layer in layers:
        if isinstance(layer, keras.Model) and (
            getattr(layer, "path", None) == first
        ):
            return first
    return None


def _tree_names(variables, layers, root):
    """``{id(variable): name}`` from the layer tree of the model that holds
    every variable (the checkpoint converter's naming): unlike variable
    paths, it also names the weights of layers built before they were
    attached to their parent (RealNVP's)."""
    from keraspose.converters.state_dict import named_weights

    wanted = {id(v) for v in variables}
    models = [
        layer
        for layer in layers
        if isinstance(layer, keras.Model)
        and getattr(layer, "built", False)
        and (root is None or getattr(layer, "path", None) == root)
    ]
    for model in models:
        if wanted <= {id(v) for v in model.weights}:
            try:
                names = named_weights(model)
            except ValueError:
                return {}
            return {id(v): name for name, (v, _) in names.items()}
    return {}


def parameter_info(variables):
    """:class:`ParameterInfo` of each variable, as MMEngine would see it.

    Names are relative to the top-level model (see :func:`parameter_name`).

    Args:
        variables: the variables an optimizer is built on.

    Returns:
        A list of :class:`ParameterInfo`, one per variable.
    """
    variables = list(variables)
    layers = _live_layers()
    owners = owning_layers(variables, layers)
    root = _root_path(variables, layers)
    tree = _tree_names(variables, layers, root)
    infos = []
    for variable, owner in zip(variables, owners):
        name = tree.get(id(variable)) or parameter_name(
            variable, owner=owner, root=root
        )
        norm = is_norm_layer(owner)
        if owner is None:
            # No layer to ask: Keras' normalization names stand for it.
            norm = variable.path.split("/")[-1] in _NORM_VARIABLE_NAMES
        infos.append(
            ParameterInfo(
                name=name,
                local_name=name.rsplit(".", 1)[-1],
                owner=owner,
                is_norm=norm,
                is_dwconv=is_depthwise_conv(owner),
                ndim=len(variable.shape),
            )
        )
    return infos
