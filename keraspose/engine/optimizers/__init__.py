"""Keras optimizers from MMEngine ``optim_wrapper`` configs."""

from keraspose.engine.optimizers.build import build_optimizer
from keraspose.engine.optimizers.param_names import parameter_info
from keraspose.engine.optimizers.param_names import parameter_name
from keraspose.engine.optimizers.torch_optimizers import TorchAdam
from keraspose.engine.optimizers.torch_optimizers import TorchAdamW
from keraspose.engine.optimizers.torch_optimizers import TorchSGD

__all__ = [
    "TorchAdam",
    "TorchAdamW",
    "TorchSGD",
    "build_optimizer",
    "parameter_info",
    "parameter_name",
]
