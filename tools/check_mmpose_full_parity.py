"""By-hand full-size check: MMPose checkpoints converted by keraspose.

Two stages, run one after the other (full-size models: one at a time, a
few seconds to a minute each on two CPU cores):

1. ``mmpose``, with the MMPose reference environment, from the repository
   root::

       PYTHONPATH=/work/ref-stubs $REF/bin/python \\
           tools/check_mmpose_full_parity.py mmpose [--models a,b] [--out DIR]

   For each model, builds MMPose's estimator from MMPose's own config file
   (``init_model(config, None, "cpu")``), gives it random weights (PyTorch's
   default initialisation; parameters that start constant, such as norm
   scales, biases, position embeddings and class tokens, get noise) and
   random BatchNorm statistics (accumulated from random images in train
   mode, then jittered), and saves to ``DIR/<model>/``:

   - ``model.pth``: ``torch.save({"meta": ..., "state_dict": ...})`` like an
     MMEngine checkpoint (the meta holds MMPose's ``dataset_meta``, numpy
     arrays included, as in the model zoo's checkpoints);
   - ``io.npz``: ``images`` (uint8, (N, H, W, 3), BGR) and MMPose's raw head
     outputs (``out0``, ``out1``... in the order of the flattened output
     tuple; MMPose's layouts, e.g. heatmaps (N, K, H, W)), plus the same
     outputs computed by MMPose in float64 (``f64_out0``...).

   ``mmpose.apis`` needs ``pkg_resources`` and ``torchvision.transforms``,
   which the reference environment lacks; the script stands in for both
   (neither is used by ``init_model``).

2. ``keraspose``, with keraspose's environment (any backend)::

       KERAS_BACKEND=jax python tools/check_mmpose_full_parity.py \\
           keraspose [--models a,b] [--out DIR]

   Converts ``model.pth`` with keraspose from keraspose's own copy of the
   config (``keraspose/configs/...``, same relative path as MMPose's), runs
   ``model(images)`` (raw head outputs) and prints one JSON line per model:
   the largest absolute difference, the largest difference relative to the
   largest reference magnitude of that output (and to its standard
   deviation), the distance of keraspose's and of MMPose's float32 outputs
   from MMPose's float64 ones (random full-size networks amplify float32
   rounding: MMPose's own float32 error is up to ~1e-4 of the output scale
   for ResNet/HRNet/CSPNeXt, so that is the noise floor), and the wall and
   CPU seconds spent reading the ``.pth``, building the model, loading the
   weights and running the forward pass. ``ok`` means: within 1e-4
   (absolute or relative) of MMPose, or no further from the float64 truth
   than 3x MMPose's own float32 error.

Outputs go under ``/tmp`` by default; never commit the checkpoints.
"""

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = "/tmp/keraspose_full_parity"
REF_ROOT = Path(
    "/work/mmpose-ref/lib/python3.11/site-packages/mmpose/.mim/configs"
)

