"""Train and test from an MMPose-schema config (``tools/train.py`` and
``tools/test.py`` of MMPose, on ``model.fit``)."""

import json
import logging
import os
import time

import keras

from keraspose.datasets.builder import build_dataloader
from keraspose.datasets.builder import build_dataset
from keraspose.engine.callbacks.checkpoint_callback import CheckpointCallback
from keraspose.engine.callbacks.checkpoint_callback import read_train_state
from keraspose.engine.callbacks.ema_callback import EMACallback
from keraspose.engine.callbacks.evaluation_callback import EvaluationCallback
from keraspose.evaluation.evaluator import Evaluator
from keraspose.evaluation.evaluator import evaluate_model
from keraspose.registry import build
from keraspose.utils.config import Config
from keraspose.utils.config import merge_cfg_options
from keraspose.utils.config import to_plain

logger = logging.getLogger("keraspose")


def load_config(config, cfg_options=None):
    """A :class:`Config` from a path, a dict or a Config (copied).

    Paths are read with
    :func:`keraspose.converters.mmpose_config.load_mmpose_config`, so
    MMPose's own config files work too (missing ``_base_`` files fall back
    to keraspose's bundled configs). Overriding the top-level ``data_root``
    (``--cfg-options data_root=/data/coco/``) also rewrites every string of
    the config that starts with the old ``data_root`` (see
    :func:`keraspose.utils.config.merge_cfg_options`).

    Args:
        config: ``.py`` / ``.json`` path, or a dict.
        cfg_options: dotted overrides, e.g. ``{"train_cfg.max_epochs": 2}``.
    """
    if isinstance(config, str | os.PathLike):
        from keraspose.converters.mmpose_config import load_mmpose_config

        cfg = load_mmpose_config(config)
    elif isinstance(config, dict):
        cfg = Config(Config(config).to_dict())
    else:
        raise TypeError(
            f"Expected a config path or dict. Received: {type(config).__name__}"
        )
    return merge_cfg_options(cfg, cfg_options)


def _require(cfg, key, what):
    if not cfg.get(key):
        source = cfg.get("filename", "<dict>")
        raise ValueError(
            f"Config {source!r} has no {key!r}, which {what} needs. "
            f"Entries: {sorted(cfg)}"
        )
    return cfg[key]


def default_work_dir(cfg):
    name = os.path.splitext(os.path.basename(cfg.get("filename", "config")))
    return os.path.join("work_dirs", name[0])


