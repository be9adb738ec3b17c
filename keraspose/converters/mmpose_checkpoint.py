"""MMPose ``.pth`` checkpoint -> keraspose model (no PyTorch needed)."""

import logging
import os

import keras

from keraspose.converters.state_dict import load_state_dict

logger = logging.getLogger("keraspose")


def _model_config(config):
    """``(full config or None, model dict)`` from any accepted form."""
    from keraspose.utils.config import Config
    from keraspose.utils.config import to_plain

    if isinstance(config, str | os.PathLike):
        from keraspose.converters.mmpose_config import load_mmpose_config
        from keraspose.presets import is_preset
        from keraspose.presets import preset_config

        if not os.path.exists(config) and is_preset(os.fspath(config)):
            cfg = preset_config(os.fspath(config))
        else:
            cfg = load_mmpose_config(config)
    elif isinstance(config, dict):
        cfg = Config(to_plain(dict(config)))
    else:
        raise TypeError(
            "Expected `config` to be a config file path, a config dict with "
            "a 'model' entry, or a model dict with a 'type'. Received: "
            f"{type(config).__name__}"
        )
    if "model" in cfg:
        return cfg, to_plain(cfg["model"])
    if "type" in cfg:
        return None, to_plain(cfg)
    raise ValueError(
        "Expected a config with a 'model' entry or a model dict with a "
        f"'type'. Received a dict with keys {sorted(cfg)}"
    )


def config_metainfo(cfg):
    """Parsed metainfo of the config's test (else val / train) dataset:
    its ``metainfo`` entry, else the dataset class's default; None when
    the config names no dataset keraspose knows."""
    if cfg is None:
        return None
    from keraspose.datasets.metainfo import load_metainfo
    from keraspose.registry import get_class

    for key in ("test_dataloader", "val_dataloader", "train_dataloader"):
        dataset = (cfg.get(key) or {}).get("dataset") or {}
        try:
            if dataset.get("metainfo"):
                return load_metainfo(dataset["metainfo"])
            if dataset.get("type"):
                default = getattr(get_class(dataset["type"]), "METAINFO", None)
                if default is not None:
                    return load_metainfo(default)
        except (TypeError, ValueError, FileNotFoundError) as err:
            logger.warning(
                "Could not read the dataset metainfo of %s: %s", key, err
            )
    return None


def _checkpoint_metainfo(checkpoint):
    """The parsed dataset metainfo MMEngine stores in ``meta``, or None."""
    meta = checkpoint.get("meta") if isinstance(checkpoint, dict) else None
    dataset_meta = meta.get("dataset_meta") if isinstance(meta, dict) else None
    if not isinstance(dataset_meta, dict):
        return None
    if "num_keypoints" not in dataset_meta or (
        "flip_indices" not in dataset_meta
    ):
        return None
    return dataset_meta


def model_input_shape(model):
    """``(None, h, w, 3)`` from the head codec's ``input_size`` (w, h)."""
    head = getattr(model, "head", None)
    decoder = getattr(head, "decoder", None)
    size = getattr(decoder, "input_size", None)
    if size is None:
        return None
    return (None, int(size[1]), int(size[0]), 3)


def _zero_initializers(model):
    """Zero initializers on every not-yet-built sublayer: for weights that
    a checkpoint overwrites. JAX compiles a random sampler per kernel shape
    (about 20 s for a full-size model); zeros cost nothing."""
    zeros = keras.initializers.Zeros()
    for layer in model._flatten_layers(include_self=False):
        if layer.built:
            continue
        for attr, value in list(vars(layer).items()):
            if attr.endswith("_initializer") and isinstance(
                value, keras.initializers.Initializer
            ):
                setattr(layer, attr, zeros)


