"""Checkpoints that let ``keraspose train --resume`` continue a run."""

import json
import math
import os

import keras

#: Name of the file that records the last finished epoch of a work dir.
STATE_FILE = "train_state.json"


class CheckpointCallback(keras.callbacks.Callback):
    """Saves ``.keras`` checkpoints like MMEngine's ``CheckpointHook``.

    After every epoch it writes ``last.keras`` (model and optimizer state)
    and ``train_state.json`` (epoch, best metric, backend), which is what
    resuming reads; every ``interval`` epochs it keeps ``epoch_{n}.keras``
    (at most ``max_keep_ckpts`` of them); with ``save_best`` it keeps
    ``best_{metric}.keras`` of the best value of that log entry (e.g.
    ``"coco/AP"``, written by ``EvaluationCallback``, which must come
    earlier in the callback list).

    Args:
        work_dir: directory of the run.
        interval: epochs between ``epoch_{n}.keras`` files (0: none).
        save_best: log key to track (``"auto"`` is not supported: name it).
        rule: ``"greater"`` or ``"less"``; default ``"greater"``.
        max_keep_ckpts: keep the newest ``epoch_{n}.keras`` only (-1: all).
        save_last: write ``last.keras`` every epoch (needed to resume).

    Example:

    >>> cb = CheckpointCallback("work_dirs/demo", save_best="coco/AP")
    >>> cb.best is None
    True
    """

    def __init__(
        self,
        work_dir,
        interval=1,
        save_best=None,
        rule=None,
        max_keep_ckpts=-1,
        save_last=True,
    ):
        super().__init__()
        rule = rule or "greater"
        if rule not in ("greater", "less"):
            raise ValueError(
                f"Expected rule 'greater' or 'less'. Received: {rule!r}"
            )
        if save_best == "auto":
            raise ValueError(
                "save_best='auto' is not supported; name the metric, e.g. "
                "save_best='coco/AP'."
            )
        self.work_dir = os.fspath(work_dir)
        self.interval = int(interval)
        self.save_best = save_best
        self.rule = rule
        self.max_keep_ckpts = int(max_keep_ckpts)
        self.save_last = bool(save_last)
        self.best = None
        self._kept = []
        state = read_train_state(self.work_dir)
        if state is not None and state.get("save_best") == save_best:
            self.best = state.get("best")
            self._kept = list(state.get("kept", []))

    def _better(self, value):
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return False
        if self.best is None:
            return True
        if self.rule == "greater":
            return value > self.best
        return value < self.best

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        os.makedirs(self.work_dir, exist_ok=True)
        n = epoch + 1
        if self.interval > 0 and n % self.interval == 0:
            path = os.path.join(self.work_dir, f"epoch_{n}.keras")
            self.model.save(path)
            self._kept.append(path)
            while 0 < self.max_keep_ckpts < len(self._kept):
                old = self._kept.pop(0)
                if os.path.exists(old):
                    os.remove(old)
        if self.save_best and self.save_best in logs:
            value = float(logs[self.save_best])
            if self._better(value):
                self.best = value
                name = self.save_best.replace("/", "_").replace(" ", "_")
                self.model.save(
                    os.path.join(self.work_dir, f"best_{name}.keras")
                )
        if self.save_last:
            last = os.path.join(self.work_dir, "last.keras")
            tmp = last + ".tmp.keras"
            self.model.save(tmp)
            os.replace(tmp, last)  # never leave a half-written checkpoint
        write_train_state(
            self.work_dir,
            dict(
                epoch=n,
                backend=keras.backend.backend(),
                save_best=self.save_best,
                best=self.best,
                kept=self._kept,
            ),
        )


def read_train_state(work_dir):
    """The ``train_state.json`` of a work dir, or None."""
    path = os.path.join(os.fspath(work_dir), STATE_FILE)
    if not os.path.exists(path):
        return None
    with open(path) as f:
        try:
            return json.load(f)
        except json.JSONDecodeError as err:
            raise ValueError(
                f"Cannot resume: {path!r} is not valid JSON ({err})."
            ) from None


def write_train_state(work_dir, state):
    path = os.path.join(os.fspath(work_dir), STATE_FILE)
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(state, f, indent=2)
    os.replace(tmp, path)
