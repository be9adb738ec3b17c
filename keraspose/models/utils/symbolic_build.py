"""Builds a composite layer by tracing its ``call`` on symbolic inputs."""

import keras


def build_by_symbolic_call(layer, input_shape):
    """Calls ``layer.call`` on ``KerasTensor``s so every sublayer is built.

    Args:
        layer: the layer being built.
        input_shape: a shape, or a nested structure of shapes (e.g. a tuple
            of feature-map shapes for heads and necks).
    """
    inputs = keras.tree.map_shape_structure(
        lambda shape: keras.KerasTensor(tuple(shape), "float32"), input_shape
    )
    if isinstance(inputs, list):
        inputs = tuple(inputs)
    layer.call(inputs)
