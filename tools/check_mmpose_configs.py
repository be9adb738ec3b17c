"""Reads every MMPose config with keraspose and builds the top-down models.

By hand, with keraspose's environment, pointing at MMPose's config folder:

    KERAS_BACKEND=jax python tools/check_mmpose_configs.py \\
        /work/mmpose-ref/lib/python3.11/site-packages/mmpose/.mim/configs \\
        [--no-build] [--mmpose-shapes shapes.json] [--out summary.json]

Every ``.py`` file outside ``_base_`` folders is read with
:func:`keraspose.converters.load_mmpose_config`. Configs whose
``model.type`` is ``TopdownPoseEstimator`` and whose model types keraspose
all implements (:func:`keraspose.converters.find_unsupported`) are built at
the codec's input size (zero initializers, as ``tests/mmpose_weights.py``
does, so that building is quick). A JSON summary is printed: how many were
read, top-down, supported, built, and the failures with their reasons.

``--mmpose-shapes`` compares the built models' weights with MMPose's: the
file maps each config (relative path) to ``{parameter name: shape}`` of
MMPose's model, written by this script run in the MMPose environment:

    /work/mmpose-ref/bin/python tools/check_mmpose_configs.py CONFIG_DIR \\
        --dump-mmpose-shapes shapes.json

which builds MMPose's models on PyTorch's ``meta`` device (no memory).
"""

import argparse
import collections
import json
import os
import sys
import time
import warnings


def config_files(root):
    for folder, dirs, files in os.walk(root):
        dirs.sort()
        if "_base_" in folder.split(os.sep):
            continue
        for name in sorted(files):
            if name.endswith(".py"):
                path = os.path.join(folder, name)
                yield os.path.relpath(path, root), path


def dump_mmpose_shapes(root, out_path):
    """MMPose side: ``{config: {name: shape}}`` of the top-down models."""
    import torch

    here = os.path.dirname(os.path.abspath(__file__))
    sys.path.insert(0, os.path.join(here, "..", "..", "shared", "reference"))
    sys.path.insert(0, "/work/shared/reference")
    import mmcv_ops_stub

    mmcv_ops_stub.install()
    sys.path.insert(0, here)
    from fixture_common import install_mmdet_stubs

    install_mmdet_stubs()
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    from mmpose.registry import MODELS

    init_default_scope("mmpose")
    shapes = {}
    for rel, path in config_files(root):
        try:
            cfg = Config.fromfile(path, import_custom_modules=False)
            if cfg.model.get("type") != "TopdownPoseEstimator":
                continue
            try:
                with torch.device("meta"):
                    model = MODELS.build(cfg.model)
            except RuntimeError:  # some modules call .item() when built
                model = MODELS.build(cfg.model)
            shapes[rel] = {
                k: list(v.shape)
                for k, v in model.state_dict().items()
                if not k.endswith("num_batches_tracked")
            }
        except Exception as err:  # noqa: BLE001 (a survey, not a test)
            shapes[rel] = {"__error__": f"{type(err).__name__}: {err}"[:300]}
    with open(out_path, "w") as f:
        json.dump(shapes, f)
    print(f"{len(shapes)} models -> {out_path}")


def build_model(model_cfg):
    import keras

    import keraspose
    from keraspose.converters.mmpose_checkpoint import model_input_shape
    from keraspose.models.utils.conv2d import Conv2d

    net = keraspose.build(model_cfg)
    for layer in net._flatten_layers(include_self=False):
        if isinstance(layer, Conv2d | keras.layers.Dense):
            layer.kernel_initializer = keras.initializers.Zeros()
            layer.bias_initializer = keras.initializers.Zeros()
    shape = model_input_shape(net)
    if shape is None:
        raise ValueError("the head has no codec with an input_size")
    net.build(shape)
    return net


def compare_shapes(net, mmpose):
    from keraspose.converters import named_weights

    ours = {
        name: _size(variable.shape)
        for name, (variable, _) in named_weights(net).items()
    }
    theirs = {k: _size(v) for k, v in mmpose.items()}
    missing = sorted(set(theirs) - set(ours))
    unexpected = sorted(set(ours) - set(theirs))
    sizes = sorted(k for k in set(ours) & set(theirs) if ours[k] != theirs[k])
    return missing, unexpected, sizes


def _size(shape):
    n = 1
    for d in shape:
        n *= int(d)
    return n


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("config_dir")
    parser.add_argument("--no-build", action="store_true")
    parser.add_argument("--mmpose-shapes")
    parser.add_argument("--dump-mmpose-shapes")
    parser.add_argument("--out")
    parser.add_argument(
        "--match", default="", help="only configs whose path contains this"
    )
    args = parser.parse_args(argv)
    root = os.path.abspath(args.config_dir)
    if args.dump_mmpose_shapes:
        return dump_mmpose_shapes(root, args.dump_mmpose_shapes)

    import keras

    from keraspose.converters import find_unsupported
    from keraspose.converters import load_mmpose_config

    mmpose_shapes = {}
    if args.mmpose_shapes:
        with open(args.mmpose_shapes) as f:
            mmpose_shapes = json.load(f)
    counts = collections.Counter()
    read_failed, build_failed, weight_mismatch = {}, {}, {}
    unsupported_types = collections.Counter()
    unsupported_configs = {}
    other_models = collections.Counter()
    built = []
    start = time.time()
    for rel, path in config_files(root):
        if args.match not in rel:
            continue
        counts["files"] += 1
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                cfg = load_mmpose_config(path)
        except Exception as err:  # noqa: BLE001 (a survey, not a test)
            read_failed[rel] = f"{type(err).__name__}: {err}"[:300]
            continue
        counts["read"] += 1
        model_type = cfg.get("model", {}).get("type")
        if model_type != "TopdownPoseEstimator":
            other_models[str(model_type)] += 1
            continue
        counts["topdown"] += 1
        unsupported = find_unsupported(cfg)
        if unsupported:
            unsupported_configs[rel] = [f"{p}={t!r}" for p, t in unsupported]
            for _, type_name in unsupported:
                unsupported_types[type_name] += 1
            continue
        counts["supported"] += 1
        if args.no_build:
            continue
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                net = build_model(cfg.model.to_dict())
        except Exception as err:  # noqa: BLE001
            build_failed[rel] = f"{type(err).__name__}: {err}"[:300]
            keras.backend.clear_session()
            continue
        counts["built"] += 1
        built.append(rel)
        print(
            f"built {counts['built']}/{counts['supported']}: {rel}",
            file=sys.stderr,
            flush=True,
        )
        theirs = mmpose_shapes.get(rel)
        if theirs is not None and "__error__" not in theirs:
            counts["compared"] += 1
            missing, unexpected, sizes = compare_shapes(net, theirs)
            if missing or unexpected or sizes:
                weight_mismatch[rel] = dict(
                    missing=missing[:5],
                    n_missing=len(missing),
                    unexpected=unexpected[:5],
                    n_unexpected=len(unexpected),
                    size_mismatch=sizes[:5],
                )
            else:
                counts["weights_match"] += 1
        del net
        keras.backend.clear_session()
    summary = dict(
        config_dir=root,
        backend=keras.backend.backend(),
        seconds=round(time.time() - start, 1),
        counts=dict(counts),
        read_failed=read_failed,
        non_topdown_models=dict(other_models),
        unsupported_types=dict(unsupported_types.most_common()),
        unsupported_configs=unsupported_configs,
        build_failed=build_failed,
        weight_mismatch=weight_mismatch,
        built=built,
    )
    text = json.dumps(summary, indent=1)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text)
    print(text)


if __name__ == "__main__":
    main()
