"""The Human3.6M dataset for 2D-to-3D pose lifting (MMPose's layout)."""

import os

import numpy as np

from keraspose.datasets.datasets.base_mocap_dataset import BaseMocapDataset
from keraspose.datasets.datasets.base_mocap_dataset import _join
from keraspose.datasets.datasets.base_mocap_dataset import check_int_arg
from keraspose.datasets.datasets.base_mocap_dataset import load_npy
from keraspose.registry import register


@register
class Human36mDataset(BaseMocapDataset):
    """Human3.6M (Ionescu et al., "Human3.6M: Large Scale Datasets and
    Predictive Methods for 3D Human Sensing in Natural Environments",
    TPAMI 2014) for 2D-to-3D lifting, MMPose's ``.npz`` annotations.

    Frame names such as ``S1_Directions_1.54138969_000001.jpg`` give the
    subject, action and camera; the frames of each (subject, action,
    camera) video, in file order and with videos sorted by that key, are
    cut into sequences of ``seq_len`` frames ``seq_step`` apart, as in
    MMPose 1.3.2:

    * ``pad_video_seq=False``: every full window of the video;
    * ``pad_video_seq=True``: one sequence per frame (its target), frames
      before the first / after the last repeat the first / last frame;
    * ``multiple_target > 0`` (``seq_len=1``): windows of
      ``multiple_target`` consecutive frames, ``multiple_target_step``
      apart, whose targets are all their frames.

    ``camera_param_file`` is MMPose's ``cameras.pkl``: a dict ``(subject,
    camera id) -> dict(R, T, c, f, k, p, w, h, name, id)``, read without
    running pickled code. ``keypoint_2d_src='detection'`` replaces the 2D
    keypoints by ``keypoint_2d_det_file`` (an (F, K, 3) ``.npy``);
    ``factor_file`` (an (F,) ``.npy``) adds each frame's projection
    ``factor`` (zeros without it, as in MMPose).

    Args:
        ann_file: the ``.npz`` annotation file (relative to ``data_root``).
        seq_len: frames per sample.
        seq_step: frame step inside a sequence.
        multiple_target: if > 0, targets are all frames of windows this
            long (needs ``seq_len=1``).
        multiple_target_step: step between those windows (0:
            ``multiple_target``).
        pad_video_seq: pad the videos so every frame is a target.
        causal: the target is the last frame (True) or the middle one.
        subset_frac: fraction of the sequences to keep, in (0, 1].
        keypoint_2d_src: ``"gt"``, ``"detection"`` or ``"pipeline"`` (the
            annotated 2D keypoints are kept for a pipeline to replace).
        keypoint_2d_det_file: 2D detections for ``"detection"``.
        factor_file: per-frame projection factors.
        camera_param_file: ``cameras.pkl``.
        **kwargs: see :class:`BaseMocapDataset`.

    Example:

    >>> Human36mDataset.METAINFO
    'h36m'
    """

    METAINFO = "h36m"
    SUPPORTED_keypoint_2d_src = ("gt", "detection", "pipeline")

    def __init__(
        self,
        ann_file="",
        seq_len=1,
        seq_step=1,
        multiple_target=0,
        multiple_target_step=0,
        pad_video_seq=False,
        causal=True,
        subset_frac=1.0,
        keypoint_2d_src="gt",
        keypoint_2d_det_file=None,
        factor_file=None,
        camera_param_file=None,
        **kwargs,
    ):
        name = type(self).__name__
        if keypoint_2d_src not in self.SUPPORTED_keypoint_2d_src:
            raise ValueError(
                f"{name} expects keypoint_2d_src in "
                f"{self.SUPPORTED_keypoint_2d_src}. Received: "
                f"keypoint_2d_src={keypoint_2d_src!r}"
            )
        if keypoint_2d_src == "detection" and not keypoint_2d_det_file:
            raise ValueError(
                f"{name}: keypoint_2d_src='detection' needs "
                "keypoint_2d_det_file (an (F, K, 3) .npy of 2D detections)."
            )
        check_int_arg(seq_step, "seq_step", 1, name)
        check_int_arg(multiple_target_step, "multiple_target_step", 0, name)
        if multiple_target and -(-multiple_target // seq_step) != (
            multiple_target
        ):
            raise ValueError(
                f"{name}: with multiple_target={multiple_target} the windows "
                f"of seq_step={seq_step} hold fewer than multiple_target "
                "frames; use seq_step=1."
            )
        data_root = kwargs.get("data_root")
        self.keypoint_2d_src = keypoint_2d_src
        self.keypoint_2d_det_file = _join(data_root, keypoint_2d_det_file)
        self.seq_step = seq_step
        self.pad_video_seq = bool(pad_video_seq)
        self.factor_file = _join(data_root, factor_file)
        if self.factor_file and not os.path.isfile(self.factor_file):
            raise FileNotFoundError(
                f"The factor file {self.factor_file!r} does not exist."
            )
        if multiple_target > 0 and multiple_target_step == 0:
            multiple_target_step = multiple_target
        self.multiple_target_step = multiple_target_step
        super().__init__(
            ann_file=ann_file,
            seq_len=seq_len,
            multiple_target=multiple_target,
            causal=causal,
            subset_frac=subset_frac,
            camera_param_file=camera_param_file,
            **kwargs,
        )
        self._config.update(
            seq_step=seq_step,
            multiple_target_step=self.multiple_target_step,
            pad_video_seq=self.pad_video_seq,
            keypoint_2d_src=keypoint_2d_src,
            keypoint_2d_det_file=keypoint_2d_det_file,
            factor_file=factor_file,
        )

    def _parse_name(self, imgname):
        try:
            return self._parse_h36m_imgname(imgname)
        except ValueError:
            raise ValueError(
                f"{self.ann_file}: field 'imgname' holds {imgname!r}, not a "
                "Human3.6M frame name '<subject>_<action>.<camera>_<frame>"
                ".jpg' (e.g. 'S1_Directions_1.54138969_000001.jpg')."
            ) from None

    @staticmethod
    def _parse_h36m_imgname(imgname):
        """``(subject, action, camera)`` of a Human3.6M frame name."""
        subj, rest = os.path.basename(str(imgname)).split("_", 1)
        action, rest = rest.split(".", 1)
        camera, _ = rest.split("_", 1)
        return subj, action, camera

    def _get_sequence_windows(self):
        videos = {}
        for idx, imgname in enumerate(self.ann_data["imgname"]):
            videos.setdefault(self._parse_name(imgname), []).append(idx)
        frames_of, starts_of = [], []
        step = self.seq_step
        span = (self.seq_len - 1) * step + 1
        for _, frames in sorted(videos.items()):
            n = len(frames)
            if self.multiple_target:
                mt, mts = self.multiple_target, self.multiple_target_step
                num = len(range(0, n, mts))
                keep = (n + mts - mt) // mts
                num = max(0, min(num, keep) if keep >= 0 else num + keep)
                starts = np.arange(num) * mts
                if num and starts[-1] + mt > n:
                    raise ValueError(
                        f"{type(self).__name__}: a video of {n} frames is "
                        f"shorter than multiple_target={mt} ({frames[0]} "
                        "is its first frame); MMPose fails on it too."
                    )
            elif self.pad_video_seq:
                left = (
                    self.seq_len - 1
                    if self.causal
                    else ((self.seq_len - 1) // 2)
                )
                starts = np.arange(n) - left * step
            else:
                starts = np.arange(max(0, n - span + 1))
            frames_of.append(frames)
            starts_of.append(starts)
        windows = self._windows_of_videos(frames_of, starts_of, step)
        return self._subset(windows)

    def _load_annotations(self):
        if "S" not in self.ann_data:
            raise ValueError(
                f"The annotation file {self.ann_file!r} has no 'S' array "
                "(3D keypoints, (F, K, 4)), which Human3.6M needs. Received "
                f"arrays: {sorted(self.ann_data)}"
            )
        super()._load_annotations()
        num = len(self.img_names)
        if self.keypoint_2d_src == "detection":
            det = np.asarray(
                load_npy(self.keypoint_2d_det_file, "2D detection file")
            )
            if det.ndim != 3 or det.shape[0] != num or det.shape[2] != 3:
                raise ValueError(
                    f"The 2D detection file {self.keypoint_2d_det_file!r} "
                    f"must hold (frames, keypoints, 3) = ({num}, K, 3) "
                    f"(x, y, score); received {det.shape}."
                )
            if det.shape[1] != self.num_keypoints:
                raise ValueError(
                    f"The 2D detection file {self.keypoint_2d_det_file!r} "
                    f"has {det.shape[1]} keypoints per frame; dataset "
                    f"{self.metainfo['dataset_name']!r} has "
                    f"{self.num_keypoints}."
                )
            self.keypoints_2d = det.astype(np.float32)
        if self.factor_file:
            factors = np.asarray(load_npy(self.factor_file, "factor file"))
            factors = factors.astype(np.float32)
            if factors.shape[:1] != (num,):
                raise ValueError(
                    f"The factor file {self.factor_file!r} must hold one "
                    f"factor per frame, ({num},); received {factors.shape}."
                )
        else:
            factors = np.zeros((num,), np.float32)
        self.factors = factors

    def get_camera_param(self, imgname):
        """Camera parameters of a frame by its image name."""
        subj, _, camera = self._parse_name(imgname)
        if (subj, camera) not in self.camera_param:
            raise ValueError(
                f"The camera parameter file {self.camera_param_file!r} has "
                f"no entry ({subj!r}, {camera!r}) for frame {imgname!r}."
            )
        return self.camera_param[(subj, camera)]
