"""OpenCV 4's fixed-point constants of ``cv2.warpAffine(INTER_LINEAR)``.

Shared by the NumPy warp of :mod:`keraspose.apis.topdown_crop` and its
``tf.data`` twin :mod:`keraspose.datasets.transforms.opencv_warp`. NumPy
only (no Keras or TensorFlow import), so both can use it.

Example:

>>> from keraspose.utils.opencv_fixed_point import BILINEAR_TABLE
>>> BILINEAR_TABLE.shape, int(BILINEAR_TABLE[0].sum())
((1024, 4), 32768)
"""

import numpy as np

#: OpenCV's ``INTER_BITS``: source coordinates are quantised to 1/32 px.
INTER_BITS = 5
INTER_TAB_SIZE = 1 << INTER_BITS
#: OpenCV's ``AB_BITS``: fixed-point precision of the mapped coordinates.
AB_BITS = 10
AB_SCALE = 1 << AB_BITS
#: OpenCV's ``INTER_REMAP_COEF_BITS``: precision of the bilinear weights.
COEF_BITS = 15
COEF_SCALE = 1 << COEF_BITS


def bilinear_table():
    """OpenCV's 15-bit bilinear weights per 1/32-px fraction (fy, fx).

    Returns:
        (INTER_TAB_SIZE ** 2, 4) int64 weights of the taps (top-left,
        top-right, bottom-left, bottom-right), row ``fy * 32 + fx``.
    """
    f = np.arange(INTER_TAB_SIZE)
    fy, fx = np.meshgrid(f, f, indexing="ij")
    unit = COEF_SCALE // (INTER_TAB_SIZE * INTER_TAB_SIZE)
    tab = np.stack(
        [
            (INTER_TAB_SIZE - fy) * (INTER_TAB_SIZE - fx),
            (INTER_TAB_SIZE - fy) * fx,
            fy * (INTER_TAB_SIZE - fx),
            fy * fx,
        ],
        axis=-1,
    ).reshape(-1, 4)
    tab = tab * unit
    # OpenCV stores the weights as int16: the (0, 0) entry saturates to
    # 32767 and its sum is restored on the last tap.
    tab[0] = [COEF_SCALE - 1, 0, 0, 1]
    return tab.astype(np.int64)


#: :func:`bilinear_table`, computed once.
BILINEAR_TABLE = bilinear_table()
