"""Drawing poses and pipeline batches (needs OpenCV).

Example:
    >>> import numpy as np
    >>> from keraspose.visualization import draw_pose
    >>> img = draw_pose(np.zeros((64, 48, 3), np.uint8), [[10.0, 20.0]])
    >>> img.shape
    (64, 48, 3)
"""

from keraspose.visualization.batch import render_batch
from keraspose.visualization.draw import draw_pose

__all__ = ["draw_pose", "render_batch"]
