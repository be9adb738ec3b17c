"""The ``keraspose`` command line (MMPose's ``tools/`` scripts).

    keraspose train CONFIG [--work-dir DIR] [--backend B] [--resume]
    keraspose test CONFIG MODEL.keras [--bbox-file FILE]
    keraspose infer MODEL.keras IMAGE... [--bboxes FILE] --out DIR
    keraspose demo [--work-dir DIR] [--epochs N]
    keraspose convert CONFIG_OR_PRESET CHECKPOINT [--out MODEL.keras]
    keraspose presets

``convert`` turns an MMPose ``.pth`` checkpoint (a path, a URL, or
``mmpose`` for a preset's released checkpoint) into a ``.keras`` model,
without PyTorch; CONFIG_OR_PRESET is a config file (keraspose's or
MMPose's) or a preset name. ``presets`` lists the presets (MMPose model-zoo
config names) with their COCO AP.

``--backend`` picks the Keras backend (jax, tensorflow, torch); the process
restarts itself with ``KERAS_BACKEND`` set when it differs from the current
one. ``--cfg-options key=value ...`` overrides config entries (dotted keys,
values read as Python literals when they parse).
"""

import argparse
import ast
import json
import os
import sys
import warnings

BACKENDS = ("jax", "tensorflow", "torch")


def _value(text):
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def _options(pairs):
    options = {}
    for pair in pairs or ():
        if "=" not in pair:
            raise SystemExit(
                f"--cfg-options expects key=value pairs; received {pair!r}"
            )
        key, value = pair.split("=", 1)
        options[key] = _value(value)
    return options


