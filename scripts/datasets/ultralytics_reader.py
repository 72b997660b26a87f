"""ultralytics' own label-reading code, loaded from an ultralytics source tree the user gives
(a clone, or the folder holding an installed `ultralytics` package) without importing the
package (which needs torch): the functions are taken out of its files by name and run as they
are. samlite ships none of that code.

The path a segmentation label takes in ultralytics, and what this module runs of it:
  verify_image_label (ultralytics/data/utils.py) splits each line and reads the numbers as
      float32 pairs; re-done here in two lines (the function also opens and checks the image);
  YOLODataset.update_labels_info (ultralytics/data/dataset.py) picks the resample count and
      calls resample_segments (ultralytics/utils/ops.py): run as they are;
  Instances.denormalize multiplies the points by the image size in float32: re-done here;
  polygons2masks -> polygon2mask (ultralytics/data/utils.py): int32 cast, cv2.fillPoly, then
      cv2.resize by the mask ratio: run as they are.
"""
import ast
import os
import re
from types import SimpleNamespace

import cv2
import numpy as np

# (file under the source root, class holding it or None, function name)
FUNCTIONS = [
    ("ultralytics/utils/ops.py", None, "resample_segments"),
    ("ultralytics/data/utils.py", None, "polygon2mask"),
    ("ultralytics/data/utils.py", None, "polygons2masks"),
    ("ultralytics/data/dataset.py", "YOLODataset", "update_labels_info"),
]


class _Instances:
    """Stands in for ultralytics.utils.instance.Instances: keeps the segments it is given."""

    def __init__(self, bboxes, segments=None, keypoints=None, bbox_format="xywh", normalized=True):
        self.segments = segments


def _function_node(path, owner, name):
    tree = ast.parse(open(path, encoding="utf-8").read(), filename=path)
    body = tree.body
    if owner is not None:
        classes = [n for n in body if isinstance(n, ast.ClassDef) and n.name == owner]
        if not classes:
            raise SystemExit(f"{path}: no class {owner}")
        body = classes[0].body
    for node in body:
        if isinstance(node, ast.FunctionDef) and node.name == name:
            node.decorator_list = []
            return node
    raise SystemExit(f"{path}: no function {name}" + (f" in class {owner}" if owner else ""))


def _version(root):
    init = os.path.join(root, "ultralytics", "__init__.py")
    if os.path.exists(init):
        found = re.search(r"__version__\s*=\s*[\"']([^\"']+)", open(init, encoding="utf-8").read())
        if found:
            return found.group(1)
    return "version unknown"


class UltralyticsReader:
    """The functions above, loaded from `root` (the folder that holds `ultralytics/`)."""

    def __init__(self, root):
        self.root = root
        self.version = _version(root)
        namespace = {"np": np, "cv2": cv2, "Instances": _Instances, "Dict": dict, "List": list, "Optional": None}
        for rel, owner, name in FUNCTIONS:
            path = os.path.join(root, rel)
            if not os.path.exists(path):
                raise SystemExit(f"{path} not found: give the folder that holds ultralytics/ (a clone, or site-packages)")
            node = _function_node(path, owner, name)
            # Annotations are not needed to run the code, and may name types not imported here.
            node.returns = None
            for arg in node.args.args + node.args.kwonlyargs:
                arg.annotation = None
            exec(compile(ast.Module(body=[node], type_ignores=[]), path, "exec"), namespace)
        self._ns = namespace
        # Releases before December 2024 keep only the index-spaced points; later ones add
        # them to the vertices. Told apart by what they do to a square.
        square = np.array([[0.1, 0.1], [0.7, 0.1], [0.7, 0.3], [0.1, 0.3]], np.float32)
        out = self.resample([square.copy()])[0]
        self.keeps_vertices = all(any(np.array_equal(v, p) for p in out) for v in square)

    def resample(self, segments):
        """update_labels_info's resampling of one image's segments (float32, normalised)."""
        label = {
            "bboxes": np.zeros((len(segments), 4), np.float32),
            "segments": list(segments),
            "keypoints": None,
            "bbox_format": "xywh",
            "normalized": True,
        }
        dataset = SimpleNamespace(use_obb=False)
        return self._ns["update_labels_info"](dataset, label)["instances"].segments

    def read_masks(self, label_path, h, w, mask_ratio=1):
        """One label file as ultralytics' segmentation training sees it: one mask per line,
        (h // mask_ratio) x (w // mask_ratio), in line order. None when ultralytics would take
        the file for box labels (no line longer than 6 fields)."""
        with open(label_path, encoding="utf-8") as f:
            lb = [x.split() for x in f.read().strip().splitlines() if len(x)]
        if not lb:
            return np.zeros((0, h // mask_ratio, w // mask_ratio), np.uint8)
        if not any(len(x) > 6 for x in lb):
            return None
        segments = [np.array(x[1:], dtype=np.float32).reshape(-1, 2) for x in lb]
        resampled = self.resample(segments)
        # Instances.denormalize(w, h), in place on the float32 array.
        resampled[..., 0] *= w
        resampled[..., 1] *= h
        return self._ns["polygons2masks"]((h, w), resampled, color=1, downsample_ratio=mask_ratio)


def downsampled(mask, mask_ratio):
    """A true mask as polygon2mask would hand it to training at `mask_ratio`: the same
    cv2.resize of the full-size fill (the reference for what the label gives)."""
    h, w = mask.shape
    return cv2.resize(mask, (w // mask_ratio, h // mask_ratio)) if mask_ratio != 1 else mask
