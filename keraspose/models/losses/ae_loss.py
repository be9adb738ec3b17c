"""Associative Embedding grouping loss (pull and push)."""

from keras import ops

from keraspose.models.losses.base_loss import BaseLoss
from keraspose.registry import register

_EPS = 1e-6


@register
class AssociativeEmbeddingLoss(BaseLoss):
    """Grouping loss on tag maps: pull tags of an instance together, push
    the mean tags of different instances apart.

    Reference: Newell et al., "Associative Embedding: End-to-End Learning
    for Joint Detection and Grouping", NeurIPS 2017.

    Per image, with the N instances that have at least one valid keypoint
    (``keypoint_indices[..., 1] > 0``), ``t_nk`` the tag (L values) read at
    keypoint k of instance n and ``m_n`` their mean:

    * pull = ``sum_n mean_{k valid, l} (t_nk - m_n)^2 / (N + 1e-6)``;
    * push = ``sum_{n, n', l} exp(-(m_n - m_n')^2) / (N (N - 1) + 1e-6)``
      for N >= 2 (0 otherwise). As in MMPose the sum includes the diagonal
      n = n' (a constant ``N * L``).

    Both are summed (not averaged) over the batch and scaled by
    ``loss_weight`` (push also by ``push_loss_factor``). Instances are the
    padded M slots of ``keypoint_indices``; padding (all-zero) slots are
    invalid and contribute nothing. Computed in float32 with fixed shapes
    (jit-friendly).

    Args:
        loss_weight: multiplier of both losses.
        push_loss_factor: extra multiplier of the push loss.

    Example:

    >>> import numpy as np
    >>> loss = AssociativeEmbeddingLoss()
    >>> tags = np.zeros((1, 2, 2, 1), "float32")
    >>> tags[0, 1, 1, 0] = 1.0
    >>> indices = np.array([[[[0, 1]], [[3, 1]]]], "int32")  # (B, M, K, 2)
    >>> pull, push = loss(tags, indices)
    >>> round(float(pull), 4), round(float(push), 4)
    (0.0, 0.6839)
    """

    def __init__(self, loss_weight=1.0, push_loss_factor=0.5):
        self.loss_weight = float(loss_weight)
        self.push_loss_factor = float(push_loss_factor)

    def __call__(self, tags, keypoint_indices):
        """Computes the pull and push losses of a batch.

        Args:
            tags: (B, H, W, L * K) tag maps, channel ``l * K + k``.
            keypoint_indices: (B, M, K, 2) ``[y * W + x, valid]`` per
                instance slot (the codec's labels, padded with zeros).

        Returns:
            ``(pull_loss, push_loss)`` float32 scalars.
        """
        tags = ops.cast(ops.convert_to_tensor(tags), "float32")
        keypoint_indices = ops.convert_to_tensor(keypoint_indices)
        if len(tags.shape) != 4 or len(keypoint_indices.shape) != 4:
            raise ValueError(
                "AssociativeEmbeddingLoss expects tags (B, H, W, L*K) and "
                "keypoint_indices (B, M, K, 2). Received shapes "
                f"{tuple(tags.shape)} and {tuple(keypoint_indices.shape)}"
            )
        num_kpts = keypoint_indices.shape[2]
        h, w, channels = tags.shape[1], tags.shape[2], tags.shape[3]
        if channels % num_kpts:
            raise ValueError(
                f"Expected tags with a multiple of K={num_kpts} channels. "
                f"Received shape {tuple(tags.shape)}"
            )
        tag_dim = channels // num_kpts

        # (B, K, HW, L): tag maps of keypoint k
        tag_maps = ops.transpose(
            ops.reshape(tags, (-1, h * w, tag_dim, num_kpts)), (0, 3, 1, 2)
        )
        index = ops.cast(keypoint_indices[..., 0], "int32")
        index = ops.clip(index, 0, h * w - 1)
        valid = ops.cast(keypoint_indices[..., 1] > 0, "float32")  # (B,M,K)
        # (B, K, M, 1): the gather broadcasts it over L
        gather = ops.transpose(index, (0, 2, 1))[..., None]
        kpt_tags = ops.take_along_axis(tag_maps, gather, axis=2)
        kpt_tags = ops.transpose(kpt_tags, (0, 2, 1, 3))  # (B, M, K, L)

        count = ops.sum(valid, axis=-1)  # (B, M)
        inst_valid = ops.cast(count > 0, "float32")
        safe_count = ops.maximum(count, 1.0)
        mean_tag = (
            ops.sum(kpt_tags * valid[..., None], axis=2) / safe_count[..., None]
        )  # (B, M, L)
        sq = ops.square(kpt_tags - mean_tag[:, :, None]) * valid[..., None]
        pull_inst = ops.sum(sq, axis=(2, 3)) / (safe_count * tag_dim)
        num_valid = ops.sum(inst_valid, axis=-1)  # (B,)
        pull = ops.sum(pull_inst * inst_valid, axis=-1) / (num_valid + _EPS)

        diff = mean_tag[:, :, None] - mean_tag[:, None]  # (B, M, M, L)
        pair = inst_valid[:, :, None] * inst_valid[:, None]
        push = ops.sum(ops.exp(-ops.square(diff)), axis=-1) * pair
        push = ops.sum(push, axis=(1, 2)) / (
            (num_valid - 1.0) * num_valid + _EPS
        )
        push = ops.where(num_valid > 1, push, 0.0)

        pull_loss = ops.sum(pull) * self.loss_weight
        push_loss = ops.sum(push) * self.loss_weight * self.push_loss_factor
        return pull_loss, push_loss

    def get_config(self):
        return dict(
            loss_weight=self.loss_weight,
            push_loss_factor=self.push_loss_factor,
        )
