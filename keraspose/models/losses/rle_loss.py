"""Residual log-likelihood estimation loss (MMPose's ``RLELoss``)."""

import math

import keras
from keras import ops

from keraspose.models.losses.base_loss import BaseLoss
from keraspose.models.utils.realnvp import RealNVP
from keraspose.registry import register


@register
class RLELoss(keras.layers.Layer, BaseLoss):
    """Negative log-likelihood of the error under a learned flow density.

    Reference: Li et al., "Human Pose Regression with Residual
    Log-likelihood Estimation" (RLE), ICCV 2021.

    The loss owns a :class:`RealNVP` flow (``flow_model``) whose weights
    are trained with the model, as in MMPose where they are parameters of
    the head's ``loss_module``. It is therefore a Keras layer: a head that
    holds it (``RLEHead``, as ``loss_module``) tracks, trains and saves the
    flow; its weights map to MMPose's ``loss_module.flow_model.*``. It
    computes in float32 whatever the dtype policy.

    As MMPose: ``sigma = sigmoid(sigma_logits)``, ``e = (pred - target) /
    (sigma + 1e-9)``, loss ``log(sigma) - log p_flow(e)`` (the flow's 2-D
    log density shared by x and y) plus, with ``residual``, the Laplace
    ``log(2 sigma) + |e|`` or Gaussian ``log(sigma sqrt(2 pi)) + e^2 / 2``
    term; multiplied by ``target_weight`` (as given, typically (B, K, 1)),
    divided by the batch size with ``size_average``, then summed.

    Args:
        use_target_weight: weight the keypoints by ``target_weight``.
        size_average: divide by the batch size.
        residual: add the closed-form ``q_distribution`` term (the flow
            learns the residual density).
        q_distribution: "laplace" or "gaussian".
        **kwargs: base layer arguments (``name``; the dtype is float32).

    Example:

    >>> import numpy as np
    >>> loss = RLELoss(use_target_weight=True)
    >>> pred = np.zeros((2, 3, 2), "float32")
    >>> value = loss(pred, pred, pred + 0.1, np.ones((2, 3, 1), "float32"))
    >>> value.shape
    ()
    """

    def __init__(
        self,
        use_target_weight=False,
        size_average=True,
        residual=True,
        q_distribution="laplace",
        **kwargs,
    ):
        kwargs["dtype"] = "float32"
        super().__init__(**kwargs)
        if q_distribution not in ("laplace", "gaussian"):
            raise ValueError(
                "Expected q_distribution in ('laplace', 'gaussian'). "
                f"Received: q_distribution={q_distribution!r}"
            )
        self.use_target_weight = bool(use_target_weight)
        self.size_average = bool(size_average)
        self.residual = bool(residual)
        self.q_distribution = q_distribution
        self.flow_model = RealNVP(name="flow_model", dtype="float32")
        self.built = True

    def call(self, pred, sigma, target, target_weight=None):
        """Computes the loss.

        Args:
            pred: predicted coordinates (B, K, 2).
            sigma: predicted sigma logits (B, K, 2) (before the sigmoid).
            target: target coordinates (B, K, 2).
            target_weight: weights broadcastable to (B, K, 2), typically
                (B, K, 1) (``use_target_weight``).

        Returns:
            Scalar float32 loss.
        """
        pred = ops.cast(pred, "float32")
        target = ops.cast(target, "float32")
        sigma = ops.sigmoid(ops.cast(sigma, "float32"))
        shape = ops.shape(target)
        error = (pred - target) / (sigma + 1e-9)
        log_phi = self.flow_model.log_prob(ops.reshape(error, (-1, 2)))
        log_phi = ops.reshape(log_phi, (shape[0], shape[1], 1))
        loss = ops.log(sigma) - log_phi
        if self.residual:
            if self.q_distribution == "laplace":
                loss = loss + ops.log(sigma * 2.0) + ops.abs(error)
            else:
                loss = (
                    loss
                    + ops.log(sigma * math.sqrt(2 * math.pi))
                    + 0.5 * ops.square(error)
                )
        if self.use_target_weight:
            if target_weight is None:
                raise ValueError(
                    "RLELoss(use_target_weight=True) needs target_weight. "
                    "Received: None"
                )
            loss = loss * ops.cast(target_weight, "float32")
        if self.size_average:
            loss = loss / ops.cast(shape[0], "float32")
        return ops.sum(loss)

    def compute_output_spec(self, *args, **kwargs):
        return keras.KerasTensor((), "float32")

    def get_config(self):
        config = super().get_config()
        config.update(
            use_target_weight=self.use_target_weight,
            size_average=self.size_average,
            residual=self.residual,
            q_distribution=self.q_distribution,
        )
        return config
