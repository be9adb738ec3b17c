"""The shared component test every registered class goes through.

``run_layer_test`` builds a layer from its config, checks that
``get_config`` rebuilds a layer with *equal outputs* (weights copied),
saves and reloads it inside a ``.keras`` model with equal outputs, runs one
compiled training step, and runs it under a mixed precision policy.
``run_object_test`` does the same for plain objects (codecs, losses).
"""

import os

import keras
import numpy as np

import keraspose
from keraspose.registry import to_config

BACKEND = keras.backend.backend()


def imagenet_preprocessor():
    """MMPose's ImageNet ``PoseDataPreprocessor`` config (BGR input)."""
    return dict(
        type="PoseDataPreprocessor",
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True,
    )


def tiny_resnet(**kwargs):
    """A ResNet-18 config with 8 base channels (fast estimator tests)."""
    return dict(
        type="ResNet", depth=18, base_channels=8, stem_channels=8, **kwargs
    )


def coco_bottomup_test_loader(shared_data, pipeline, batch_size=1):
    """A val dataloader config over the shared ``test_coco.json`` images,
    bottom-up, in order (``shared_data``: the ``shared_data`` fixture)."""
    return dict(
        batch_size=batch_size,
        sampler=dict(type="DefaultSampler", shuffle=False),
        dataset=dict(
            type="CocoDataset",
            data_root=str(shared_data / "coco"),
            ann_file="test_coco.json",
            data_mode="bottomup",
            test_mode=True,
            pipeline=pipeline,
        ),
    )


def to_numpy(x):
    return keras.tree.map_structure(keras.ops.convert_to_numpy, x)


def assert_allclose_tree(a, b, atol=1e-6, rtol=1e-6):
    flat_a, flat_b = keras.tree.flatten(a), keras.tree.flatten(b)
    assert len(flat_a) == len(flat_b)
    for x, y in zip(flat_a, flat_b):
        np.testing.assert_allclose(
            keras.ops.convert_to_numpy(x),
            keras.ops.convert_to_numpy(y),
            atol=atol,
            rtol=rtol,
        )


def _wrap(layer, inputs, call_kwargs):
    """A functional model around a layer (inputs: array or tuple of arrays)."""
    if isinstance(inputs, tuple | list):
        sym = [keras.Input(shape=x.shape[1:], batch_size=None) for x in inputs]
        out = layer(tuple(sym), **call_kwargs)
        return keras.Model(sym, out)
    sym = keras.Input(shape=inputs.shape[1:])
    return keras.Model(sym, layer(sym, **call_kwargs))


def run_layer_test(
    cfg,
    inputs,
    tmp_path,
    expected_output_shape=None,
    call_kwargs=None,
    train=True,
    precision=True,
    atol=1e-6,
):
    """Runs the standard checks on a registered layer.

    Args:
        cfg: keraspose config dict of the layer.
        inputs: NumPy input (or tuple of inputs).
        tmp_path: a directory for the ``.keras`` file.
        expected_output_shape: shape (or structure of shapes) to check.
        call_kwargs: extra keyword arguments of ``call``.
        train: run one compiled training step.
        precision: run a forward pass under ``mixed_bfloat16``.
        atol: tolerance of the output comparisons.

    Returns:
        The built layer.
    """
    call_kwargs = call_kwargs or {}
    layer = keraspose.build(cfg)
    model = _wrap(layer, inputs, call_kwargs)
    outputs = to_numpy(model(inputs))
    if expected_output_shape is not None:
        shapes = keras.tree.map_structure(lambda x: tuple(x.shape), outputs)
        assert shapes == expected_output_shape, shapes

    # get_config round trip: same config, same outputs with the same weights.
    config = to_config(layer)
    clone = keraspose.build(config)
    assert to_config(clone) == config
    clone_model = _wrap(clone, inputs, call_kwargs)
    clone_model.set_weights(model.get_weights())
    assert_allclose_tree(clone_model(inputs), outputs, atol=atol)

    # .keras round trip
    path = os.path.join(tmp_path, f"{type(layer).__name__}.keras")
    model.save(path)
    loaded = keras.saving.load_model(path, compile=False)
    assert_allclose_tree(loaded(inputs), outputs, atol=atol)

    if train and layer.trainable_weights:
        before = [w.copy() for w in model.get_weights()]
        targets = keras.tree.map_structure(
            lambda x: (
                np.random.default_rng(0).normal(size=x.shape).astype("float32")
            ),
            outputs,
        )
        model.compile(
            optimizer=keras.optimizers.SGD(0.1),
            loss="mse",
            jit_compile=BACKEND != "torch",
        )
        loss = model.train_on_batch(inputs, targets)
        loss = loss[0] if isinstance(loss, list) else loss
        assert np.isfinite(loss)
        after = model.get_weights()
        assert any(not np.array_equal(a, b) for a, b in zip(before, after)), (
            "a training step changed no weight"
        )

    if precision:
        keras.config.set_dtype_policy("mixed_bfloat16")
        try:
            mixed = keraspose.build(cfg)
            out = mixed(inputs, **call_kwargs)
            for x in keras.tree.flatten(out):
                assert keras.backend.standardize_dtype(x.dtype) == "bfloat16"
                assert np.isfinite(
                    keras.ops.convert_to_numpy(keras.ops.cast(x, "float32"))
                ).all()
        finally:
            keras.config.set_dtype_policy("float32")
    return layer


def run_object_test(cfg, fn):
    """Build / config / Keras-serialization round trip of a plain object.

    Args:
        cfg: keraspose config dict.
        fn: function of the object whose outputs must be equal after each
            round trip.

    Returns:
        The built object.
    """
    obj = keraspose.build(cfg)
    expected = to_numpy(fn(obj))
    config = to_config(obj)
    clone = keraspose.build(config)
    assert to_config(clone) == config
    assert_allclose_tree(fn(clone), expected, atol=0)
    serialized = keras.saving.serialize_keras_object(obj)
    restored = keras.saving.deserialize_keras_object(serialized)
    assert type(restored) is type(obj)
    assert_allclose_tree(fn(restored), expected, atol=0)
    return obj
