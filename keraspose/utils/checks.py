"""Argument checks shared by codecs and heads."""


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
