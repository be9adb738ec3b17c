"""Generates tests/fixtures/mmengine_ema.npz with MMEngine / MMDetection.

Run with the MMPose reference environment (see ../shared/reference/README.md):

    $REF/bin/python tools/make_mmengine_ema_fixtures.py

A small torch module (a linear layer and a BatchNorm) is given a fixed
sequence of parameter and buffer values, one per training step, and
``ExponentialMovingAverage`` / ``ExpMomentumEMA`` average them the way
``EMAHook.after_train_iter`` does. The averages after every step are saved.
"""

from pathlib import Path

import numpy as np
import torch
from mmengine.model.averaged_model import ExponentialMovingAverage

try:  # MMDetection's ExpMomentumEMA (RTMPose's EMA)
    from mmdet.models.layers.ema import ExpMomentumEMA
except Exception:  # its package __init__ needs compiled ops: load the file
    import importlib.util

    import mmdet

    spec = importlib.util.spec_from_file_location(
        "mmdet_ema", Path(mmdet.__file__).parent / "models/layers/ema.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    ExpMomentumEMA = module.ExpMomentumEMA

STEPS = 12
rng = np.random.default_rng(0)
net = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.BatchNorm1d(2))
names = ["0.weight", "0.bias", "1.weight", "1.bias"]
buffers = ["1.running_mean", "1.running_var"]
seq = {
    k: rng.normal(size=(STEPS,) + tuple(net.state_dict()[k].shape)).astype(
        np.float32
    )
    for k in names + buffers
}
out = {f"seq:{k}": v for k, v in seq.items()}
cases = {
    "exp": (ExpMomentumEMA, dict(momentum=0.1, gamma=4, update_buffers=True)),
    "exp_i2": (
        ExpMomentumEMA,
        dict(momentum=0.2, gamma=3, interval=2, update_buffers=False),
    ),
    "plain": (ExponentialMovingAverage, dict(momentum=0.3)),
}
for tag, (cls, kwargs) in cases.items():
    ema = cls(net, **kwargs)
    for step in range(STEPS):
        with torch.no_grad():
            state = net.state_dict()
            for k in names + buffers:
                state[k].copy_(torch.from_numpy(seq[k][step]))
        ema.update_parameters(net)
        avg = ema.module.state_dict()
        for k in names + buffers:
            out.setdefault(f"{tag}:{k}", []).append(avg[k].numpy().copy())
out = {k: np.asarray(v) for k, v in out.items()}
path = Path(__file__).resolve().parents[1] / "tests/fixtures/mmengine_ema.npz"
np.savez_compressed(path, **out)
print(path, path.stat().st_size, "bytes")
