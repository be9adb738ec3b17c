"""keraspose: MMPose's pose-estimation toolbox as a Keras 3 library.

Importing keraspose registers every component with :func:`keraspose.build`
and with Keras serialization, so ``.keras`` files reload without
``custom_objects``.
"""

import os

_keras_json = os.path.join(
    os.environ.get("KERAS_HOME", os.path.expanduser("~/.keras")), "keras.json"
)
if "KERAS_BACKEND" not in os.environ and not os.path.exists(_keras_json):
    # Keras defaults to TensorFlow; fall back to an installed backend so that
    # `import keraspose` works in environments without TensorFlow.
    import importlib.util

    for _name, _module in (
        ("tensorflow", "tensorflow"),
        ("jax", "jax"),
        ("torch", "torch"),
    ):
        if importlib.util.find_spec(_module) is not None:
            os.environ["KERAS_BACKEND"] = _name
            break

from keraspose import codecs  # noqa: E402
from keraspose import converters  # noqa: E402
from keraspose import datasets  # noqa: E402
from keraspose import engine  # noqa: E402
from keraspose import evaluation  # noqa: E402
from keraspose import models  # noqa: E402
from keraspose import presets  # noqa: E402
from keraspose.converters import convert_mmpose_checkpoint  # noqa: E402
from keraspose.presets import from_preset  # noqa: E402
from keraspose.registry import build  # noqa: E402
from keraspose.registry import register  # noqa: E402
from keraspose.registry import registered_names  # noqa: E402
from keraspose.registry import to_config  # noqa: E402
from keraspose.version import __version__  # noqa: E402

__all__ = [
    "__version__",
    "build",
    "codecs",
    "convert_mmpose_checkpoint",
    "converters",
    "datasets",
    "engine",
    "evaluation",
    "from_preset",
    "models",
    "presets",
    "register",
    "registered_names",
    "to_config",
]
