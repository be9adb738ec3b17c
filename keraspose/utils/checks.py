"""Argument checks shared by codecs and heads."""

import numpy as np


def size_pair(value, name, allow_int=False):
    """A positive ``(width, height)`` pair of ints, or a clear ValueError.

    Args:
        value: the argument (a pair; an int too with ``allow_int``).
        name: its name, for the message.
        allow_int: accept one int for both sides.

    Returns:
        ``(w, h)`` as Python ints.

    Example:

    >>> size_pair((192.0, 256), "input_size")
    (192, 256)
    """
    if allow_int and isinstance(value, int):
        value = (value, value)
    try:
        pair = tuple(int(v) for v in value)
    except (TypeError, ValueError):
        pair = None
    if pair is None or len(pair) != 2 or min(pair) <= 0:
        kind = (
            "positive int or (width, height) pair"
            if allow_int
            else ("positive (width, height) pair")
        )
        raise ValueError(
            f"Expected `{name}` as a {kind}. Received: {name}={value!r}"
        )
    return pair


def positive_int(value, name, odd=False, allow_none=False):
    """A positive (optionally odd) int, or a clear ValueError.

    Args:
        value: the argument (a Python or NumPy integer; bools raise).
        name: its name, for the message.
        odd: also require an odd value (kernel sizes).
        allow_none: accept None (returned as is).

    Returns:
        ``value`` as a Python int (or None).

    Example:

    >>> positive_int(5, "decode_nms_kernel", odd=True)
    5
    """
    if value is None and allow_none:
        return None
    ok = (
        not isinstance(value, bool)
        and isinstance(value, int | np.integer)
        and value >= 1
        and (not odd or value % 2 == 1)
    )
    if not ok:
        kind = "positive odd integer" if odd else "positive integer"
        if allow_none:
            kind += " or None"
        raise ValueError(
            f"Expected `{name}` to be a {kind}. Received: {name}={value!r}"
        )
    return int(value)
