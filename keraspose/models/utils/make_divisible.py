"""Channel rounding of the MobileNet family (MMPose's ``make_divisible``)."""


def make_divisible(value, divisor, min_value=None, min_ratio=0.9):
    """Rounds a channel count to a multiple of ``divisor``.

    The count is rounded to the nearest multiple (halves up), never below
    ``min_value``, and bumped up by one ``divisor`` when rounding would lose
    more than ``1 - min_ratio`` of ``value``. This is the rule of MMPose's
    ``make_divisible`` (from the MobileNet papers' reference code), so
    width-multiplied networks get MMPose's channel counts.

    Args:
        value: the channel count to round (int or float).
        divisor: the multiple to round to.
        min_value: the smallest result; ``divisor`` when None.
        min_ratio: the smallest allowed ratio of the result to ``value``.

    Returns:
        The rounded channel count (int).

    Example:

    >>> make_divisible(32 * 0.75, 8)
    24
    >>> make_divisible(96 * 0.1, 8)
    16
    """
    if min_value is None:
        min_value = divisor
    rounded = max(min_value, int(value + divisor / 2) // divisor * divisor)
    if rounded < min_ratio * value:
        rounded += divisor
    return rounded
