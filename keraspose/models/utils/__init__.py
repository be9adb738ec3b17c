"""Building blocks shared by models (PyTorch-exact conv layers, TTA)."""

from keraspose.models.utils.conv2d import Conv2d
from keraspose.models.utils.conv_module import ConvModule
from keraspose.models.utils.conv_transpose2d import ConvTranspose2d

__all__ = ["Conv2d", "ConvModule", "ConvTranspose2d"]
