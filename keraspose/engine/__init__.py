"""Training engine: MMEngine's ``optim_wrapper`` and ``param_scheduler``.

>>> from keraspose.engine import build_optimizer
>>> opt = build_optimizer(dict(optimizer=dict(type="Adam", lr=5e-4)),
...                       steps_per_epoch=10)
>>> type(opt).__name__
'TorchAdam'
"""

from keraspose.engine.callbacks import CheckpointCallback
from keraspose.engine.callbacks import EMACallback
from keraspose.engine.callbacks import EvaluationCallback
from keraspose.engine.optimizers import TorchAdam
from keraspose.engine.optimizers import TorchAdamW
from keraspose.engine.optimizers import TorchSGD
from keraspose.engine.optimizers import build_optimizer
from keraspose.engine.schedulers import ParamSchedulerSchedule

__all__ = [
    "CheckpointCallback",
    "EMACallback",
    "EvaluationCallback",
    "ParamSchedulerSchedule",
    "TorchAdam",
    "TorchAdamW",
    "TorchSGD",
    "build_optimizer",
]