def _parser():
    parser = argparse.ArgumentParser(
        prog="keraspose",
        description="Train, test and run keraspose pose models.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    def common(p):
        p.add_argument("--backend", choices=BACKENDS, default=None)
        return p

    p = common(sub.add_parser("train", help="train a model from a config"))
    p.add_argument("config", help="config .py/.json (or a shipped config)")
    p.add_argument("--work-dir", default=None)
    p.add_argument(
        "--resume",
        action="store_true",
        help="continue from the work dir's last checkpoint",
    )
    p.add_argument("--cfg-options", nargs="+", default=None)

    p = common(sub.add_parser("test", help="evaluate a .keras model"))
    p.add_argument("config")
    p.add_argument("checkpoint", help="the .keras model")
    p.add_argument("--bbox-file", default=None, help="detection results")
    p.add_argument("--work-dir", default=None)
    p.add_argument("--cfg-options", nargs="+", default=None)

    p = common(sub.add_parser("infer", help="draw predicted poses to PNG"))
    p.add_argument("checkpoint", help="the .keras model")
    p.add_argument("images", nargs="+")
    p.add_argument(
        "--bboxes",
        default=None,
        help="JSON file {image file name: [[x1, y1, x2, y2(, score)], ...]}"
        " or COCO detection results with 'file_name'; whole image if absent",
    )
    p.add_argument("--out", required=True, help="output directory")
    p.add_argument("--kpt-thr", type=float, default=0.3)

    p = common(sub.add_parser("demo", help="the embedded default run"))
    p.add_argument("--work-dir", default="work_dirs/demo")
    p.add_argument("--epochs", type=int, default=None)
    p.add_argument("--samples", type=int, default=1024)

    p = common(
        sub.add_parser("convert", help="MMPose .pth checkpoint -> .keras")
    )
    p.add_argument(
        "config",
        help="config .py/.json (keraspose's or MMPose's) or a preset name",
    )
    p.add_argument(
        "checkpoint",
        help="MMPose .pth file, URL, or 'mmpose' (the preset's checkpoint)",
    )
    p.add_argument(
        "--out",
        default=None,
        help="output .keras file (default: the checkpoint's name)",
    )
    p.add_argument(
        "--no-strict",
        dest="strict",
        action="store_false",
        help="allow missing / unexpected checkpoint keys (listed)",
    )

    sub.add_parser("presets", help="list the presets (MMPose model zoo)")
    return parser


def _switch_backend(backend):
    """Re-runs this command with ``KERAS_BACKEND`` set, if it must."""
    if backend is None or os.environ.get("KERAS_BACKEND") == backend:
        return
    if "keras" in sys.modules:
        import keras

        if keras.backend.backend() == backend:
            return
    env = dict(os.environ, KERAS_BACKEND=backend)
    args = [sys.executable, "-m", "keraspose", *sys.argv[1:]]
    os.execve(sys.executable, args, env)


def _load_bboxes(path):
    with open(path) as f:
        data = json.load(f)
    boxes = {}
    if isinstance(data, dict):
        for name, value in data.items():
            boxes[os.path.basename(name)] = value
        return boxes
    if isinstance(data, list):
        for i, det in enumerate(data):
            if "file_name" not in det or "bbox" not in det:
                raise ValueError(
                    f"{path}: detection {i} needs 'file_name' and 'bbox' "
                    f"(x, y, w, h); received keys {sorted(det)}"
                )
            x, y, w, h = det["bbox"]
            box = [x, y, x + w, y + h, det.get("score", 1.0)]
            boxes.setdefault(os.path.basename(det["file_name"]), []).append(box)
        return boxes
    raise ValueError(
        f"{path}: expected a JSON object or list; received "
        f"{type(data).__name__}"
    )


def _infer(args):
    import keras
    import numpy as np

    from keraspose.apis.inference import inference_topdown
    from keraspose.apis.inference import load_image
    from keraspose.apis.inference import write_png
    from keraspose.visualization import draw_pose

    model = keras.saving.load_model(args.checkpoint, compile=False)
    boxes = _load_bboxes(args.bboxes) if args.bboxes else {}
    os.makedirs(args.out, exist_ok=True)
    results = {}
    for path in args.images:
        name = os.path.basename(path)
        preds = inference_topdown(model, path, boxes.get(name))
        image = load_image(path)
        drawn = draw_pose(
            image,
            preds["keypoints"],
            preds.get("keypoints_visible", preds["keypoint_scores"]),
            metainfo=model.metainfo or None,
            kpt_thr=args.kpt_thr,
        )
        out = os.path.join(args.out, os.path.splitext(name)[0] + ".png")
        write_png(out, drawn)
        results[name] = {k: np.asarray(v).tolist() for k, v in preds.items()}
        print(f"{path}: {len(preds['keypoints'])} instance(s) -> {out}")
    with open(os.path.join(args.out, "predictions.json"), "w") as f:
        json.dump(results, f)


def _convert(args):
    from keraspose.apis.demo import config_path
    from keraspose.converters import convert_mmpose_checkpoint
    from keraspose.presets import is_preset
    from keraspose.presets import preset_config
    from keraspose.presets import resolve_weights

    preset = args.config if is_preset(args.config) else None
    if preset is not None:
        config = preset_config(preset)
    elif args.config.endswith((".py", ".json")):
        config = config_path(args.config)
    else:
        config = preset_config(args.config)  # unknown: lists close names
    checkpoint = resolve_weights(args.checkpoint, preset)
    out = args.out
    if out is None:
        stem = os.path.basename(checkpoint)
        out = (stem[: -len(".pth")] if stem.endswith(".pth") else stem) + (
            ".keras"
        )
    if not out.endswith(".keras"):
        raise SystemExit(f"--out must end in .keras; received {out!r}")
    with warnings.catch_warnings():
        # Backbone pretraining (init_cfg) is moot: all weights are loaded.
        warnings.filterwarnings(
            "ignore", message=".*init_cfg asks for the pretrained checkpoint"
        )
        model, report = convert_mmpose_checkpoint(
            config,
            checkpoint,
            strict=args.strict,
            verbose=False,
            return_report=True,
        )
    print(f"{checkpoint}: {report.summary()}")
    for name in ("skipped", "missing", "unexpected"):
        keys = getattr(report, name)
        if keys:
            print(f"  {name} ({len(keys)}): {', '.join(keys)}")
    for old, new in report.renamed[:5]:
        print(f"  renamed: {old} -> {new}")
    if len(report.renamed) > 5:
        print(f"  renamed: ... {len(report.renamed) - 5} more")
    folder = os.path.dirname(out)
    if folder:
        os.makedirs(folder, exist_ok=True)
    model.save(out)
    import keras

    print(f"Saved {out} ({keras.backend.backend()} backend)")
    return out


def _presets():
    from keraspose.presets import list_presets
    from keraspose.presets import preset_info

    names = list_presets()
    width = max(len(n) for n in names)
    print(f"{'preset (MMPose config)':<{width}}  COCO AP  description")
    for name in names:
        info = preset_info(name)
        print(f"{name:<{width}}  {info['coco_ap']:7.3f}  {info['description']}")
    print(
        f"{len(names)} presets. Build one with keraspose.from_preset(name, "
        "weights=True) (MMPose's checkpoint; preset_info(name)['weights'] "
        "is its URL)."
    )


def main(argv=None):
    args = _parser().parse_args(argv)
    backend = getattr(args, "backend", None)
    if argv is None:
        _switch_backend(backend)
    elif backend is not None:
        os.environ.setdefault("KERAS_BACKEND", backend)
    if args.command == "presets":
        _presets()
        return 0
    from keraspose.apis.demo import config_path
    from keraspose.apis.demo import run_demo
    from keraspose.apis.runner import test
    from keraspose.apis.runner import train

    if args.command == "train":
        train(
            config_path(args.config),
            work_dir=args.work_dir,
            resume=args.resume,
            cfg_options=_options(args.cfg_options),
            verbose=2,
        )
    elif args.command == "test":
        metrics = test(
            config_path(args.config),
            args.checkpoint,
            bbox_file=args.bbox_file,
            cfg_options=_options(args.cfg_options),
            work_dir=args.work_dir,
        )
        print(json.dumps(metrics, indent=2))
    elif args.command == "infer":
        _infer(args)
    elif args.command == "demo":
        run_demo(args.work_dir, epochs=args.epochs, num_train=args.samples)
    elif args.command == "convert":
        _convert(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
