"""A procedural top-down dataset: drawn figures with known keypoints."""

import colorsys

import numpy as np

from keraspose.registry import register


@register
class SyntheticPoseDataset:
    """Stick figures with K coloured joints, for runs with no download.

    Each sample is a person crop already warped to the model input size: a
    random tree-shaped figure (joint ``i`` hangs from joint ``(i - 1) // 2``)
    drawn over a noisy gradient background. Joint ``i`` is a disc of its own
    colour, so flipping the image does not swap identities
    (``flip_indices`` is the identity). Occluded joints are not drawn and
    are labelled invisible. Every crop also gets a random ``input_center``
    and ``input_scale`` in a virtual original image, so back-projection is
    exercised like on real data.

    Images are uint8 in BGR order (like OpenCV / MMPose's pipeline).

    Args:
        num_samples: number of samples.
        num_keypoints: K.
        input_size: crop size (w, h).
        seed: random seed; the same seed gives the same samples.
        occlusion_prob: probability that a joint is hidden.

    Example:

    >>> ds = SyntheticPoseDataset(num_samples=4, num_keypoints=5,
    ...                           input_size=(48, 64))
    >>> data = ds.generate()
    >>> data["images"].shape, data["keypoints"].shape
    ((4, 64, 48, 3), (4, 5, 2))
    """

    def __init__(
        self,
        num_samples=256,
        num_keypoints=17,
        input_size=(192, 256),
        seed=0,
        occlusion_prob=0.1,
    ):
        if num_keypoints < 1 or num_samples < 1:
            raise ValueError(
                "Expected num_keypoints >= 1 and num_samples >= 1. Received: "
                f"num_keypoints={num_keypoints}, num_samples={num_samples}"
            )
        self.num_samples = int(num_samples)
        self.num_keypoints = int(num_keypoints)
        self.input_size = tuple(int(v) for v in input_size)
        self.seed = int(seed)
        self.occlusion_prob = float(occlusion_prob)
        self._cache = None

    @property
    def metainfo(self):
        k = self.num_keypoints
        colors = [
            [int(255 * c) for c in colorsys.hsv_to_rgb(i / k, 0.9, 1.0)]
            for i in range(k)
        ]
        return {
            "dataset_name": "synthetic",
            "num_keypoints": k,
            "keypoint_names": [f"joint_{i}" for i in range(k)],
            "flip_indices": list(range(k)),
            "skeleton_links": [[i, (i - 1) // 2] for i in range(1, k)],
            "keypoint_colors": colors,
            "sigmas": [0.05] * k,
        }

    def dataset_info(self):
        """The metainfo in MMPose's ``dataset_info`` file format (for
        ``CocoDataset(metainfo=dict(from_file=...))``)."""
        meta = self.metainfo
        names = meta["keypoint_names"]
        return {
            "dataset_name": meta["dataset_name"],
            "paper_info": {},
            "keypoint_info": {
                str(i): {
                    "name": name,
                    "id": i,
                    "color": meta["keypoint_colors"][i],
                    "type": "upper" if i < 3 else "lower",
                    "swap": "",
                }
                for i, name in enumerate(names)
            },
            "skeleton_info": {
                str(j): {
                    "link": [names[a], names[b]],
                    "id": j,
                    "color": meta["keypoint_colors"][a],
                }
                for j, (a, b) in enumerate(meta["skeleton_links"])
            },
            "joint_weights": [1.0] * self.num_keypoints,
            "sigmas": meta["sigmas"],
        }

    def export_coco(self, directory, name="train"):
        """Writes the samples as a COCO-style keypoint dataset folder.

        Creates ``{directory}/{name}/{i:06d}.png`` (each crop is a whole
        image holding one figure), ``{directory}/{name}.json`` (COCO
        keypoint annotations: box around the visible joints, padded 15%,
        ``area`` = box area, ``num_keypoints``) and
        ``{directory}/metainfo.json`` (:meth:`dataset_info`). Needs
        TensorFlow (PNG encoding).

        Args:
            directory: output folder (created).
            name: split name (image folder and json stem).

        Returns:
            Path of the annotation file.
        """
        import json
        import os

        from keraspose.utils.lazy_import import tf

        data = self.generate()
        w, h = self.input_size
        os.makedirs(os.path.join(directory, name), exist_ok=True)
        images, annotations = [], []
        for i in range(self.num_samples):
            file_name = f"{name}/{i:06d}.png"
            png = tf.io.encode_png(data["images"][i][..., ::-1])  # BGR->RGB
            tf.io.write_file(os.path.join(directory, file_name), png)
            vis = data["keypoints_visible"][i] > 0
            pts = data["keypoints"][i]
            lo, hi = pts[vis].min(0), pts[vis].max(0)
            pad = 0.15 * (hi - lo) + 2.0
            lo = np.maximum(lo - pad, 0.0)
            hi = np.minimum(hi + pad, [w - 1.0, h - 1.0])
            kpts = np.concatenate(
                [pts, np.where(vis, 2.0, 0.0)[:, None]], axis=1
            )
            kpts[~vis, :2] = 0.0
            box = [float(lo[0]), float(lo[1])]
            box += [float(hi[0] - lo[0]), float(hi[1] - lo[1])]
            images.append(
                dict(id=i + 1, file_name=file_name, width=w, height=h)
            )
            annotations.append(
                dict(
                    id=i + 1,
                    image_id=i + 1,
                    category_id=1,
                    bbox=box,
                    area=box[2] * box[3],
                    iscrowd=0,
                    num_keypoints=int(vis.sum()),
                    keypoints=[round(float(v), 3) for v in kpts.ravel()],
                )
            )
        coco = dict(
            images=images,
            annotations=annotations,
            categories=[
                dict(
                    id=1,
                    name="person",
                    keypoints=self.metainfo["keypoint_names"],
                    skeleton=[
                        [a + 1, b + 1]
                        for a, b in self.metainfo["skeleton_links"]
                    ],
                )
            ],
        )
        ann_file = os.path.join(directory, f"{name}.json")
        with open(ann_file, "w") as f:
            json.dump(coco, f)
        with open(os.path.join(directory, "metainfo.json"), "w") as f:
            json.dump(self.dataset_info(), f, indent=1)
        return ann_file

    def __len__(self):
        return self.num_samples

    def generate(self):
        """Returns a dict of NumPy arrays for all samples.

        Keys: ``images`` (N, H, W, 3) uint8 BGR, ``keypoints`` (N, K, 2) in
        crop pixels, ``keypoints_visible`` (N, K), ``input_center`` and
        ``input_scale`` (N, 2), ``keypoints_original`` (N, K, 2) in the
        virtual original image.
        """
        if self._cache is not None:
            return self._cache
        rng = np.random.default_rng(self.seed)
        w, h = self.input_size
        k = self.num_keypoints
        n = self.num_samples
        colors = np.asarray(self.metainfo["keypoint_colors"], np.float32)[
            :, ::-1
        ]  # RGB -> BGR
        images = np.empty((n, h, w, 3), np.uint8)
        keypoints = np.empty((n, k, 2), np.float32)
        visible = np.empty((n, k), np.float32)
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        size = min(w, h)
        radius = max(2.0, 0.035 * size)
        for s in range(n):
            pts = np.empty((k, 2), np.float32)
            pts[0] = [w * rng.uniform(0.35, 0.65), h * rng.uniform(0.3, 0.6)]
            for i in range(1, k):
                parent = pts[(i - 1) // 2]
                angle = rng.uniform(0, 2 * np.pi)
                length = size * rng.uniform(0.12, 0.3)
                p = parent + length * np.array([np.cos(angle), np.sin(angle)])
                pts[i] = np.clip(p, [0.06 * w, 0.06 * h], [0.94 * w, 0.94 * h])
            vis = (rng.uniform(size=k) >= self.occlusion_prob).astype(
                np.float32
            )
            base = rng.uniform(40, 200, size=3).astype(np.float32)
            grad = rng.uniform(-40, 40, size=3).astype(np.float32)
            img = (
                base
                + grad * (xx / w)[..., None]
                + rng.normal(0, 12, size=(h, w, 3)).astype(np.float32)
            )
            for i in range(1, k):
                a, b = pts[(i - 1) // 2], pts[i]
                ab = b - a
                t = ((xx - a[0]) * ab[0] + (yy - a[1]) * ab[1]) / max(
                    float(ab @ ab), 1e-6
                )
                t = np.clip(t, 0, 1)
                d = np.hypot(xx - a[0] - t * ab[0], yy - a[1] - t * ab[1])
                img[d < max(1.0, radius * 0.35)] = 90.0
            for i in range(k):
                if vis[i]:
                    d = np.hypot(xx - pts[i, 0], yy - pts[i, 1])
                    img[d <= radius] = colors[i]
            images[s] = np.clip(img, 0, 255).astype(np.uint8)
            keypoints[s] = pts
            visible[s] = vis
        scale = rng.uniform(100, 400, size=(n, 1)).astype(np.float32)
        input_scale = np.concatenate([scale * w / h, scale], axis=1)
        input_center = rng.uniform(200, 600, size=(n, 2)).astype(np.float32)
        size_wh = np.array([w, h], np.float32)
        original = (
            keypoints / size_wh * input_scale[:, None]
            + input_center[:, None]
            - 0.5 * input_scale[:, None]
        )
        self._cache = {
            "images": images,
            "keypoints": keypoints,
            "keypoints_visible": visible,
            "input_center": input_center,
            "input_scale": input_scale.astype(np.float32),
            "keypoints_original": original.astype(np.float32),
        }
        return self._cache

    def as_fit_data(self, codec):
        """Returns ``(x, y)`` for ``model.fit`` with the codec's targets."""
        data = self.generate()
        x = {
            "images": data["images"],
            "input_center": data["input_center"],
            "input_scale": data["input_scale"],
        }
        y = codec.batch_encode(data["keypoints"], data["keypoints_visible"])
        return x, y

    def get_config(self):
        return {
            "num_samples": self.num_samples,
            "num_keypoints": self.num_keypoints,
            "input_size": self.input_size,
            "seed": self.seed,
            "occlusion_prob": self.occlusion_prob,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**config)
