"""Build datasets and tf.data loaders from MMPose-style config dicts."""

from keraspose.registry import build


def build_dataset(cfg):
    """Builds a dataset from ``dict(type="CocoDataset", ...)``."""
    return build(cfg)


def build_dataloader(cfg, seed=None):
    """An MMPose ``*_dataloader`` dict as a batched ``tf.data.Dataset``.

    Reads ``batch_size``, ``sampler.shuffle`` (MMPose's ``DefaultSampler``),
    ``drop_last`` and ``dataset``; worker settings (``num_workers``,
    ``persistent_workers``, ``pin_memory``) are accepted and ignored, since
    tf.data parallelises the map itself.

    Args:
        cfg: e.g. ``dict(batch_size=64, sampler=dict(type="DefaultSampler",
            shuffle=True), dataset=dict(type="CocoDataset", ...))``.
        seed: seed for shuffling and augmentation.

    Returns:
        ``(tf.data.Dataset, dataset)``: the loader and the dataset object
        (for its metainfo and annotations).

    Example:

    >>> # loader, dataset = build_dataloader(dict(batch_size=32,
    >>> #     dataset=dict(type="CocoDataset", ann_file="...")))
    """
    if not isinstance(cfg, dict) or "dataset" not in cfg:
        raise ValueError(
            "Expected a dataloader config dict with a 'dataset' entry. "
            f"Received: {cfg!r}"
        )
    dataset = build_dataset(cfg["dataset"])
    sampler = cfg.get("sampler") or {}
    shuffle = sampler.get("shuffle", not dataset.test_mode)
    loader = dataset.to_tf_dataset(
        batch_size=int(cfg.get("batch_size", 1)),
        shuffle=shuffle,
        seed=seed,
        drop_remainder=bool(cfg.get("drop_last", False)),
    )
    return loader, dataset


def drop_string_inputs(data):
    """A ``tf.data.Dataset`` of ``(x, y)`` with the string entries of ``x``
    removed; anything else is returned unchanged.

    MMPose's configs pack string meta (``img_path``, ``target_img_path``)
    for their metrics. Keras on JAX and PyTorch cannot convert string
    tensors, and no model reads them, so ``fit`` drops them (evaluation
    reads them from the dataset itself).

    Example:

    >>> drop_string_inputs([1, 2])
    [1, 2]
    """
    if not type(data).__module__.startswith("tensorflow"):
        return data
    from keraspose.utils.lazy_import import tf

    if not isinstance(data, tf.data.Dataset):
        return data
    spec = data.element_spec
    x_spec = spec[0] if isinstance(spec, tuple) else spec
    if not isinstance(x_spec, dict):
        return data
    strings = [k for k, s in x_spec.items() if s.dtype == tf.string]
    if not strings:
        return data

    def drop(*element):
        x = {k: v for k, v in element[0].items() if k not in strings}
        return (x, *element[1:]) if len(element) > 1 else x

    return data.map(drop, num_parallel_calls=tf.data.AUTOTUNE)
