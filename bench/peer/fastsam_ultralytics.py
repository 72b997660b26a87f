"""The ultralytics-on-ONNX peer of `npm run bench`'s FastSAM floor table: one cold run.

What a user of ultralytics runs, on the same ONNX file samlite opens: FastSAM(MODEL) (its
AutoBackend loads the file into onnxruntime, CPU), then predict on the image path with retina
masks at imgsz, conf 0.4, iou 0.9; for `click`, the same predict with one foreground point
(FastSAMPredictor.prompt selects the masks that hold it). Timed from the model's creation to
the result, after the imports; prints one JSON line {"ms": ..., "masks": ...}.

usage: fastsam_ultralytics.py ULTRALYTICS_SRC MODEL.onnx IMAGE IMGSZ everything|click X Y
         [--torchvision-stub DIR]
  ULTRALYTICS_SRC: a checkout of ultralytics (the folder holding the `ultralytics` package),
    put first on sys.path; nothing is installed. Checked with ultralytics 8.4.50.
  --torchvision-stub: a folder put on sys.path before `import torchvision` (the FastSAM kit's
    tvstub, a pure-torch torchvision.ops.nms): ultralytics will not import without torchvision.
"""
import argparse
import json
import os
import sys
import time

ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
ap.add_argument('ultralytics_src')
ap.add_argument('model')
ap.add_argument('image')
ap.add_argument('imgsz', type=int)
ap.add_argument('task', choices=['everything', 'click'])
ap.add_argument('x', type=float)
ap.add_argument('y', type=float)
ap.add_argument('--torchvision-stub', default=None)
args = ap.parse_args()

# The kit's way of importing ultralytics from source, shared with the conformance reference.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'scripts', 'conformance'))
from ultralytics_source import use_ultralytics_source  # noqa: E402

use_ultralytics_source(args.ultralytics_src, args.torchvision_stub)

from ultralytics import FastSAM  # noqa: E402  (after the path and the stub)

settings = dict(retina_masks=True, imgsz=args.imgsz, conf=0.4, iou=0.9, device='cpu', verbose=False, save=False)
prompt = dict(points=[[args.x, args.y]], labels=[1]) if args.task == 'click' else {}
t0 = time.perf_counter()
model = FastSAM(args.model)
result = model.predict(args.image, **settings, **prompt)[0]
ms = (time.perf_counter() - t0) * 1000
print(json.dumps({'ms': round(ms, 1), 'masks': len(result)}), flush=True)
