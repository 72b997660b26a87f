"""Development check: SAM2AutomaticMaskGenerator's records on one image, the references
`npm run conformance -- ... --amg-dir <refdir> --amg-image <image>` compares samlite's
`everything` with. One JSON per option set, at <refdir>/<model>/amg-<name>.json:
{"kwargs", "image_hw", "annotations"} with uncompressed RLE (column-major counts).

usage:
  python sam2_amg_reference.py --kit ../shared/conformance/sam2 --sam2-src <sam2 checkout> \
      --size small --weights <kit weights .pt> --image truck-450.png --refdir refs-amg \
      --model sam2.1-small --amg 'filters-open:{"points_per_side": 8, "pred_iou_thresh": 0, "stability_score_thresh": 0}'

--model may repeat (one reference serves both exports of a size); --amg repeats, one option
set each (SAM2AutomaticMaskGenerator's keyword arguments as JSON). Needs the kit's venv
(torch, numpy, pillow) and its sam2_shim (the upstream package without hydra). Not part of
`npm test`.
"""
import argparse
import json
import os
import sys
import time

import numpy as np
from PIL import Image

parser = argparse.ArgumentParser()
parser.add_argument("--kit", required=True, help="the SAM 2 conformance kit (has sam2_shim.py)")
parser.add_argument("--sam2-src", required=True, help="folder holding the upstream `sam2` package")
parser.add_argument("--size", required=True, help="tiny, small, base_plus or large")
parser.add_argument("--weights", required=True, help="the kit's seeded state dict")
parser.add_argument("--image", required=True)
parser.add_argument("--refdir", required=True)
parser.add_argument("--model", action="append", required=True, help="model folder name(s) to write under")
parser.add_argument("--amg", action="append", required=True, help="name:{json keyword arguments}")
args = parser.parse_args()

sys.path.insert(0, os.path.abspath(args.kit))
import sam2_shim  # noqa: E402  (the kit's, found through --kit)
import torch  # noqa: E402

sam2_shim.install(args.sam2_src)
from sam2.automatic_mask_generator import SAM2AutomaticMaskGenerator  # noqa: E402

torch.set_grad_enabled(False)
model = sam2_shim.build_sam2(args.size, state_dict_path=args.weights)
image = np.array(Image.open(args.image).convert("RGB"))
height, width = image.shape[:2]

for spec in args.amg:
    name, options = spec.split(":", 1)
    kwargs = json.loads(options)
    started = time.time()
    records = SAM2AutomaticMaskGenerator(model, output_mode="uncompressed_rle", **kwargs).generate(image)
    for record in records:
        # numpy integers are not JSON; the counts must stay exact.
        record["segmentation"]["counts"] = [int(c) for c in record["segmentation"]["counts"]]
    for folder in args.model:
        os.makedirs(os.path.join(args.refdir, folder), exist_ok=True)
        path = os.path.join(args.refdir, folder, f"amg-{name}.json")
        with open(path + ".tmp", "w") as f:
            json.dump({"kwargs": kwargs, "image_hw": [height, width], "annotations": records}, f, default=float)
        os.replace(path + ".tmp", path)
    print(f"{name}: {len(records)} masks in {time.time() - started:.0f} s", flush=True)
