"""FastSAM conformance references from current ultralytics (FastSAMPredictor on an ONNX file).

Runs ultralytics' FastSAMPredictor, through its AutoBackend (onnxruntime, CPU), on the ONNX file
samlite is tested with: everything mode at the case's imgsz, conf 0.4, iou 0.9, retina masks,
max_det 300; then FastSAMPredictor.prompt on that result for each box (alone) and each point set
of the kit's prompts.json. Writes OUT/<image stem>.npz in the format scripts/conformance/fastsam.ts
reads (see write_npz below). Checked with ultralytics 8.4.50 (source tree d3d3116), torch 2.13 CPU,
onnxruntime 1.30.

usage: fastsam_reference_ultralytics.py ULTRALYTICS_SRC MODEL.onnx IMAGE_DIR PROMPTS_JSON OUT_DIR
         --imgsz S [--only NAME ...] [--torchvision-stub DIR] [--overwrite] [--conf 0.4] [--iou 0.9]
  ULTRALYTICS_SRC: a checkout of ultralytics (the folder holding the `ultralytics` package); it is
    put first on sys.path, nothing is installed.
  Images: the names in PROMPTS_JSON that exist in IMAGE_DIR (or only the --only names), read by
    ultralytics itself from their paths (cv2).
  --torchvision-stub: a folder put on sys.path before `import torchvision` (the kit's tvstub in
    ../shared/conformance/fastsam, a pure-torch torchvision.ops.nms, whose missing package
    metadata is answered with its __version__). ultralytics will not import without torchvision;
    once imported, its NMS uses torchvision.ops.nms (recorded as "nms" in the npz). The kit's
    references were made with the stub.
  An existing OUT/<stem>.npz is left alone unless --overwrite; each file is written under a
  temporary name and linked/renamed into place, so a killed run leaves no partial file.
  One process holds every retina mask of an image as full-size uint8 (300 masks at 2 MP ~ 0.6 GB,
  plus transient float copies): run large images one per process.

npz arrays (n masks of an H x W image; B boxes, P point sets in PROMPTS_JSON):
  masks [n, H, ceil(W/8)] uint8 (np.packbits on the last axis), shape int64 [n, H, W],
  boxes [n, 6] float32 (x1 y1 x2 y2 conf cls, in image pixels, after FastSAM's border snapping),
  box_answers [B, H, W] bool, point_answers [P, H, W] bool (the union of the selected masks),
  box_selected [B, k] int32 / point_selected [P, k] int32 (selected mask indices, -1 padded),
  input [3, h, w] float32 (the tensor fed to the model), nms () str.
"""
import argparse
import json
import os
import resource
import sys
import time

ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
ap.add_argument('ultralytics_src')
ap.add_argument('model')
ap.add_argument('image_dir')
ap.add_argument('prompts')
ap.add_argument('out_dir')
ap.add_argument('--imgsz', type=int, required=True)
ap.add_argument('--only', nargs='*', default=None, help='image names to run (default: every image of PROMPTS_JSON in IMAGE_DIR)')
ap.add_argument('--torchvision-stub', default=None)
ap.add_argument('--overwrite', action='store_true')
ap.add_argument('--conf', type=float, default=0.4)
ap.add_argument('--iou', type=float, default=0.9)
ap.add_argument('--tag', default=None, help='label for the log lines (default: the name of OUT_DIR)')
args = ap.parse_args()

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ultralytics_source import use_ultralytics_source  # noqa: E402

use_ultralytics_source(args.ultralytics_src, args.torchvision_stub)

import numpy as np
import torch
import ultralytics
from ultralytics.models.fastsam import FastSAMPredictor

NMS = 'torchvision'  # imported above, so ultralytics.utils.nms takes torchvision.ops.nms


class Predictor(FastSAMPredictor):
    """FastSAMPredictor that keeps the last preprocessed input tensor."""

    last_input = None

    def preprocess(self, im):
        out = super().preprocess(im)
        self.last_input = out
        return out


def selection(predictor, result, n, h, w, **prompt):
    """Indices of the masks FastSAMPredictor.prompt selects for one prompt, and their union.

    The class column of result.boxes (always 0 for FastSAM) holds each row's index (set by the
    caller after saving the boxes), so the subset prompt() returns names its rows."""
    if n == 0:
        return [], np.zeros((h, w), bool)
    sub = predictor.prompt([result], **prompt)[0]
    picked = [int(v) for v in sub.boxes.data[:, 5].tolist()]
    union = sub.masks.data.bool().any(0).cpu().numpy() if len(sub) else np.zeros((h, w), bool)
    return picked, union


