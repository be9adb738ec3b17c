"""High-level workflows: train/test from configs, inference, the demo."""

from keraspose.apis.demo import run_demo
from keraspose.apis.inference import inference_bottomup
from keraspose.apis.inference import inference_topdown
from keraspose.apis.runner import load_config
from keraspose.apis.runner import test
from keraspose.apis.runner import train

__all__ = [
    "inference_bottomup",
    "inference_topdown",
    "load_config",
    "run_demo",
    "test",
    "train",
]
