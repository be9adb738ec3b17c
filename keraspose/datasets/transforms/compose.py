"""A pipeline of graph-mode transforms."""

from keraspose.datasets.transforms.base import BaseTransform
from keraspose.datasets.transforms.base import split_seed
from keraspose.datasets.transforms.load_image import materialize_image
from keraspose.registry import build
from keraspose.registry import register
from keraspose.registry import to_config


@register
class Compose(BaseTransform):
    """Runs transforms in order, giving each its own random seed.

    An image whose decoding ``LoadImage`` deferred is decoded before a plain
    callable step and at the end, so only keraspose transforms ever see
    the deferred form.

    Args:
        transforms: list of transforms or MMPose-style config dicts
            (``dict(type="RandomFlip", direction="horizontal")``).

    Example:

    >>> from keraspose.datasets.transforms import Compose
    >>> pipeline = Compose([dict(type="GetBBoxCenterScale")])
    >>> [type(t).__name__ for t in pipeline.transforms]
    ['GetBBoxCenterScale']
    """

    random = True

    def __init__(self, transforms=()):
        if isinstance(transforms, dict) or not isinstance(
            transforms, list | tuple
        ):
            raise TypeError(
                "Compose expects a list of transforms or config dicts. "
                f"Received: {type(transforms).__name__}"
            )
        self.transforms = []
        for i, t in enumerate(transforms):
            t = build(t)
            if not callable(t):
                raise TypeError(
                    f"Compose: pipeline step {i} is not a transform. "
                    f"Received: {t!r}"
                )
            self.transforms.append(t)

    def transform(self, results, seed):
        if not self.transforms:
            return results
        seeds = split_seed(seed, max(len(self.transforms), 2))
        for t, s in zip(self.transforms, seeds):
            if isinstance(t, BaseTransform):
                results = t(results, s)
            else:  # a plain callable sees decoded pixels
                results = t(materialize_image(results))
        if isinstance(results, dict):
            materialize_image(results)  # no deferred image leaves a pipeline
        return results

    def get_config(self):
        return {
            "transforms": [
                to_config(t) if isinstance(t, BaseTransform) else t
                for t in self.transforms
            ]
        }
