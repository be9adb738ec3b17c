"""Box NMS and keypoint (OKS) NMS on the host (NumPy), as in MMPose.

Names, arguments, defaults and numbers follow MMPose 1.3.2's
``mmpose/evaluation/functional/nms.py`` (itself after the HRNet and DEKR
code). The Object Keypoint Similarity (OKS) is the similarity of the COCO
keypoint evaluation (https://cocodataset.org/#keypoints-eval):

    OKS = mean_k exp(-d_k^2 / (2 * s * (2 * sigma_k)^2)),

with ``d_k`` the distance between keypoint ``k`` of the two instances,
``s`` the mean of the two instances' areas and ``sigma_k`` the per-keypoint
falloff (``sigmas`` of the dataset metainfo).

MMPose runs on NumPy 1, whose value-based casting decides some dtypes
here; the functions pin them so that NumPy 2 gives the same numbers:

* the area term ``(a_g + a_d) / 2 + eps`` is a float64 that is cast to
  the dtype of the squared distances before dividing them;
* the mean over keypoints divides the sum in float64 and the OKS values
  are float32;
* thresholds are compared in the dtype of the compared array.

Unlike MMPose, the functions always return an integer NumPy array (MMPose
returns a list for ``nms`` and for empty inputs).
"""

import numpy as np

#: COCO's 17 body-keypoint falloffs, used when ``sigmas`` is None.
COCO_SIGMAS = (
    np.array(
        [
            0.26,
            0.25,
            0.25,
            0.35,
            0.35,
            0.79,
            0.79,
            0.72,
            0.72,
            0.62,
            0.62,
            1.07,
            1.07,
            0.87,
            0.87,
            0.89,
            0.89,
        ]
    )
    / 10.0
)


def _as_threshold(thr, like):
    """``thr`` in the dtype NumPy 1 compares ``like`` with it."""
    like = np.asarray(like)
    if np.issubdtype(like.dtype, np.floating):
        return like.dtype.type(thr)
    return thr


def _empty_keep():
    return np.zeros((0,), np.intp)


def nms(dets, thr):
    """Greedy box NMS: keeps boxes whose IoU with a kept box is <= ``thr``.

    Boxes are visited by decreasing score; box sides count ``+ 1`` pixel
    (``w = x2 - x1 + 1``), as in MMPose.

    Args:
        dets: (N, 5) array of ``[x1, y1, x2, y2, score]``.
        thr: IoU threshold; a box overlapping a kept box by more is dropped.

    Returns:
        np.ndarray: (M,) indices of the kept boxes, best first.

    Example:

    >>> import numpy as np
    >>> dets = np.array([[0, 0, 10, 10, 0.9], [1, 1, 10, 10, 0.8],
    ...                  [20, 20, 30, 30, 0.7]])
    >>> nms(dets, 0.5).tolist()
    [0, 2]
    """
    dets = np.asarray(dets)
    if dets.size == 0:
        return _empty_keep()
    if dets.ndim != 2 or dets.shape[1] < 5:
        raise ValueError(
            "nms expects `dets` of shape (N, 5): [x1, y1, x2, y2, score] "
            f"per box. Received: {dets.shape}."
        )
    x1, y1, x2, y2, scores = (dets[:, i] for i in range(5))
    areas = (x2 - x1 + 1) * (y2 - y1 + 1)
    order = scores.argsort()[::-1]
    keep = []
    while len(order) > 0:
        best, rest = order[0], order[1:]
        keep.append(best)
        xx1 = np.maximum(x1[best], x1[rest])
        yy1 = np.maximum(y1[best], y1[rest])
        xx2 = np.minimum(x2[best], x2[rest])
        yy2 = np.minimum(y2[best], y2[rest])
        w = np.maximum(0.0, xx2 - xx1 + 1)
        h = np.maximum(0.0, yy2 - yy1 + 1)
        inter = w * h
        ovr = inter / (areas[best] + areas[rest] - inter)
        order = rest[np.where(ovr <= _as_threshold(thr, ovr))[0]]
    return np.asarray(keep, np.intp)


