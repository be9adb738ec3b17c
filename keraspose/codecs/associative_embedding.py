"""Associative Embedding codec (bottom-up heatmaps + grouping tags)."""

import numpy as np
from keras import ops

from keraspose.codecs.base import BaseKeypointCodec
from keraspose.codecs.base import check_keypoints
from keraspose.codecs.utils.gaussian_heatmap import generate_gaussian_heatmaps
from keraspose.codecs.utils.heatmap_nms import batch_heatmap_nms
from keraspose.codecs.utils.post_processing import gaussian_blur
from keraspose.codecs.utils.udp import generate_udp_gaussian_heatmaps
from keraspose.registry import register
from keraspose.utils.checks import positive_int
from keraspose.utils.checks import size_pair

_INT32 = np.iinfo(np.int32)
_EPS32 = np.finfo(np.float32).eps


def encode_keypoint_indices(heatmap_size, keypoints, keypoints_visible):
    """Flat heatmap index and validity of every keypoint.

    Args:
        heatmap_size: (W, H).
        keypoints: (N, K, 2) keypoints in heatmap pixels.
        keypoints_visible: (N, K).

    Returns:
        (N, K, 2) int32 ``[y * W + x, valid]`` with ``(x, y)`` the keypoint
        plus 0.5 truncated toward zero (so keypoints up to half a pixel
        left of / above the map count as inside, as in MMPose); valid means
        visible (> 0.5) and inside the map. Indices outside the int32 range
        are clipped to it (MMPose: int64).
    """
    w, h = heatmap_size
    pos = np.trunc(keypoints.astype(np.float64) + 0.5)
    pos = np.clip(pos, -(2.0**40), 2.0**40).astype(np.int64)
    x, y = pos[..., 0], pos[..., 1]
    index = np.clip(y * w + x, _INT32.min, _INT32.max)
    valid = (keypoints_visible > 0.5) & (x >= 0) & (x < w) & (y >= 0) & (y < h)
    return np.stack([index, valid], axis=-1).astype(np.int32)


def _group_by_tags(vals, tags, locs, order, val_thr, tag_thr, max_groups):
    """Greedy tag grouping of one image's candidates (MMPose's algorithm).

    Keypoint types are visited in ``order``. The candidates of the first
    type with any candidate above ``val_thr`` each start a group; later
    candidates are matched to the existing groups by the Hungarian method on
    the cost ``round(||tag - group mean tag||) * 100 - score`` (padded with
    1e10 for surplus candidates), join a group when the tag distance is
    below ``tag_thr`` and start a new group otherwise. Groups are keyed by
    the first tag component of their founding candidate, so two founders
    with equal tags share a group (MMPose's dict quirk).

    Args:
        vals: (K, T) candidate scores.
        tags: (K, T, L) candidate tags.
        locs: (K, T, 2) integer candidate locations (x, y).
        order: visiting order of the K keypoint types.
        val_thr: score threshold of candidates.
        tag_thr: maximum tag distance to join a group.
        max_groups: keep the first ``max_groups`` groups (None: all).

    Returns:
        (G, K, 3) float32 ``(x, y, score)`` of each group (zeros where the
        group has no candidate of that type).
    """
    from scipy.optimize import linear_sum_assignment

    num_kpts, _, tag_dim = tags.shape
    empty = np.zeros((num_kpts, 3 + tag_dim), dtype=np.float32)
    members = {}
    member_tags = {}
    for step, k in enumerate(order):
        cand_tags = tags[k]
        cand = np.concatenate((locs[k], vals[k][:, None], cand_tags), axis=1)
        keep = cand[:, 2] > val_thr
        cand_tags = cand_tags[keep]
        cand = cand[keep]
        if cand.shape[0] == 0:
            continue
        if step == 0 or not members:
            for tag, row in zip(cand_tags, cand):
                members.setdefault(tag[0], empty.copy())[k] = row
                member_tags[tag[0]] = [tag]
            continue
        keys = list(members)
        centers = np.array([np.mean(member_tags[key], axis=0) for key in keys])
        dist = np.linalg.norm(cand[:, None, 3:] - centers[None], ord=2, axis=2)
        cost = np.round(dist) * 100 - cand[:, 2:3]
        n_new, n_old = cost.shape
        if n_new > n_old:
            filler = np.full((n_new, n_new - n_old), 1e10, np.float32)
            cost = np.concatenate((cost, filler), axis=1)
        rows, cols = linear_sum_assignment(cost)
        for r, c in zip(rows, cols):
            if c < n_old and dist[r, c] < tag_thr:
                members[keys[c]][k] = cand[r]
                member_tags[keys[c]].append(cand_tags[r])
            else:
                key = cand_tags[r][0]
                members.setdefault(key, empty.copy())[k] = cand[r]
                member_tags[key] = [cand_tags[r]]
    keys = list(members)[:max_groups]
    if not keys:
        return np.zeros((0, num_kpts, 3), dtype=np.float32)
    return np.array([members[key] for key in keys], np.float32)[..., :3]