_TD = "body_2d_keypoint/topdown_heatmap/coco/"
# Model name -> config path relative to the configs folder (identical in
# MMPose's and keraspose's config trees).
MODELS = {
    "simplebaseline-r50": _TD + "td-hm_res50_8xb64-210e_coco-256x192.py",
    "hrnet-w32": _TD + "td-hm_hrnet-w32_8xb64-210e_coco-256x192.py",
    "rtmpose-m": (
        "body_2d_keypoint/rtmpose/coco/rtmpose-m_8xb256-420e_coco-256x192.py"
    ),
    "vitpose-s": _TD + "td-hm_ViTPose-small_8xb64-210e_coco-256x192.py",
    "mobilenetv2": _TD + "td-hm_mobilenetv2_8xb64-210e_coco-256x192.py",
    "litehrnet-18": _TD + "td-hm_litehrnet-18_8xb64-210e_coco-256x192.py",
    "simcc-r50": (
        "body_2d_keypoint/simcc/coco/simcc_res50_8xb64-210e_coco-256x192.py"
    ),
    "deeppose-r50": (
        "body_2d_keypoint/topdown_regression/coco/"
        "td-reg_res50_8xb64-210e_coco-256x192.py"
    ),
    "rle-r50": (
        "body_2d_keypoint/topdown_regression/coco/"
        "td-reg_res50_rle-8xb64-210e_coco-256x192.py"
    ),
    "dsnt-r50": (
        "body_2d_keypoint/integral_regression/coco/"
        "ipr_res50_dsnt-8xb64-210e_coco-256x256.py"
    ),
    "vitpose-s-simple": (
        _TD + "td-hm_ViTPose-small-simple_8xb64-210e_coco-256x192.py"
    ),
    "rtmpose-t": (
        "body_2d_keypoint/rtmpose/coco/rtmpose-t_8xb256-420e_coco-256x192.py"
    ),
    "rtmpose-s": (
        "body_2d_keypoint/rtmpose/coco/rtmpose-s_8xb256-420e_coco-256x192.py"
    ),
    "rtmpose-l": (
        "body_2d_keypoint/rtmpose/coco/rtmpose-l_8xb256-420e_coco-256x192.py"
    ),
    "hrnet-w48": _TD + "td-hm_hrnet-w48_8xb32-210e_coco-256x192.py",
    "hrnet-w32-384": _TD + "td-hm_hrnet-w32_8xb64-210e_coco-384x288.py",
    "litehrnet-30-384": _TD + "td-hm_litehrnet-30_8xb32-210e_coco-384x288.py",
    "vitpose-b": _TD + "td-hm_ViTPose-base_8xb64-210e_coco-256x192.py",
    "vitpose-b-simple": (
        _TD + "td-hm_ViTPose-base-simple_8xb64-210e_coco-256x192.py"
    ),
}
# The models run when --models is not given.
DEFAULT_MODELS = [
    "simplebaseline-r50",
    "hrnet-w32",
    "rtmpose-m",
    "vitpose-s",
    "mobilenetv2",
    "litehrnet-18",
    "simcc-r50",
    "deeppose-r50",
    "rle-r50",
    "dsnt-r50",
]
NUM_IMAGES = 2


def _flatten(value):
    """The tensors of a (nested) tuple/list of head outputs, in order."""
    if isinstance(value, list | tuple):
        return [leaf for item in value for leaf in _flatten(item)]
    if isinstance(value, dict):
        return [leaf for key in sorted(value) for leaf in _flatten(value[key])]
    return [value]


# --- stage 1: MMPose --------------------------------------------------------


def _randomize(model, images, rng):
    """Random weights and BatchNorm statistics for an MMPose estimator."""
    import torch
    from torch.nn.modules.batchnorm import _BatchNorm

    with torch.no_grad():
        for param in model.parameters():
            if param.numel() == 0 or not param.dtype.is_floating_point:
                continue
            flat = param.detach().reshape(-1)
            if bool((flat == flat[0]).all()):
                # Constant at init (norm scales, biases, embeddings, tokens):
                # without noise, a wrong mapping of it would go unnoticed.
                c = float(flat[0])
                scale = 0.1 * abs(c) if c != 0 else 0.05
                noise = rng.normal(size=tuple(param.shape)) * scale
                param.add_(torch.from_numpy(noise.astype(np.float32)))
        norms = [m for m in model.modules() if isinstance(m, _BatchNorm)]
        for m in norms:
            m.reset_running_stats()
            m.momentum = None  # cumulative average over the passes
        model.train()
        for _ in range(2):
            noise = rng.integers(0, 256, size=images.shape, dtype=np.uint8)
            model._forward(_preprocess(model, noise))
        model.eval()
        for m in norms:
            m.momentum = 0.1
            jitter = rng.normal(size=m.running_mean.shape).astype(np.float32)
            m.running_mean.add_(
                0.1 * torch.from_numpy(jitter) * m.running_var.sqrt()
            )
            factor = rng.uniform(0.8, 1.25, size=m.running_var.shape)
            m.running_var.mul_(torch.from_numpy(factor.astype(np.float32)))


def _preprocess(model, images):
    """MMPose's data preprocessor on uint8 (N, H, W, 3) BGR images."""
    import torch
    from mmpose.structures import PoseDataSample

    data = dict(
        inputs=[
            torch.from_numpy(img.transpose(2, 0, 1).copy()) for img in images
        ],
        data_samples=[PoseDataSample() for _ in images],
    )
    return model.data_preprocessor(data, False)["inputs"]