def oks_iou(g, d, a_g, a_d, sigmas=None, vis_thr=None):
    """OKS between one instance and each of several others.

    Args:
        g: (K * 3,) keypoints ``[x0, y0, v0, x1, y1, v1, ...]`` of the
            reference instance (``v``: score or visibility).
        d: (N, K * 3) keypoints of the other instances, same layout.
        a_g: area of the reference instance.
        a_d: (N,) areas of the other instances.
        sigmas: (K,) per-keypoint falloffs; COCO's 17 when None.
        vis_thr: when set, only keypoints with ``v > vis_thr`` in both
            instances count (an instance with none gets OKS 0).

    Returns:
        np.ndarray: (N,) float32 OKS values.

    Example:

    >>> import numpy as np
    >>> g = np.array([10.0, 10.0, 1.0, 20.0, 20.0, 1.0])
    >>> oks_iou(g, g[None], 100.0, np.array([100.0]), sigmas=[0.1, 0.1])
    array([1.], dtype=float32)
    """
    g = np.asarray(g)
    d = np.asarray(d)
    a_d = np.asarray(a_d)
    sigmas = COCO_SIGMAS if sigmas is None else np.asarray(sigmas)
    if d.ndim == 1 and d.size == 0:
        d = d.reshape(0, g.size)
    if g.ndim != 1 or d.ndim != 2 or d.shape[1] != g.size:
        raise ValueError(
            "oks_iou expects `g` of shape (K * 3,) and `d` of shape "
            f"(N, K * 3). Received: g {g.shape}, d {d.shape}."
        )
    if g.size != 3 * sigmas.size:
        raise ValueError(
            f"oks_iou: `sigmas` has {sigmas.size} values but the instances "
            f"have {g.size} numbers ({g.size / 3:g} keypoints x 3); expected "
            "one sigma per keypoint."
        )
    if a_d.shape != (len(d),):
        raise ValueError(
            f"oks_iou expects `a_d` of shape (N,) = ({len(d)},). Received: "
            f"{a_d.shape}."
        )
    variances = (sigmas * 2) ** 2
    xg, yg, vg = g[0::3], g[1::3], g[2::3]
    dx = d[:, 0::3] - xg
    dy = d[:, 1::3] - yg
    sq = (dx**2 + dy**2) / variances
    # NumPy 1: each scalar area sum (in the areas' dtype) is halved in
    # float64 and then cast to the array's dtype by the division
    # (value-based casting).
    denom = (np.asarray(a_g) + a_d).astype(np.float64) / 2 + np.spacing(1)
    if np.issubdtype(sq.dtype, np.floating):
        denom = denom.astype(sq.dtype)
    e = sq / denom[:, None] / 2
    ious = np.zeros(len(d), dtype=np.float32)
    if vis_thr is None:
        if e.shape[1]:
            # A row-wise sum adds like MMPose's per-instance 1-D sum; the
            # mean divides in float64 (NumPy 1's scalar division).
            sums = np.sum(np.exp(-e), axis=1).astype(np.float64)
            ious[:] = sums / e.shape[1]
        return ious
    vis_g = vg > _as_threshold(vis_thr, vg)
    vis_d = d[:, 2::3] > _as_threshold(vis_thr, d[:, 2::3])
    for n in range(len(d)):
        e_n = e[n][vis_g & vis_d[n]]
        if len(e_n) != 0:
            ious[n] = np.float64(np.sum(np.exp(-e_n))) / len(e_n)
    return ious


def _kpts_db_arrays(fn, kpts_db, score_per_joint):
    for i, item in enumerate(kpts_db):
        if not hasattr(item, "keys") or not {"keypoints", "score", "area"} <= (
            set(item.keys())
        ):
            received = sorted(item) if hasattr(item, "keys") else type(item)
            raise ValueError(
                f"{fn} expects `kpts_db` as a list of dicts with "
                f"'keypoints' (K, 3), 'score' and 'area'. Entry {i} has: "
                f"{received}."
            )
    if score_per_joint:
        scores = np.array([np.asarray(k["score"]).mean() for k in kpts_db])
    else:
        scores = np.array([k["score"] for k in kpts_db])
    kpts = np.array([np.asarray(k["keypoints"]).flatten() for k in kpts_db])
    areas = np.array([k["area"] for k in kpts_db])
    return kpts, scores, areas


def oks_nms_arrays(kpts, scores, areas, thr, sigmas=None, vis_thr=None):
    """:func:`oks_nms` on stacked arrays (``kpts`` (N, K * 3))."""
    order = np.asarray(scores).argsort()[::-1]
    keep = []
    while len(order) > 0:
        best, rest = order[0], order[1:]
        keep.append(best)
        ovr = oks_iou(
            kpts[best], kpts[rest], areas[best], areas[rest], sigmas, vis_thr
        )
        order = rest[np.where(ovr <= _as_threshold(thr, ovr))[0]]
    return np.asarray(keep, np.intp)