def build_estimator(config, input_shape=None, metainfo=None, init=True):
    """Builds (and builds the weights of) the estimator of ``config``.

    Args:
        config: as :func:`convert_mmpose_checkpoint`.
        input_shape: ``(None, h, w, 3)``; default from the head codec's
            ``input_size``.
        metainfo: dataset metainfo; default: the config dataset's.
        init: initialise the weights as the config says; False leaves
            (most of) them zero, for weights loaded right after.

    Returns:
        The built estimator.
    """
    import keraspose
    from keraspose.converters.mmpose_config import check_supported

    cfg, model_cfg = _model_config(config)
    # One error naming every type keraspose lacks, with its config path.
    check_supported(
        dict(model=model_cfg, filename=(cfg or {}).get("filename", "<dict>"))
    )
    if not model_cfg.get("metainfo"):
        metainfo = metainfo or config_metainfo(cfg)
        if metainfo is not None:
            model_cfg["metainfo"] = metainfo
    model = keraspose.build(model_cfg)
    if not init:
        _zero_initializers(model)
    shape = input_shape or model_input_shape(model)
    if shape is None:
        raise ValueError(
            "Cannot tell the model's input size: its head has no codec with "
            "an `input_size`. Pass input_shape=(None, height, width, 3)."
        )
    model.build(tuple(shape))
    return model


def convert_mmpose_checkpoint(
    config,
    checkpoint_path,
    strict=True,
    input_shape=None,
    metainfo=None,
    verbose=True,
    return_report=False,
):
    """Builds the keraspose model of ``config`` with an MMPose checkpoint.

    The ``.pth`` file is read without PyTorch (see
    :func:`keraspose.converters.read_pth`), so this works on JAX or
    TensorFlow installs too. Keys are matched by MMPose parameter name and
    shapes are checked (:func:`keraspose.converters.load_state_dict`).

    Args:
        config: a config file (keraspose's or MMPose's own ``.py``, read
            with :func:`keraspose.converters.load_mmpose_config`), a preset
            name (:func:`keraspose.presets.list_presets`), a config dict
            with a ``model`` entry, or a bare model dict.
        checkpoint_path: the MMPose ``.pth`` file (a ``state_dict`` inside
            MMEngine's checkpoint dict, or a bare state dict).
        strict: fail on missing or unexpected keys (they are named).
        input_shape: ``(None, h, w, 3)``; default from the head codec.
        metainfo: dataset metainfo (flip test, keypoint names); default,
            as MMPose's ``init_model``: the checkpoint's
            ``meta["dataset_meta"]``, else the config dataset's.
        verbose: log the load summary.
        return_report: also return the
            :class:`~keraspose.converters.LoadReport`.

    Returns:
        The built estimator, its weights loaded (``model(images)`` gives the
        head's raw outputs, ``model.predict`` decoded keypoints); with
        ``return_report``, ``(model, report)``.

    Example:

    >>> # model = keraspose.convert_mmpose_checkpoint(
    >>> #     "td-hm_hrnet-w32_8xb64-210e_coco-256x192.py",
    >>> #     "hrnet_w32_coco_256x192-c78dce93_20200708.pth")
    >>> # model.save("hrnet_w32.keras")
    """
    from keraspose.converters.pth_reader import checkpoint_state_dict
    from keraspose.converters.pth_reader import read_pth

    path = os.fspath(checkpoint_path)
    checkpoint = read_pth(path)
    state = checkpoint_state_dict(checkpoint)
    if metainfo is None:
        # MMPose's init_model prefers the checkpoint's dataset_meta.
        metainfo = _checkpoint_metainfo(checkpoint)
    # strict: every weight comes from the file, so skip the random init.
    model = build_estimator(config, input_shape, metainfo, init=not strict)
    report = load_state_dict(model, state, strict=strict, source=path)
    if verbose:
        logger.info("Loaded %s: %s", path, report.summary())
        if report.missing:
            logger.warning("Missing keys: %s", ", ".join(report.missing))
        if report.unexpected:
            logger.warning("Unexpected keys: %s", ", ".join(report.unexpected))
    return (model, report) if return_report else model
