"""Generates the checkpoint fixtures of tests/converters/test_pth_reader.py.

Run with the MMPose reference environment (see ../shared/reference/README.md):

    $REF/bin/python tools/make_mmengine_checkpoint_fixtures.py

Writes, all tiny:

- ``tests/fixtures/mmengine_checkpoint.pth``: saved by MMEngine's
  ``save_checkpoint`` (zip layout) like ``Runner.save_checkpoint`` does: the
  ``state_dict`` of a conv + BatchNorm + conv ``nn.Sequential`` after one
  Adam step, the Adam ``optimizer`` state, a ``meta`` holding a
  ``ConfigDict``, NumPy dataset metadata, a ``torch.device`` and a
  ``torch.float32``, and a ``message_hub`` state with ``HistoryBuffer``s;
  plus an ``extras`` dict of tensors of every storage dtype, views
  (transposed, sliced with an offset, expanded) and tensors sharing one
  storage.
- ``tests/fixtures/legacy_checkpoint.pth``: the same weights, optimizer
  state and extras written with ``_use_new_zipfile_serialization=False``
  (the pre-1.6 layout of most 2020-era MMPose model-zoo files).
- ``tests/fixtures/mmengine_checkpoint.npz``: the expected arrays, keyed
  ``"<entry>/<name>"`` (bfloat16 upcast to float32).
"""

import collections
import io
from pathlib import Path

import numpy as np
import torch
from mmengine.config import ConfigDict
from mmengine.logging import MessageHub
from mmengine.runner.checkpoint import get_state_dict
from mmengine.runner.checkpoint import save_checkpoint
from mmengine.runner.checkpoint import weights_to_cpu

OUT = Path(__file__).resolve().parents[1] / "tests" / "fixtures"

torch.manual_seed(0)
model = torch.nn.Sequential(
    torch.nn.Conv2d(2, 3, 3), torch.nn.BatchNorm2d(3), torch.nn.Conv2d(3, 2, 1)
)
optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
model.train()
loss = model(torch.randn(2, 2, 5, 5)).square().mean()
loss.backward()
optimizer.step()

hub = MessageHub.get_instance("fixture")
for step, value in enumerate([0.75, 0.5, 0.25]):
    hub.update_scalar("train/loss", value)
    hub.update_scalar("train/lr", 0.01 * (step + 1))
hub.update_info("iter", 3)

base = torch.arange(30, dtype=torch.float32).reshape(5, 6) / 8
shared = torch.arange(12, dtype=torch.int64)
extras = collections.OrderedDict(
    float64=torch.tensor([1.5, -2.25], dtype=torch.float64),
    float16=torch.tensor([[0.5, -1.0, 65504.0]], dtype=torch.float16),
    bfloat16=torch.tensor([1.0, -3.5, 1e30], dtype=torch.bfloat16),
    int64=torch.tensor([-(2**40), 7]),
    int32=torch.tensor([-5, 2**30], dtype=torch.int32),
    int16=torch.tensor([-300, 300], dtype=torch.int16),
    int8=torch.tensor([-128, 127], dtype=torch.int8),
    uint8=torch.tensor([0, 255], dtype=torch.uint8),
    bool=torch.tensor([[True, False], [False, True]]),
    scalar=torch.tensor(2.5),
    transposed=base.t(),
    sliced=base[1:4, 2:5],
    expanded=torch.tensor([1.0, 2.0]).expand(3, 2),
    shared_a=shared[2:8].view(2, 3),
    shared_b=shared[5:],
    empty=torch.zeros(0, 4),
)

meta = dict(
    mmengine="0.10.7",
    experiment_name="fixture",
    time="20240101_000000",
    epoch=1,
    iter=3,
    seed=0,
    cfg=ConfigDict(model=dict(type="TopdownPoseEstimator"), lr=0.01),
    dataset_meta=dict(
        dataset_name="tiny",
        sigmas=np.array([0.026, 0.025], np.float32),
        flip_indices=[1, 0],
    ),
    device=torch.device("cpu"),
    dtype=torch.float32,
)
state_dict = weights_to_cpu(get_state_dict(model))
checkpoint = dict(
    meta=meta,
    state_dict=state_dict,
    optimizer=optimizer.state_dict(),
    message_hub=hub.state_dict(),
    extras=extras,
)
save_checkpoint(checkpoint, str(OUT / "mmengine_checkpoint.pth"))

legacy = dict(
    meta=dict(mmcv_version="1.3.8", time="Mon Jan  4 00:00:00 2021"),
    state_dict=state_dict,
    optimizer=optimizer.state_dict(),
    extras=extras,
)
buffer = io.BytesIO()
torch.save(legacy, buffer, _use_new_zipfile_serialization=False)
(OUT / "legacy_checkpoint.pth").write_bytes(buffer.getvalue())

expected = {}
for name, value in state_dict.items():
    expected[f"state_dict/{name}"] = value.numpy()
for index, state in optimizer.state_dict()["state"].items():
    for name, value in state.items():
        expected[f"optimizer/{index}/{name}"] = value.numpy()
for name, value in extras.items():
    if value.dtype == torch.bfloat16:
        value = value.float()
    expected[f"extras/{name}"] = value.numpy()
for name, buffer in hub.state_dict()["log_scalars"].items():
    expected[f"message_hub/{name}"] = buffer._log_history
np.savez_compressed(OUT / "mmengine_checkpoint.npz", **expected)
for name in ("mmengine_checkpoint.pth", "legacy_checkpoint.pth"):
    print(name, (OUT / name).stat().st_size, "bytes")
print(
    "mmengine_checkpoint.npz", (OUT / "mmengine_checkpoint.npz").stat().st_size
)