def padded(rows):
    width = max((len(r) for r in rows), default=0)
    out = np.full((len(rows), width), -1, np.int32)
    for i, r in enumerate(rows):
        out[i, :len(r)] = r
    return out


def write_npz(path, overwrite, **arrays):
    tmp = f'{path}.tmp-{os.getpid()}'
    with open(tmp, 'wb') as f:
        np.savez_compressed(f, **arrays)
    if overwrite:
        os.replace(tmp, path)
    else:
        try:
            os.link(tmp, path)  # fails if path appeared meanwhile: never overwrite
        finally:
            os.unlink(tmp)


prompts = json.load(open(args.prompts))
names = [k for k in prompts if os.path.exists(os.path.join(args.image_dir, k))]
if args.only is not None:
    missing = [k for k in args.only if k not in names]
    if missing:
        raise SystemExit(f'not in {args.prompts} or not in {args.image_dir}: {missing}')
    names = [k for k in names if k in args.only]
tag = args.tag or os.path.basename(os.path.normpath(args.out_dir))
os.makedirs(args.out_dir, exist_ok=True)
print(f'ultralytics {ultralytics.__version__}, {args.model}, imgsz {args.imgsz}, conf {args.conf}, iou {args.iou}', flush=True)

predictor = Predictor(overrides=dict(task='segment', mode='predict', model=args.model, imgsz=args.imgsz, conf=args.conf,
                                     iou=args.iou, retina_masks=True, max_det=300, device='cpu', save=False,
                                     verbose=False, batch=1, rect=True))  # rect: Model.predict's default
predictor.setup_model(args.model)
if not getattr(predictor.model, 'dynamic', False) and list(predictor.args.imgsz) not in ([args.imgsz, args.imgsz], [args.imgsz]):
    raise SystemExit(f'{args.model} is static at {predictor.model.imgsz}, not imgsz {args.imgsz}')

for name in names:
    stem = os.path.splitext(name)[0]
    out = os.path.join(args.out_dir, stem + '.npz')
    if os.path.exists(out) and not args.overwrite:
        print(f'{tag} {name}: {out} exists, left alone', flush=True)
        continue
    t0 = time.time()
    r = predictor(source=os.path.join(args.image_dir, name))[0]
    h, w = r.orig_shape
    n = len(r)
    im = predictor.last_input[0].cpu().numpy().astype(np.float32)
    boxes = r.boxes.data.cpu().numpy().astype(np.float32).copy() if n else np.zeros((0, 6), np.float32)
    masks = r.masks.data.bool().cpu().numpy() if n else np.zeros((0, h, w), bool)

    pr = prompts[name]
    box_sel, box_ans, pt_sel, pt_ans = [], [], [], []
    with torch.inference_mode():  # the result's tensors are inference tensors
        if n:
            r.boxes.data[:, 5] = torch.arange(n, dtype=r.boxes.data.dtype)
        for b in pr['boxes']:
            s, a = selection(predictor, r, n, h, w, bboxes=[b])
            box_sel.append(s); box_ans.append(a)
        for pts, lab in zip(pr['points'], pr['labels']):
            s, a = selection(predictor, r, n, h, w, points=pts, labels=lab)
            pt_sel.append(s); pt_ans.append(a)

    write_npz(out, args.overwrite,
              masks=np.packbits(masks, axis=-1), shape=np.array(masks.shape, np.int64), boxes=boxes,
              box_answers=np.array(box_ans, bool).reshape(len(box_ans), h, w),
              point_answers=np.array(pt_ans, bool).reshape(len(pt_ans), h, w),
              box_selected=padded(box_sel), point_selected=padded(pt_sel), input=im, nms=np.array(NMS))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 ** 2
    print(f'{tag} {name}: input {tuple(im.shape[1:])}, {n} masks, prompts selected {box_sel + pt_sel} '
          f'({time.time() - t0:.1f} s, peak RSS {peak:.2f} GB so far)', flush=True)
    del r, masks, box_ans, pt_ans