def run_mmpose(names, out_dir):
    sys.path.insert(0, "/work/shared/reference")
    sys.path.insert(0, str(ROOT / "tools"))
    import mmcv_ops_stub

    mmcv_ops_stub.install()
    from fixture_common import install_mmdet_stubs
    from fixture_common import install_mmpose_apis_stubs

    install_mmpose_apis_stubs()
    install_mmdet_stubs()
    import mmdet.models  # noqa: F401  (registers CSPNeXt)
    import mmpose.models  # noqa: F401
    import torch
    from mmpose.apis import init_model

    try:
        import mmpretrain.models  # noqa: F401  (VisionTransformer)
    except ImportError as err:
        print(f"mmpretrain unavailable ({err}): ViTPose models will fail")

    for name in names:
        start = time.perf_counter()
        config = REF_ROOT / MODELS[name]
        seed = sum(map(ord, name))
        torch.manual_seed(seed)
        rng = np.random.default_rng(seed)
        model = init_model(str(config), None, "cpu")
        w, h = model.cfg.codec["input_size"]
        images = rng.integers(
            0, 256, size=(NUM_IMAGES, h, w, 3), dtype=np.uint8
        )
        _randomize(model, images, rng)
        with torch.no_grad():
            inputs = _preprocess(model, images)
            outputs = _flatten(model._forward(inputs))
            # float64 truth: how far MMPose's own float32 result is from it
            # tells the float32 noise floor of this model.
            exact = _flatten(model.double()._forward(inputs.double()))
            model.float()
        target = Path(out_dir) / name
        target.mkdir(parents=True, exist_ok=True)
        state = model.state_dict()
        torch.save(
            dict(
                meta=dict(
                    dataset_meta=model.dataset_meta,
                    mmpose_config=str(config),
                ),
                state_dict=state,
            ),
            target / "model.pth",
        )
        arrays = {f"out{i}": o.numpy() for i, o in enumerate(outputs)}
        arrays.update({f"f64_out{i}": o.numpy() for i, o in enumerate(exact)})
        np.savez(target / "io.npz", images=images, **arrays)
        params = sum(p.numel() for p in model.parameters())
        print(
            json.dumps(
                dict(
                    model=name,
                    stage="mmpose",
                    params=params,
                    outputs=[list(o.shape) for o in outputs],
                    pth_mb=round(
                        os.path.getsize(target / "model.pth") / 2**20, 1
                    ),
                    seconds=round(time.perf_counter() - start, 1),
                )
            ),
            flush=True,
        )
        del model


# --- stage 2: keraspose -----------------------------------------------------


def _g(value):
    """A float rounded to 3 significant digits (for the JSON lines)."""
    return float(f"{float(value):.3g}")


def _to_reference_layout(ours, ref):
    """Our output in MMPose's layout (channels-last maps -> channels-first)."""
    if ours.shape == ref.shape:
        return ours
    if ours.ndim == 4 and ours.shape == (
        ref.shape[0],
        ref.shape[2],
        ref.shape[3],
        ref.shape[1],
    ):
        return ours.transpose(0, 3, 1, 2)
    raise ValueError(
        f"Output shapes differ: keraspose {ours.shape}, MMPose {ref.shape}"
    )


def _torch_read_state(path):
    """Fallback reader (PyTorch) while keraspose's reader is missing."""
    import torch

    checkpoint = torch.load(path, map_location="cpu", weights_only=False)
    state = checkpoint.get("state_dict", checkpoint)
    return {k: v.numpy() for k, v in state.items()}


def _reader():
    """``path -> state dict`` with keraspose's torch-free reader if any."""
    try:
        from keraspose.converters.pth_reader import checkpoint_state_dict
        from keraspose.converters.pth_reader import read_pth
    except ImportError:
        return "torch-fallback", _torch_read_state
    return "keraspose", lambda path: checkpoint_state_dict(read_pth(path))