def _steps_per_epoch(num_samples, loader_cfg):
    batch_size = int(loader_cfg.get("batch_size", 1))
    if loader_cfg.get("drop_last", False):
        return max(num_samples // batch_size, 1)
    return -(-num_samples // batch_size)


def pipeline_aug_scales(cfg, loaders=("val_dataloader", "test_dataloader")):
    """``aug_scales`` of the first ``BottomupResize`` in the loaders'
    pipelines (the extra scales of a multi-scale test), or None."""
    for name in loaders:
        dataset = (cfg.get(name) or {}).get("dataset") or {}
        for step in to_plain(dataset.get("pipeline") or []):
            kind = str(step.get("type", "")).split(".")[-1]
            if kind == "BottomupResize" and step.get("aug_scales"):
                return [float(s) for s in step["aug_scales"]]
    return None


def sync_aug_scales(test_cfg, aug_scales):
    """Puts the pipeline's ``aug_scales`` into a multi-scale ``test_cfg``.

    MMPose's bottom-up models read the pyramid scales from the samples'
    meta (set by ``BottomupResize(aug_scales=...)``); keraspose models
    need them at build time (``test_cfg["aug_scales"]``, Python numbers
    for the compiled predict step), so the runner copies them over. The
    pipeline wins over a different ``test_cfg`` entry (a warning says so).
    Without ``multiscale_test`` (or without pipeline scales) nothing
    changes. Returns ``test_cfg`` (modified in place).
    """
    if not aug_scales or not test_cfg.get("multiscale_test", False):
        return test_cfg
    current = test_cfg.get("aug_scales")
    if current is not None and [float(s) for s in current] != aug_scales:
        logger.warning(
            "test_cfg['aug_scales']=%r differs from the pipeline's "
            "BottomupResize aug_scales=%r; using the pipeline's (the "
            "images it makes), as MMPose does.",
            current,
            aug_scales,
        )
    test_cfg["aug_scales"] = list(aug_scales)
    return test_cfg


def build_model(cfg, metainfo=None):
    """The estimator of ``cfg.model`` (dataset metainfo added if absent).

    A bottom-up model with ``test_cfg["multiscale_test"]`` gets the
    ``aug_scales`` of the val (else test) pipeline's ``BottomupResize`` in
    its ``test_cfg`` (see :func:`sync_aug_scales`).
    """
    model_cfg = to_plain(_require(cfg, "model", "building the model"))
    if metainfo is not None and not model_cfg.get("metainfo"):
        model_cfg["metainfo"] = metainfo
    if model_cfg.get("test_cfg"):
        sync_aug_scales(model_cfg["test_cfg"], pipeline_aug_scales(cfg))
    return build(model_cfg)


def _compile(model, cfg, steps_per_epoch):
    from keraspose.engine.optimizers import build_optimizer

    loader_cfg = cfg.train_dataloader
    optimizer = build_optimizer(
        _require(cfg, "optim_wrapper", "training"),
        steps_per_epoch,
        param_scheduler=cfg.get("param_scheduler"),
        batch_size=int(loader_cfg.get("batch_size", 1)),
        auto_scale_lr=cfg.get("auto_scale_lr"),
        max_epochs=int((cfg.get("train_cfg") or {}).get("max_epochs", 1)),
    )
    model.compile(optimizer=optimizer)
    return model


def _custom_hook_callbacks(custom_hooks):
    """Keras callbacks for MMPose's ``custom_hooks``.

    ``EMAHook`` becomes an :class:`EMACallback` (listed before evaluation and
    checkpoints, which then see the averaged weights);
    ``PipelineSwitchHook`` is returned as ``dict(switch_epoch,
    switch_pipeline)`` for ``train`` to split ``fit``. Other hooks are
    skipped with a warning naming them.
    """
    callbacks, switch = [], None
    for hook in to_plain(custom_hooks or []):
        hook = dict(hook)
        kind = str(hook.pop("type", "")).split(".")[-1]
        hook.pop("_scope_", None)
        if kind == "EMAHook":
            callbacks.append(EMACallback(**hook))
        elif kind == "PipelineSwitchHook":
            missing = {"switch_epoch", "switch_pipeline"} - set(hook)
            if missing:
                raise ValueError(
                    f"PipelineSwitchHook needs {sorted(missing)}. "
                    f"Received: {hook!r}"
                )
            switch = hook
        else:
            logger.warning(
                "custom_hooks: %r has no keraspose equivalent and is "
                "skipped (supported: EMAHook, PipelineSwitchHook).",
                kind,
            )
    return callbacks, switch


def train(config, work_dir=None, resume=False, cfg_options=None, verbose=1):
    """Trains the config's model with ``model.fit``.

    Reads ``model``, ``train_dataloader``, ``optim_wrapper``,
    ``param_scheduler``, ``train_cfg`` (``max_epochs``, ``val_interval``),
    ``val_dataloader`` + ``val_evaluator`` (evaluation every
    ``val_interval`` epochs, metrics in the logs), ``default_hooks.
    checkpoint`` (``interval``, ``save_best``, ``rule``,
    ``max_keep_ckpts``), ``custom_hooks`` (``EMAHook``,
    ``PipelineSwitchHook``) and ``randomness.seed``. The work dir receives the
    config, ``log.csv``, ``last.keras`` + ``train_state.json`` after every
    epoch, ``epoch_{n}.keras``, ``best_*.keras`` and ``metrics.json``.

    With ``resume=True`` it continues from the work dir's ``last.keras``
    (weights, optimizer state and iteration count, so the LR schedule
    continues) at the epoch after the last finished one; without a
    checkpoint it starts afresh (MMEngine's ``--resume`` behaviour).

    Args:
        config: config path or dict.
        work_dir: output directory (default ``work_dirs/<config name>``).
        resume: continue from the last checkpoint of ``work_dir``.
        cfg_options: dotted config overrides.
        verbose: Keras ``fit`` verbosity.

    Returns:
        ``(model, history)``: the trained model and a dict of per-epoch
        logs.
    """
    cfg = load_config(config, cfg_options)
    work_dir = work_dir or cfg.get("work_dir") or default_work_dir(cfg)
    os.makedirs(work_dir, exist_ok=True)
    cfg.dump(os.path.join(work_dir, "config.py"))
    seed = (cfg.get("randomness") or {}).get("seed")
    if seed is not None:
        keras.utils.set_random_seed(int(seed))
    loader_cfg = _require(cfg, "train_dataloader", "training")
    loader, train_set = build_dataloader(to_plain(loader_cfg), seed=seed)
    steps = _steps_per_epoch(len(train_set), loader_cfg)
    train_cfg = cfg.get("train_cfg") or {}
    max_epochs = int(train_cfg.get("max_epochs", 1))

    callbacks, switch = _custom_hook_callbacks(cfg.get("custom_hooks"))
    val_loader_cfg = cfg.get("val_dataloader")
    if val_loader_cfg and cfg.get("val_evaluator"):
        val_set = build_dataset(to_plain(val_loader_cfg.dataset))
        callbacks.append(
            EvaluationCallback(
                val_set,
                to_plain(cfg.val_evaluator),
                interval=int(train_cfg.get("val_interval", 1)),
                batch_size=int(val_loader_cfg.get("batch_size", 32)),
                verbose=verbose,
            )
        )
    ckpt = dict((cfg.get("default_hooks") or {}).get("checkpoint") or {})
    callbacks.append(
        CheckpointCallback(
            work_dir,
            interval=int(ckpt.get("interval", 1)),
            save_best=ckpt.get("save_best"),
            rule=ckpt.get("rule"),
            max_keep_ckpts=int(ckpt.get("max_keep_ckpts", -1)),
        )
    )

    initial_epoch = 0
    state = read_train_state(work_dir) if resume else None
    last = os.path.join(work_dir, "last.keras")
    if state is not None and os.path.exists(last):
        initial_epoch = int(state["epoch"])
        if state.get("backend") == keras.backend.backend():
            model = keras.saving.load_model(last)
        else:
            logger.warning(
                "Resuming a run saved on %s with %s: the weights carry "
                "over, the optimizer state does not (it restarts at the "
                "scheduled learning rate).",
                state.get("backend"),
                keras.backend.backend(),
            )
            model = keras.saving.load_model(last, compile=False)
            _compile(model, cfg, steps)
        if verbose:
            print(f"Resuming {work_dir} after epoch {initial_epoch}")
    else:
        if resume:
            logger.warning(
                "No checkpoint to resume in %s; starting afresh.", work_dir
            )
        model = build_model(cfg, train_set.metainfo)
        _compile(model, cfg, steps)
    head = getattr(model.head, "pose_head", model.head)
    if hasattr(head, "set_epoch"):
        # MMPose heads that read the epoch from the message hub (DSNT's
        # lambda_t) get it at each epoch start.
        callbacks.append(
            keras.callbacks.LambdaCallback(
                on_epoch_begin=lambda epoch, logs=None: head.set_epoch(epoch)
            )
        )
    csv_logger = keras.callbacks.CSVLogger(
        os.path.join(work_dir, "log.csv"), append=initial_epoch > 0
    )
    callbacks.append(csv_logger)
    # MMDetection's PipelineSwitchHook: the epochs from `switch_epoch` on
    # train with `switch_pipeline` (a second `fit` over those epochs).
    segments = [(initial_epoch, max_epochs, loader)]
    if switch is not None and switch["switch_epoch"] < max_epochs:
        at = int(switch["switch_epoch"])
        switched_cfg = to_plain(loader_cfg)
        switched_cfg["dataset"]["pipeline"] = to_plain(
            switch["switch_pipeline"]
        )
        switched, _ = build_dataloader(switched_cfg, seed=seed)
        segments = [
            (initial_epoch, min(at, max_epochs), loader),
            (max(initial_epoch, at), max_epochs, switched),
        ]
    history = {}
    start = time.time()
    for first, end, data in segments:
        if first >= end:
            continue
        hist = model.fit(
            data,
            epochs=end,
            initial_epoch=first,
            callbacks=callbacks,
            verbose=verbose,
        )
        csv_logger.append = True
        for key, values in hist.history.items():
            history.setdefault(key, []).extend(values)
    if history and verbose:
        print(f"Trained in {time.time() - start:.0f} s; {work_dir}")
    evaluated = [c for c in callbacks if isinstance(c, EvaluationCallback)]
    if evaluated and evaluated[0].history:
        with open(os.path.join(work_dir, "metrics.json"), "w") as f:
            json.dump(evaluated[0].history, f, indent=2)
    return model, history


def test(
    config,
    checkpoint,
    bbox_file=None,
    cfg_options=None,
    work_dir=None,
    verbose=1,
):
    """Evaluates a ``.keras`` model on the config's test set.

    Uses ``test_dataloader`` / ``test_evaluator`` (falling back to the
    ``val_*`` entries). ``bbox_file`` replaces the ground-truth boxes with a
    COCO-format detection results file (the dataset's ``bbox_file``).

    Args:
        config: config path or dict.
        checkpoint: path of the ``.keras`` model (or a loaded model).
        bbox_file: detection results file for top-down testing.
        cfg_options: dotted config overrides.
        work_dir: where to write ``test_metrics.json`` (optional).
        verbose: progress bar and printed metrics.

    Returns:
        dict of metrics.
    """
    cfg = load_config(config, cfg_options)
    loader_cfg = cfg.get("test_dataloader") or _require(
        cfg, "val_dataloader", "testing"
    )
    evaluator = cfg.get("test_evaluator") or _require(
        cfg, "val_evaluator", "testing"
    )
    dataset_cfg = to_plain(loader_cfg.dataset)
    if bbox_file:
        dataset_cfg["bbox_file"] = os.fspath(bbox_file)
        dataset_cfg["test_mode"] = True
    dataset = build_dataset(dataset_cfg)
    if isinstance(checkpoint, keras.Model):
        model = checkpoint
    else:
        model = keras.saving.load_model(checkpoint, compile=False)
    test_cfg = getattr(model, "test_cfg", None)
    if isinstance(test_cfg, dict):
        loaders = ("test_dataloader", "val_dataloader")
        sync_aug_scales(test_cfg, pipeline_aug_scales(cfg, loaders))
    evaluator = Evaluator(to_plain(evaluator))
    metrics = evaluate_model(
        model,
        dataset,
        evaluator,
        batch_size=int(loader_cfg.get("batch_size", 32)),
        verbose=verbose,
    )
    if work_dir:
        os.makedirs(work_dir, exist_ok=True)
        with open(os.path.join(work_dir, "test_metrics.json"), "w") as f:
            json.dump(metrics, f, indent=2)
    return metrics