def _refine_quarter(keypoints, heatmaps):
    """Quarter-pixel shift toward the higher neighbour (in place).

    MMPose's ``refine_keypoints`` bounds: x shifts when ``1 < x < W - 1``
    and ``0 < y < H``; y when ``1 < y < H - 1`` and ``0 < x < W``.

    Args:
        keypoints: (N, K, 2) float32 keypoints.
        heatmaps: (K, H, W).
    """
    num_kpts, h, w = heatmaps.shape
    x = keypoints[..., 0].astype(np.int64)
    y = keypoints[..., 1].astype(np.int64)
    k = np.arange(num_kpts)[None]

    def at(xx, yy):
        return heatmaps[k, np.clip(yy, 0, h - 1), np.clip(xx, 0, w - 1)]

    ok_x = (x > 1) & (x < w - 1) & (y > 0) & (y < h)
    ok_y = (y > 1) & (y < h - 1) & (x > 0) & (x < w)
    dx = np.where(ok_x, at(x + 1, y) - at(x - 1, y), 0.0).astype(np.float32)
    dy = np.where(ok_y, at(x, y + 1) - at(x, y - 1), 0.0).astype(np.float32)
    keypoints += np.sign(np.stack([dx, dy], axis=-1)) * np.float32(0.25)
    return keypoints


def _refine_dark_udp(keypoints, log_heatmaps):
    """UDP's Newton step on modulated (blurred, clipped, log) heatmaps.

    MMPose's ``refine_keypoints_dark_udp`` after its modulation: gradient
    and Hessian of the edge-padded log heatmap at the integer location,
    ``inv(H + eps * I)`` in float64, keypoints updated in float32.

    Args:
        keypoints: (N, K, 2) float32 integer-valued keypoints.
        log_heatmaps: (K, H, W) modulated heatmaps.
    """
    num_kpts, h, w = log_heatmaps.shape
    flat = np.pad(log_heatmaps, ((0, 0), (1, 1), (1, 1)), mode="edge")
    flat = flat.reshape(-1)
    stride = w + 2
    x = keypoints[..., 0].astype(np.int64)
    y = keypoints[..., 1].astype(np.int64)
    index = x + 1 + (y + 1) * stride
    index = index + stride * (h + 2) * np.arange(num_kpts)[None]

    def at(offset):
        return flat[index + offset]

    i_ = at(0)
    ix1, ix1_ = at(1), at(-1)
    iy1, iy1_ = at(stride), at(-stride)
    ix1y1, ix1_y1_ = at(stride + 1), at(-stride - 1)
    dx = 0.5 * (ix1 - ix1_)
    dy = 0.5 * (iy1 - iy1_)
    dxx = ix1 - 2 * i_ + ix1_
    dyy = iy1 - 2 * i_ + iy1_
    dxy = 0.5 * (ix1y1 - ix1 - iy1 + i_ + i_ - ix1_ - iy1_ + ix1_y1_)
    hessian = np.stack([dxx, dxy, dxy, dyy], axis=-1)
    hessian = hessian.reshape(hessian.shape[:-1] + (2, 2))
    inverse = np.linalg.inv(hessian + _EPS32 * np.eye(2))
    step = np.einsum("...mn,...n->...m", inverse, np.stack([dx, dy], -1))
    keypoints[...] = (keypoints.astype(np.float64) - step).astype(np.float32)
    return keypoints