def oks_nms(kpts_db, thr, sigmas=None, vis_thr=None, score_per_joint=False):
    """Greedy OKS NMS over the instances of one image.

    Instances are visited by decreasing score; an instance whose OKS with
    an already kept one is above ``thr`` is dropped.

    Args:
        kpts_db: list of dicts with ``keypoints`` (K, 3) (x, y, score),
            ``score`` (the instance score, or (K,) per-keypoint scores with
            ``score_per_joint``) and ``area``.
        thr: OKS threshold; instances with OKS <= ``thr`` to every kept
            instance are kept.
        sigmas: (K,) per-keypoint falloffs; COCO's 17 when None.
        vis_thr: when set, the OKS counts only keypoints whose third value
            is above it in both instances.
        score_per_joint: the ``score`` entries are per-keypoint scores,
            averaged into the instance score.

    Returns:
        np.ndarray: indices into ``kpts_db`` of the kept instances, best
        first.

    Example:

    >>> import numpy as np
    >>> kpts = np.array([[10.0, 10.0, 1.0], [30.0, 30.0, 1.0]])
    >>> db = [dict(keypoints=kpts, score=0.9, area=400.0),
    ...       dict(keypoints=kpts + 0.5, score=0.8, area=400.0),
    ...       dict(keypoints=kpts + 50, score=0.7, area=400.0)]
    >>> oks_nms(db, 0.9, sigmas=[0.1, 0.1]).tolist()
    [0, 2]
    """
    if len(kpts_db) == 0:
        return _empty_keep()
    kpts, scores, areas = _kpts_db_arrays("oks_nms", kpts_db, score_per_joint)
    return oks_nms_arrays(kpts, scores, areas, thr, sigmas, vis_thr)


def soft_oks_nms_arrays(
    kpts, scores, areas, thr, max_dets=20, sigmas=None, vis_thr=None
):
    """:func:`soft_oks_nms` on stacked arrays (``kpts`` (N, K * 3))."""
    scores = np.asarray(scores)
    order = scores.argsort()[::-1]
    scores = scores[order]
    keep = []
    while len(order) > 0 and len(keep) < max_dets:
        best = order[0]
        ovr = oks_iou(
            kpts[best],
            kpts[order[1:]],
            areas[best],
            areas[order[1:]],
            sigmas,
            vis_thr,
        )
        order = order[1:]
        # Gaussian decay of the remaining scores (MMPose's ``_rescore``).
        scores = scores[1:] * np.exp(-(ovr**2) / _as_threshold(thr, ovr))
        resort = scores.argsort()[::-1]
        order = order[resort]
        scores = scores[resort]
        keep.append(best)
    return np.asarray(keep, np.intp)


def soft_oks_nms(
    kpts_db, thr, max_dets=20, sigmas=None, vis_thr=None, score_per_joint=False
):
    """Soft OKS NMS over the instances of one image.

    Instead of dropping overlapping instances, each step keeps the best
    remaining instance and decays the others' scores by
    ``exp(-oks^2 / thr)``, until ``max_dets`` are kept (so nothing is
    dropped below that count; the order changes).

    Args:
        kpts_db: list of dicts with ``keypoints`` (K, 3), ``score`` and
            ``area`` (see :func:`oks_nms`).
        thr: decay strength (the Gaussian's ``thr``).
        max_dets: maximum number of instances kept.
        sigmas: (K,) per-keypoint falloffs; COCO's 17 when None.
        vis_thr: see :func:`oks_nms`.
        score_per_joint: see :func:`oks_nms`.

    Returns:
        np.ndarray: indices into ``kpts_db`` of the kept instances, in the
        order they were kept.

    Example:

    >>> import numpy as np
    >>> kpts = np.array([[10.0, 10.0, 1.0], [30.0, 30.0, 1.0]])
    >>> db = [dict(keypoints=kpts, score=0.9, area=400.0),
    ...       dict(keypoints=kpts + 0.5, score=0.8, area=400.0),
    ...       dict(keypoints=kpts + 50, score=0.7, area=400.0)]
    >>> soft_oks_nms(db, 0.3, sigmas=[0.1, 0.1]).tolist()
    [0, 2, 1]
    """
    if len(kpts_db) == 0:
        return _empty_keep()
    kpts, scores, areas = _kpts_db_arrays(
        "soft_oks_nms", kpts_db, score_per_joint
    )
    return soft_oks_nms_arrays(
        kpts, scores, areas, thr, max_dets, sigmas, vis_thr
    )


