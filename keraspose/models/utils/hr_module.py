"""The multi-resolution module of HRNet (MMPose's ``HRModule``)."""

import keras
from keras import ops

from keraspose.models.utils.conv2d import Conv2d
from keraspose.models.utils.norm import build_norm_layer
from keraspose.registry import register

# block name -> (bottleneck, expansion), MMPose's ``blocks_dict``
BLOCKS = {"BASIC": (False, 1), "BOTTLENECK": (True, 4)}

_UPSAMPLE_MODES = ("nearest", "bilinear", "bicubic")


def _int_tuple(value, name):
    if isinstance(value, int):
        value = (value,)
    try:
        value = tuple(value)
    except TypeError:
        value = None
    if value is None or not all(
        isinstance(v, int) and not isinstance(v, bool) for v in value
    ):
        raise ValueError(
            f"Expected `{name}` to be a sequence of ints. Received: "
            f"{name}={value!r}"
        )
    return value


@register
class HRModule(keras.layers.Layer):
    """One high-resolution module: parallel branches plus a fusion.

    Reference: Sun et al., "Deep High-Resolution Representation Learning
    for Human Pose Estimation", CVPR 2019.

    Branch ``i`` is a chain of ``num_blocks[i]`` residual blocks
    (``branches_i_k``, :class:`ResidualBlock`) with
    ``num_channels[i] * expansion`` output channels; its first block gets a
    1x1 projection when the input channels differ. The fusion then builds,
    for every output resolution ``i``, the sum over all branches ``j``:
    the branch itself for ``j == i``; a 1x1 conv + BN followed by an
    upsampling by ``2**(j - i)`` for a lower resolution ``j > i``
    (``fuse_layers_i_j_0``, ``fuse_layers_i_j_1``); ``i - j`` stride-2 3x3
    conv + BN steps (ReLU between them) for a higher resolution ``j < i``
    (``fuse_layers_i_j_k_0``, ``fuse_layers_i_j_k_1``); then a ReLU. Layer
    names are MMPose's module paths with ``.`` written ``_``.

    As in MMPose: with ``multiscale_output=False`` only the highest
    resolution is fused and returned (a list of one tensor); a module with a
    single branch has no fusion and no final ReLU. ``nearest`` upsampling
    by the integer factor is a plain repeat; ``bilinear`` / ``bicubic``
    (``upsample_cfg`` of HRNetV2 configs) follow ``F.interpolate`` with the
    scale factor and need static feature sizes.

    Args:
        num_branches: number of parallel resolutions.
        blocks: residual block type, ``"BASIC"`` or ``"BOTTLENECK"``
            (MMPose passes the block class).
        num_blocks: blocks per branch.
        in_channels: input channels per branch.
        num_channels: block channels per branch (before the expansion).
        multiscale_output: fuse and return every resolution.
        with_cp: accepted for MMPose compatibility (no checkpointing).
        conv_cfg: accepted for MMPose compatibility (plain conv only).
        norm_cfg: MMPose norm config.
        upsample_cfg: ``dict(mode=..., align_corners=...)`` of the fusion's
            upsampling.
        zero_init_residual: zero gamma of each block's last norm.
        init_cfg: accepted for MMPose compatibility.
        **kwargs: base layer arguments.

    Example:

    >>> import numpy as np
    >>> module = HRModule(2, "BASIC", (1, 1), (4, 8), (4, 8),
    ...                   multiscale_output=True)
    >>> x = [np.zeros((1, 8, 8, 4), "float32"),
    ...      np.zeros((1, 4, 4, 8), "float32")]
    >>> [y.shape for y in module(x)]
    [(1, 8, 8, 4), (1, 4, 4, 8)]
    """

    def __init__(
        self,
        num_branches,
        blocks,
        num_blocks,
        in_channels,
        num_channels,
        multiscale_output=False,
        with_cp=False,
        conv_cfg=None,
        norm_cfg=dict(type="BN"),  # noqa: B006 (MMPose's default)
        upsample_cfg=dict(mode="nearest", align_corners=None),  # noqa: B006
        zero_init_residual=False,
        init_cfg=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if blocks not in BLOCKS:
            raise ValueError(
                f"Expected blocks in {sorted(BLOCKS)}. "
                f"Received: blocks={blocks!r}"
            )
        num_blocks = _int_tuple(num_blocks, "num_blocks")
        in_channels = _int_tuple(in_channels, "in_channels")
        num_channels = _int_tuple(num_channels, "num_channels")
        for key, value in (
            ("num_blocks", num_blocks),
            ("num_channels", num_channels),
            ("in_channels", in_channels),
        ):
            if len(value) != num_branches:
                raise ValueError(
                    f"Expected len({key}) == num_branches "
                    f"({num_branches}). Received: {key}={value}"
                )
        if min(num_blocks) < 1:
            raise ValueError(
                "Expected at least one block per branch. "
                f"Received: num_blocks={num_blocks}"
            )
        upsample_cfg = dict(upsample_cfg or {})
        mode = upsample_cfg.get("mode", "nearest")
        if mode not in _UPSAMPLE_MODES:
            raise ValueError(
                f"Expected upsample_cfg mode in {_UPSAMPLE_MODES}. "
                f"Received: upsample_cfg={upsample_cfg!r}"
            )
        self.num_branches = int(num_branches)
        self.blocks = blocks
        self.num_blocks = num_blocks
        self.in_channels = in_channels
        self.num_channels = num_channels
        self.multiscale_output = bool(multiscale_output)
        self.with_cp = with_cp
        self.conv_cfg = conv_cfg
        self.norm_cfg = norm_cfg
        self.upsample_cfg = upsample_cfg
        self.zero_init_residual = bool(zero_init_residual)
        # Imported here: backbones import this module (import cycle).
        from keraspose.models.backbones.resnet import ResidualBlock

        bottleneck, expansion = BLOCKS[blocks]
        self.out_channels = tuple(c * expansion for c in num_channels)
        dt = self.dtype_policy

        self.branches = []
        for i in range(self.num_branches):
            out_ch = self.out_channels[i]
            self.branches.append(
                [
                    ResidualBlock(
                        out_ch,
                        expansion=expansion,
                        bottleneck=bottleneck,
                        downsample=k == 0 and in_channels[i] != out_ch,
                        norm_cfg=norm_cfg,
                        zero_init_residual=self.zero_init_residual,
                        name=f"branches_{i}_{k}",
                        dtype=dt,
                    )
                    for k in range(num_blocks[i])
                ]
            )

        # fuse_layers[i][j]: None (j == i) or the layers turning branch j
        # into resolution i.
        self.fuse_layers = []
        if self.num_branches > 1:
            num_out = self.num_branches if self.multiscale_output else 1
            for i in range(num_out):
                row = []
                for j in range(self.num_branches):
                    row.append(self._make_fuse(i, j))
                self.fuse_layers.append(row)

    def _make_fuse(self, i, j):
        ch = self.out_channels
        dt = self.dtype_policy
        prefix = f"fuse_layers_{i}_{j}"
        if j == i:
            return None
        if j > i:
            return [
                Conv2d(ch[i], 1, use_bias=False, name=f"{prefix}_0", dtype=dt),
                build_norm_layer(self.norm_cfg, f"{prefix}_1", dt),
            ]
        layers = []
        for k in range(i - j):
            last = k == i - j - 1
            layers.append(
                Conv2d(
                    ch[i] if last else ch[j],
                    3,
                    strides=2,
                    padding=1,
                    use_bias=False,
                    name=f"{prefix}_{k}_0",
                    dtype=dt,
                )
            )
            layers.append(
                build_norm_layer(self.norm_cfg, f"{prefix}_{k}_1", dt)
            )
        return layers

    def build(self, input_shape):
        # Explicit builds: nested symbolic builds cost time exponential in
        # the nesting depth with a dynamic batch size.
        shapes = self._check_shapes(input_shape)
        for blocks, shape, in_ch, out_ch in zip(
            self.branches, shapes, self.in_channels, self.out_channels
        ):
            shape = (*shape[:-1], in_ch)
            for block in blocks:
                block.build(shape)
                shape = (*shape[:-1], out_ch)
        for row in self.fuse_layers:
            for j, layers in enumerate(row):
                if layers is None:
                    continue
                shape = (*shapes[j][:-1], self.out_channels[j])
                for layer in layers:
                    layer.build(shape)
                    shape = layer.compute_output_shape(shape)

    def _check_shapes(self, input_shape):
        shapes = [tuple(s) for s in input_shape]
        if len(shapes) != self.num_branches:
            raise ValueError(
                f"{self.name}: expected {self.num_branches} inputs (one per "
                f"branch). Received shapes {shapes}"
            )
        return shapes

    def compute_output_shape(self, input_shape):
        shapes = self._check_shapes(input_shape)
        num_out = len(self.fuse_layers) or 1
        return [(*shapes[i][:-1], self.out_channels[i]) for i in range(num_out)]

    def _upsample(self, x, factor):
        # Nearest too goes through `interpolate` (an index gather):
        # `ops.repeat` fails on torch's "meta" device, which makes Keras
        # build the model by running it for real on a batch of 83 images.
        mode = self.upsample_cfg.get("mode", "nearest")
        from keraspose.models.utils.resize import interpolate

        return interpolate(
            x,
            scale_factor=float(factor),
            mode=mode,
            align_corners=self.upsample_cfg.get("align_corners"),
        )

    def call(self, x, training=None, norm_training=None):
        norm_training = training if norm_training is None else norm_training
        kw = dict(training=training, norm_training=norm_training)
        x = list(x)
        for i, blocks in enumerate(self.branches):
            for block in blocks:
                x[i] = block(x[i], **kw)
        if self.num_branches == 1:
            return [x[0]]
        outs = []
        for i, row in enumerate(self.fuse_layers):
            y = None
            for j, layers in enumerate(row):
                if layers is None:
                    z = x[j]
                else:
                    z = x[j]
                    for k in range(0, len(layers), 2):
                        z = layers[k + 1](layers[k](z), training=norm_training)
                        if j < i and k < len(layers) - 2:
                            z = ops.relu(z)
                    if j > i:
                        z = self._upsample(z, 2 ** (j - i))
                y = z if y is None else y + z
            outs.append(ops.relu(y))
        return outs

    def get_config(self):
        config = super().get_config()
        config.update(
            num_branches=self.num_branches,
            blocks=self.blocks,
            num_blocks=self.num_blocks,
            in_channels=self.in_channels,
            num_channels=self.num_channels,
            multiscale_output=self.multiscale_output,
            with_cp=self.with_cp,
            conv_cfg=self.conv_cfg,
            norm_cfg=self.norm_cfg,
            upsample_cfg=self.upsample_cfg,
            zero_init_residual=self.zero_init_residual,
        )
        return config