def _fill_missing(keypoints, scores, heatmaps, tag_maps):
    """Completes each instance with its best-matching missing keypoints.

    The instance tag is the mean tag (read at the truncated, clipped
    keypoint locations) of its detected keypoints; each missing keypoint
    (score <= 0) goes to the argmin of ``round(tag distance) * 100 -
    heatmap`` with the heatmap value as score (in place).

    Args:
        keypoints: (N, K, 2) float32.
        scores: (N, K) float32.
        heatmaps: (K, H, W).
        tag_maps: (K, L, H, W).
    """
    num_kpts, tag_dim, h, w = tag_maps.shape
    for n in range(keypoints.shape[0]):
        found = np.flatnonzero(scores[n] > 0)
        missing = np.flatnonzero(~(scores[n] > 0))
        if missing.size == 0:
            continue
        pos = keypoints[n, found].astype(np.int64)
        x = np.clip(pos[:, 0], 0, w - 1)
        y = np.clip(pos[:, 1], 0, h - 1)
        tag = np.mean(tag_maps[found, :, y, x], axis=0)
        dist = np.linalg.norm(
            tag_maps[missing] - tag.reshape(1, tag_dim, 1, 1), ord=2, axis=1
        )
        cost = np.round(dist) * 100 - heatmaps[missing]
        best = np.argmin(cost.reshape(missing.size, -1), axis=-1)
        by, bx = np.unravel_index(best, (h, w))
        keypoints[n, missing, 0] = bx
        keypoints[n, missing, 1] = by
        scores[n, missing] = heatmaps[missing, by, bx]
    return keypoints, scores