def run_keraspose(names, out_dir):
    sys.path.insert(0, str(ROOT))
    import keras

    from keraspose.converters import build_estimator
    from keraspose.converters import load_state_dict

    reader_name, read_state = _reader()
    failures = 0
    for name in names:
        target = Path(out_dir) / name
        record = dict(
            model=name, backend=keras.backend.backend(), reader=reader_name
        )
        try:
            io = np.load(target / "io.npz")
            count = sum(k.startswith("out") for k in io.files)
            refs = [io[f"out{i}"] for i in range(count)]
            exact = [io.get(f"f64_out{i}") for i in range(count)]
            images = io["images"].astype("float32")
            config = ROOT / "keraspose" / "configs" / MODELS[name]

            t0, c0 = time.perf_counter(), time.process_time()
            state = read_state(target / "model.pth")
            t1, c1 = time.perf_counter(), time.process_time()
            model = build_estimator(str(config))
            t2, c2 = time.perf_counter(), time.process_time()
            report = load_state_dict(
                model, state, strict=True, source=str(target / "model.pth")
            )
            t3, c3 = time.perf_counter(), time.process_time()
            ours = _flatten(model(images, training=False))
            ours = [keras.ops.convert_to_numpy(o) for o in ours]
            t4, c4 = time.perf_counter(), time.process_time()
            if len(ours) != len(refs):
                raise ValueError(
                    f"{len(ours)} outputs from keraspose, {len(refs)} from "
                    "MMPose"
                )
            abs_diff = rel_diff = 0.0
            over_std, ours_f64, mmpose_f64 = [], [], []
            for o, r, e in zip(ours, refs, exact, strict=True):
                o = _to_reference_layout(o, r)
                d = float(np.abs(o - r).max())
                abs_diff = max(abs_diff, d)
                rel_diff = max(rel_diff, d / max(float(np.abs(r).max()), 1e-30))
                over_std.append(_g(d / max(float(r.std()), 1e-30)))
                if e is not None:
                    ours_f64.append(_g(np.abs(o - e).max()))
                    mmpose_f64.append(_g(np.abs(r - e).max()))
            # Within 1e-4 of MMPose, or no further from the float64 truth
            # than a few times MMPose's own float32 error.
            noise_ok = bool(mmpose_f64) and all(
                a <= 3 * b for a, b in zip(ours_f64, mmpose_f64, strict=True)
            )
            record.update(
                max_abs_diff=_g(abs_diff),
                max_rel_diff=_g(rel_diff),
                diff_over_std=over_std,
                ours_vs_f64=ours_f64,
                mmpose_f32_vs_f64=mmpose_f64,
                ref_max_abs=[_g(np.abs(r).max()) for r in refs],
                read_s=round(t1 - t0, 2),
                build_s=round(t2 - t1, 2),
                load_s=round(t3 - t2, 2),
                convert_s=round(t3 - t0, 2),
                forward_s=round(t4 - t3, 2),
                # CPU seconds (all threads): steadier on a busy machine.
                cpu_s=dict(
                    read=round(c1 - c0, 2),
                    build=round(c2 - c1, 2),
                    load=round(c3 - c2, 2),
                    forward=round(c4 - c3, 2),
                ),
                load_report=report.summary(),
                ok=rel_diff <= 1e-4 or abs_diff <= 1e-4 or noise_ok,
            )
        except Exception as err:  # noqa: BLE001  (report and go on)
            record.update(ok=False, error=f"{type(err).__name__}: {err}")
        failures += not record["ok"]
        print(json.dumps(record), flush=True)
        keras.backend.clear_session()
    return failures


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("stage", choices=["mmpose", "keraspose"])
    parser.add_argument(
        "--models",
        default=",".join(DEFAULT_MODELS),
        help=f"comma-separated, from: {', '.join(MODELS)}; or 'all'",
    )
    parser.add_argument("--out", default=DEFAULT_OUT)
    args = parser.parse_args()
    names = list(MODELS) if args.models == "all" else args.models.split(",")
    unknown = [n for n in names if n not in MODELS]
    if unknown:
        parser.error(
            f"unknown models {unknown}; expected some of {list(MODELS)}"
        )
    if args.stage == "mmpose":
        run_mmpose(names, args.out)
        return 0
    return 1 if run_keraspose(names, args.out) else 0


if __name__ == "__main__":
    sys.exit(main())
