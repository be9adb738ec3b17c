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
