"""Base class of the graph-mode data transforms."""

import math

from keraspose.utils.config_mixin import ConfigMixin
from keraspose.utils.lazy_import import tf


class BaseTransform(ConfigMixin):
    """A data transform that runs as TensorFlow graph ops in ``tf.data``.

    A transform maps one sample's ``results`` dict of tensors to a new dict,
    like MMPose's ``transform(results)``, but inside a ``tf.data`` map
    function: no per-sample Python runs once the pipeline is traced.

    Randomness is stateless: :class:`Compose` hands every transform its own
    ``seed`` (a shape (2,) int64 tensor) derived from the sample's seed, so
    a pipeline with a fixed seed gives the same samples on every run.

    Subclasses implement ``transform(results, seed)`` and ``get_config()``.
    """

    #: Whether ``transform`` draws random numbers from ``seed``.
    random = False

    def __call__(self, results, seed=None):
        if self.random and seed is None:
            seed = tf.random.uniform([2], maxval=2**31 - 1, dtype=tf.int64)
        return self.transform(dict(results), seed)

    def transform(self, results, seed):
        raise NotImplementedError


def split_seed(seed, num):
    """Splits a (2,) seed into ``num`` independent (2,) seeds."""
    return tf.unstack(
        tf.random.experimental.stateless_split(tf.cast(seed, tf.int64), num=num)
    )


def truncnorm(seed, shape, low=-1.0, high=1.0):
    """Standard normal truncated to ``[low, high]`` (inverse-CDF sampling).

    MMPose draws with ``scipy.stats.truncnorm.rvs(-1, 1)``; this has the
    same distribution.
    """
    cdf_lo = 0.5 * (1.0 + math.erf(low / 2**0.5))
    cdf_hi = 0.5 * (1.0 + math.erf(high / 2**0.5))
    u = tf.random.stateless_uniform(
        shape, seed=seed, minval=cdf_lo, maxval=cdf_hi, dtype=tf.float64
    )
    x = 2**0.5 * tf.math.erfinv(2.0 * u - 1.0)
    return tf.cast(tf.clip_by_value(x, low, high), tf.float32)


def uniform(seed, shape=(), minval=0.0, maxval=1.0):
    """Stateless uniform float32 sample."""
    return tf.random.stateless_uniform(
        shape, seed=seed, minval=minval, maxval=maxval, dtype=tf.float32
    )


def check_probability(value, name, owner):
    """Validates a probability argument."""
    if not isinstance(value, int | float) or not 0.0 <= value <= 1.0:
        raise ValueError(
            f"{owner} expects `{name}` to be a probability in [0, 1]. "
            f"Received: {name}={value!r}"
        )
    return float(value)