def nearby_joints_nms_arrays(
    kpts, scores, dist_thr=0.05, num_nearby_joints_thr=None, max_dets=30
):
    """:func:`nearby_joints_nms` on stacked arrays.

    Args:
        kpts: (N, K, D) keypoints of the instances of one image.
        scores: (N,) instance scores.
        dist_thr: see :func:`nearby_joints_nms`.
        num_nearby_joints_thr: see :func:`nearby_joints_nms`.
        max_dets: see :func:`nearby_joints_nms`.

    Returns:
        np.ndarray: indices of the kept instances.
    """
    if not dist_thr > 0:
        raise ValueError(
            f"nearby_joints_nms expects dist_thr > 0. Received: {dist_thr!r}."
        )
    kpts = np.asarray(kpts)
    scores = np.asarray(scores)
    if len(kpts) == 0:
        return _empty_keep()
    if kpts.ndim != 3 or scores.shape != (len(kpts),):
        raise ValueError(
            "nearby_joints_nms expects keypoints of shape (N, K, D) and "
            f"scores of shape (N,). Received: {kpts.shape} and "
            f"{scores.shape}."
        )
    num_people, num_joints, _ = kpts.shape
    if num_nearby_joints_thr is None:
        num_nearby_joints_thr = num_joints // 2
    if not num_nearby_joints_thr < num_joints:
        raise ValueError(
            "nearby_joints_nms expects num_nearby_joints_thr below the "
            f"number of keypoints ({num_joints}). Received: "
            f"{num_nearby_joints_thr!r}."
        )
    # each instance's distance threshold: dist_thr x its box diagonal
    extent = kpts.max(axis=1) - kpts.min(axis=1)
    diagonal = np.sqrt(np.power(extent, 2).sum(axis=1))
    close_thr = diagonal.reshape(num_people, 1, 1) * _as_threshold(
        dist_thr, diagonal
    )
    dist = np.sqrt(np.power(kpts[:, None] - kpts, 2).sum(axis=3))
    close = (dist < close_thr).sum(axis=2) > num_nearby_joints_thr
    ignored, keep = set(), []
    for i in np.argsort(scores)[::-1]:
        if i in ignored:
            continue
        group = close[i].nonzero()[0]
        if len(group) == 0:  # a zero-size pose is not close to itself
            group = np.array([i])
        best = group[np.argmax(scores[group])]
        if best not in ignored:
            keep.append(best)
            ignored.update(group.tolist())
    if max_dets > 0 and len(keep) > max_dets:
        best_first = np.argsort(scores[keep])[-1 : -max_dets - 1 : -1]
        keep = [keep[i] for i in best_first]
    return np.asarray(keep, np.intp)


def nearby_joints_nms(
    kpts_db,
    dist_thr=0.05,
    num_nearby_joints_thr=None,
    score_per_joint=False,
    max_dets=30,
):
    """DEKR's pose NMS: drops instances sharing many nearby joints.

    Two instances are close when more than ``num_nearby_joints_thr`` of
    their joints are nearer than ``dist_thr`` times the first one's
    keypoint box diagonal. Visiting instances by decreasing score, the
    best-scored instance of each unvisited one's close group is kept and
    the whole group is dropped from further visits (MMPose's greedy rule,
    after DEKR's ``lib/core/nms.py``). At most ``max_dets`` instances are
    kept, the best-scored ones (then ordered by decreasing score).

    Args:
        kpts_db: list of dicts with ``keypoints`` (K, D) and ``score`` (the
            instance score, or (K,) per-keypoint scores with
            ``score_per_joint``).
        dist_thr: relative distance under which two joints are close;
            must be > 0.
        num_nearby_joints_thr: how many close joints make instances close;
            ``K // 2`` when None; must be below K.
        score_per_joint: the ``score`` entries are per-keypoint scores,
            averaged into the instance score.
        max_dets: maximum number of instances kept (<= 0: no limit).

    Returns:
        np.ndarray: indices into ``kpts_db`` of the kept instances (MMPose
        returns a list). An instance whose keypoints all coincide (zero
        diagonal) forms its own group where MMPose fails.

    Example:

    >>> import numpy as np
    >>> pose = np.array([[0.0, 0.0], [10.0, 0.0], [10.0, 10.0]])
    >>> db = [dict(keypoints=pose, score=0.9),
    ...       dict(keypoints=pose + 0.1, score=0.8),
    ...       dict(keypoints=pose + 30, score=0.7)]
    >>> nearby_joints_nms(db).tolist()
    [0, 2]
    """
    if not dist_thr > 0:
        raise ValueError(
            f"nearby_joints_nms expects dist_thr > 0. Received: {dist_thr!r}."
        )
    if len(kpts_db) == 0:
        return _empty_keep()
    for i, item in enumerate(kpts_db):
        if not hasattr(item, "keys") or not {"keypoints", "score"} <= set(
            item.keys()
        ):
            received = sorted(item) if hasattr(item, "keys") else type(item)
            raise ValueError(
                "nearby_joints_nms expects `kpts_db` as a list of dicts with "
                f"'keypoints' (K, D) and 'score'. Entry {i} has: {received}."
            )
    if score_per_joint:
        scores = np.array([np.asarray(k["score"]).mean() for k in kpts_db])
    else:
        scores = np.array([k["score"] for k in kpts_db])
    kpts = np.array([k["keypoints"] for k in kpts_db])
    return nearby_joints_nms_arrays(
        kpts, scores, dist_thr, num_nearby_joints_thr, max_dets
    )