@register
class AssociativeEmbedding(BaseKeypointCodec):
    """Keypoint heatmaps plus grouping tags, decoded bottom-up.

    Reference: Newell et al., "Associative Embedding: End-to-End Learning
    for Joint Detection and Grouping", NeurIPS 2017. With ``use_udp``, UDP
    encoding and refinement (Huang et al., "The Devil is in the Details:
    Delving into Unbiased Data Processing for Human Pose Estimation", CVPR
    2020).

    Encoding (host, NumPy, one image with N instances) gives ``heatmaps``
    (H, W, K), the maximum of every instance's Gaussian; ``keypoint_indices``
    (N, K, 2) int32 ``[y * W + x, valid]`` at which the loss reads the
    tags; and ``keypoint_weights`` (N, K).

    Decoding is split in two stages. :meth:`decode_device` (``keras.ops``,
    fixed shapes, runs compiled) applies heatmap NMS and takes the
    ``decode_topk`` best candidates of each keypoint type with their tags.
    :meth:`decode_host` (NumPy, batched over images) groups the candidates
    into instances, refines them and fills their missing keypoints.
    :meth:`decode` runs both. Numbers follow MMPose 1.x, quirks included:

    * Grouping keys groups by their founder's first tag component, and
      the Hungarian matching uses ``scipy.optimize.linear_sum_assignment``
      (MMPose: munkres; both optimal, equal up to ties).
    * ``bbox_scores`` is the mean keypoint score of a group *before*
      missing keypoints are filled (their score counts as 0).
    * ``decode_center_shift`` is added to grouped keypoints only; filled
      keypoints stay on integer pixels.
    * With ``use_udp``, MMPose's refinement modulates the heatmaps in
      place, so missing keypoints are filled from (and scored by) the
      blurred, clipped log heatmaps; the device stage returns those maps.
    * Heatmaps may be larger than ``heatmap_size`` (MMPose's
      ``restore_heatmap_size`` test mode builds the decoder with
      ``heatmap_size=input_size``): decoding uses the heatmaps' own size and
      scales coordinates by ``input_size / heatmap_size`` of the config.
    * An empty ``decode_keypoint_order`` (the default, which fails in
      MMPose) groups in the natural order 0..K-1.

    Args:
        input_size: model input size (w, h).
        heatmap_size: heatmap size (W, H).
        sigma: Gaussian sigma in heatmap pixels; None for
            ``sqrt(W * H) / 64``.
        use_udp: UDP encoding and refinement.
        decode_keypoint_order: order in which keypoint types are grouped
            (a permutation of 0..K-1), usually head and torso first.
        decode_nms_kernel: odd window of the heatmap NMS.
        decode_gaussian_kernel: odd blur kernel of UDP refinement.
        decode_keypoint_thr: minimum candidate score.
        decode_tag_thr: maximum tag distance to join a group.
        decode_topk: candidates per keypoint type.
        decode_center_shift: offset added to grouped keypoints (heatmap
            pixels).
        decode_max_instances: keep at most this many instances (None: all);
            also the padded instance count M of :meth:`decode_host`.

    Example:

    >>> import numpy as np
    >>> codec = AssociativeEmbedding(input_size=(64, 64),
    ...                              heatmap_size=(16, 16), sigma=1.0,
    ...                              decode_max_instances=4)
    >>> kpts = np.array([[[10.0, 12.0], [20.0, 12.0]],
    ...                  [[44.0, 40.0], [52.0, 40.0]]], "float32")
    >>> enc = codec.encode(kpts)
    >>> enc["heatmaps"].shape, enc["keypoint_indices"][0].tolist()
    ((16, 16, 2), [[51, 1], [53, 1]])
    >>> tags = np.zeros((1, 16, 16, 2), "float32")
    >>> tags[0, 8:] = 3.0  # the lower instance has another tag
    >>> heatmaps = enc["heatmaps"][None].copy()
    >>> heatmaps[0, 8:] *= 0.9  # and weaker peaks
    >>> out = codec.decode(heatmaps, tags)
    >>> out["instance_mask"].tolist()
    [[True, True, False, False]]
    >>> out["keypoints"][0, :2].round(1).tolist()
    [[[12.0, 12.0], [20.0, 12.0]], [[44.0, 40.0], [52.0, 40.0]]]
    """

    label_keys = ("keypoint_indices", "keypoint_weights")
    field_keys = ("heatmaps",)

    def __init__(
        self,
        input_size,
        heatmap_size,
        sigma=None,
        use_udp=False,
        decode_keypoint_order=(),
        decode_nms_kernel=5,
        decode_gaussian_kernel=3,
        decode_keypoint_thr=0.1,
        decode_tag_thr=1.0,
        decode_topk=30,
        decode_center_shift=0.0,
        decode_max_instances=None,
    ):
        self.input_size = size_pair(input_size, "input_size")
        self.heatmap_size = size_pair(heatmap_size, "heatmap_size")
        if sigma is None:
            w, h = self.heatmap_size
            sigma = (w * h) ** 0.5 / 64
        if isinstance(sigma, bool) or not float(sigma) > 0:
            raise ValueError(
                f"Expected sigma > 0 (or None). Received: sigma={sigma!r}"
            )
        self.sigma = float(sigma)
        self.use_udp = bool(use_udp)
        order = [int(i) for i in decode_keypoint_order]
        if sorted(order) != list(range(len(order))):
            raise ValueError(
                "Expected `decode_keypoint_order` to be a permutation of "
                f"0..K-1. Received: decode_keypoint_order={order!r}"
            )
        self.decode_keypoint_order = order
        self.decode_nms_kernel = positive_int(
            decode_nms_kernel, "decode_nms_kernel", odd=True
        )
        self.decode_gaussian_kernel = positive_int(
            decode_gaussian_kernel, "decode_gaussian_kernel", odd=True
        )
        self.decode_keypoint_thr = float(decode_keypoint_thr)
        self.decode_tag_thr = float(decode_tag_thr)
        self.decode_topk = positive_int(decode_topk, "decode_topk")
        self.decode_center_shift = float(decode_center_shift)
        self.decode_max_instances = positive_int(
            decode_max_instances, "decode_max_instances", allow_none=True
        )
        size_in = np.array(self.input_size)
        size_hm = np.array(self.heatmap_size)
        if self.use_udp:
            if min(self.heatmap_size) < 2:
                raise ValueError(
                    "use_udp needs heatmap_size >= 2 on both sides. "
                    f"Received: heatmap_size={self.heatmap_size}"
                )
            scale = (size_in - 1) / (size_hm - 1)
        else:
            scale = size_in / size_hm
        self.scale_factor = scale.astype(np.float32)

    # ------------------------------------------------------------ encode
    def encode(self, keypoints, keypoints_visible=None):
        """Encodes one image's instances.

        Args:
            keypoints: (N, K, 2) keypoints in model-input pixels.
            keypoints_visible: (N, K) visibility, or None.

        Returns:
            dict with ``heatmaps`` (H, W, K) float32, ``keypoint_indices``
            (N, K, 2) int32 and ``keypoint_weights`` (N, K) float32.
        """
        keypoints, keypoints_visible = check_keypoints(
            keypoints, keypoints_visible, "AssociativeEmbedding"
        )
        scaled = keypoints / self.scale_factor
        generate = (
            generate_udp_gaussian_heatmaps
            if self.use_udp
            else generate_gaussian_heatmaps
        )
        heatmaps, weights = generate(
            self.heatmap_size, scaled, keypoints_visible, self.sigma
        )
        indices = encode_keypoint_indices(
            self.heatmap_size, scaled, keypoints_visible
        )
        return dict(
            heatmaps=heatmaps,
            keypoint_indices=indices,
            keypoint_weights=weights,
        )

    # ------------------------------------------------------------ decode
    def _order(self, num_kpts):
        order = self.decode_keypoint_order or list(range(num_kpts))
        if len(order) != num_kpts:
            raise ValueError(
                f"decode_keypoint_order has {len(order)} entries but the "
                f"heatmaps have K={num_kpts} keypoints."
            )
        return order

    def decode_device(self, heatmaps, tags):
        """Device stage: heatmap NMS and top-k candidates (``keras.ops``).

        Args:
            heatmaps: (B, H, W, K) keypoint heatmaps.
            tags: (B, H, W, L * K) tag maps, channel ``l * K + k`` (L = 2
                after flip-test concatenation).

        Returns:
            dict of float32 tensors: ``topk_vals`` (B, K, T), ``topk_tags``
            (B, K, T, L), ``topk_locs`` (B, K, T, 2) int32 (x, y), and for
            the host stage ``heatmaps`` (B, H, W, K) (with ``use_udp``: the
            blurred, clipped log heatmaps) and ``tags`` (B, H, W, L * K).
        """
        heatmaps = ops.cast(ops.convert_to_tensor(heatmaps), "float32")
        tags = ops.cast(ops.convert_to_tensor(tags), "float32")
        if len(heatmaps.shape) != 4 or len(tags.shape) != 4:
            raise ValueError(
                "AssociativeEmbedding.decode expects heatmaps (B, H, W, K) "
                "and tags (B, H, W, L*K). Received shapes "
                f"{tuple(heatmaps.shape)} and {tuple(tags.shape)}"
            )
        h, w, num_kpts = heatmaps.shape[1], heatmaps.shape[2], heatmaps.shape[3]
        channels = tags.shape[3]
        if (
            tuple(tags.shape[1:3]) != (h, w)
            or channels is None
            or channels % num_kpts
        ):
            raise ValueError(
                "Expected tags of shape (B, H, W, L*K) matching heatmaps "
                f"{tuple(heatmaps.shape)}. Received {tuple(tags.shape)}"
            )
        if h * w < self.decode_topk:
            raise ValueError(
                f"decode_topk={self.decode_topk} exceeds the {h * w} "
                "heatmap pixels."
            )
        tag_dim = channels // num_kpts
        peaks = batch_heatmap_nms(heatmaps, self.decode_nms_kernel)
        flat = ops.reshape(
            ops.transpose(peaks, (0, 3, 1, 2)), (-1, num_kpts, h * w)
        )
        vals, index = ops.top_k(flat, self.decode_topk)
        index = ops.cast(index, "int32")
        tag_flat = ops.transpose(
            ops.reshape(tags, (-1, h * w, tag_dim, num_kpts)), (0, 3, 2, 1)
        )  # (B, K, L, HW); the gather broadcasts the index over L
        topk_tags = ops.transpose(
            ops.take_along_axis(tag_flat, index[:, :, None, :], axis=-1),
            (0, 1, 3, 2),
        )
        locs = ops.stack([index % w, index // w], axis=-1)
        if self.use_udp:
            modulated = gaussian_blur(heatmaps, self.decode_gaussian_kernel)
            heatmaps = ops.log(ops.clip(modulated, 1e-3, 50.0))
        return dict(
            topk_vals=vals,
            topk_tags=topk_tags,
            topk_locs=locs,
            heatmaps=heatmaps,
            tags=tags,
        )

    def decode_host(self, preds):
        """Host stage: grouping, refinement and filling (NumPy).

        Args:
            preds: :meth:`decode_device`'s dict as NumPy arrays.

        Returns:
            dict of NumPy arrays padded to M instances (valid ones first):
            ``keypoints`` (B, M, K, 2) float32 in model-input pixels,
            ``keypoint_scores`` (B, M, K), ``bbox_scores`` (B, M) (mean
            grouped score) and ``instance_mask`` (B, M) bool. M is
            ``decode_max_instances``, or the largest count in the batch
            (at least 1) when that is None.
        """
        vals = np.asarray(preds["topk_vals"], np.float32)
        cand_tags = np.asarray(preds["topk_tags"], np.float32)
        locs = np.asarray(preds["topk_locs"]).astype(np.int64)
        heatmaps = np.asarray(preds["heatmaps"], np.float32)
        tags = np.asarray(preds["tags"], np.float32)
        batch, h, w, num_kpts = heatmaps.shape
        tag_dim = tags.shape[-1] // num_kpts
        order = self._order(num_kpts)
        results = []
        for b in range(batch):
            groups = _group_by_tags(
                vals[b],
                cand_tags[b],
                locs[b],
                order,
                self.decode_keypoint_thr,
                self.decode_tag_thr,
                self.decode_max_instances,
            )
            keypoints = np.ascontiguousarray(groups[..., :2])
            scores = np.ascontiguousarray(groups[..., 2])
            instance_scores = scores.mean(axis=-1)
            if keypoints.size > 0:
                hm = np.ascontiguousarray(heatmaps[b].transpose(2, 0, 1))
                if self.use_udp:
                    _refine_dark_udp(keypoints, hm)
                else:
                    _refine_quarter(keypoints, hm)
                shift = np.float32(self.decode_center_shift)
                keypoints += shift * (scores > 0).astype(np.float32)[..., None]
                tag_maps = tags[b].reshape(h, w, tag_dim, num_kpts)
                tag_maps = tag_maps.transpose(3, 2, 0, 1)
                _fill_missing(keypoints, scores, hm, tag_maps)
            results.append(
                (keypoints * self.scale_factor, scores, instance_scores)
            )
        m = self.decode_max_instances
        if m is None:
            m = max([1] + [r[0].shape[0] for r in results])
        out = dict(
            keypoints=np.zeros((batch, m, num_kpts, 2), np.float32),
            keypoint_scores=np.zeros((batch, m, num_kpts), np.float32),
            bbox_scores=np.zeros((batch, m), np.float32),
            instance_mask=np.zeros((batch, m), bool),
        )
        for b, (keypoints, scores, instance_scores) in enumerate(results):
            n = keypoints.shape[0]
            out["keypoints"][b, :n] = keypoints
            out["keypoint_scores"][b, :n] = scores
            out["bbox_scores"][b, :n] = instance_scores
            out["instance_mask"][b, :n] = True
        return out

    def decode(self, heatmaps, tags):
        """Both decoding stages (MMPose's ``batch_decode``, padded).

        Args:
            heatmaps: (B, H, W, K) heatmaps, or (H, W, K) for one image.
            tags: (B, H, W, L * K) tag maps, or (H, W, L * K).

        Returns:
            :meth:`decode_host`'s dict.
        """
        heatmaps = ops.convert_to_tensor(heatmaps)
        tags = ops.convert_to_tensor(tags)
        if len(heatmaps.shape) == 3:
            heatmaps = heatmaps[None]
        if len(tags.shape) == 3:
            tags = tags[None]
        preds = self.decode_device(heatmaps, tags)
        return self.decode_host(
            {k: ops.convert_to_numpy(v) for k, v in preds.items()}
        )

    def get_config(self):
        return dict(
            input_size=self.input_size,
            heatmap_size=self.heatmap_size,
            sigma=self.sigma,
            use_udp=self.use_udp,
            decode_keypoint_order=list(self.decode_keypoint_order),
            decode_nms_kernel=self.decode_nms_kernel,
            decode_gaussian_kernel=self.decode_gaussian_kernel,
            decode_keypoint_thr=self.decode_keypoint_thr,
            decode_tag_thr=self.decode_tag_thr,
            decode_topk=self.decode_topk,
            decode_center_shift=self.decode_center_shift,
            decode_max_instances=self.decode_max_instances,
        )
