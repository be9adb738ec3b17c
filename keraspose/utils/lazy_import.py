"""Lazy imports of optional dependencies with an actionable error."""

import importlib

_HINTS = {
    "tensorflow": "the data pipeline runs on tf.data: pip install tensorflow "
    "(or tensorflow-cpu), e.g. pip install 'keraspose[tf]'",
    "tensorflow_datasets": "pip install 'keraspose[data]'",
    "cv2": "pip install opencv-python-headless (or 'keraspose[data]')",
    "pycocotools": "pip install pycocotools (or 'keraspose[data]')",
}


class LazyModule:
    """A module that is imported on first attribute access.

    Keeps ``import keraspose`` free of TensorFlow for users who only run
    models on JAX or PyTorch, while the data pipeline (tf.data) imports it
    when first used.

    Args:
        name: the module to import.

    Example:

    >>> np_lazy = LazyModule("numpy")
    >>> int(np_lazy.ones(2).sum())
    2
    """

    def __init__(self, name):
        self._name = name
        self._module = None

    def _load(self):
        if self._module is None:
            try:
                self._module = importlib.import_module(self._name)
            except ImportError as e:
                hint = _HINTS.get(self._name, f"pip install {self._name}")
                raise ImportError(
                    f"keraspose needs the optional package {self._name!r} "
                    f"here but it is not installed ({hint})."
                ) from e
        return self._module

    def __getattr__(self, attr):
        return getattr(self._load(), attr)


tf = LazyModule("tensorflow")
