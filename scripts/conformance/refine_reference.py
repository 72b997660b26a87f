"""Development check: samlite's iterative refinement against SamPredictor's, on the MobileSAM
graph rebuilt by the conformance kit (../shared/conformance; random weights, real graph).

SamPredictor's refinement: each new click is predicted with every click so far and the
previous answer's low-resolution logits as mask_input (the chosen mask's logits: after one
click the best of the three multimask outputs; after that the single-mask output).
samlite replays the same clicks as a prompt set's `steps`; the masks must agree.

usage: python refine_reference.py <kit dir> <models dir (build_models.py --out)> <image> <samlite checkout>
Needs the kit's venv (torch, numpy, pillow). Not part of `npm test`.
"""
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
from PIL import Image

kit, models, image_path, samlite = sys.argv[1:5]
sys.path.insert(0, kit)
from reference import sam_predictor  # noqa: E402  (the kit's own SamPredictor loader)

CLICK1, CLICK2, NEG = [500, 375], [1125, 625], [575, 750]

img = np.array(Image.open(image_path).convert("RGB"))
pred = sam_predictor("mobilesam", os.path.join(models, "mobilesam", "state_dict.pt"))
pred.set_image(img)

# Step 1: one click, the best of the three candidates and its low-res logits.
m1, s1, l1 = pred.predict(point_coords=np.array([CLICK1], np.float32), point_labels=np.array([1]), multimask_output=True)
best = int(np.argmax(s1))
# Step 2: both clicks, refining step 1's mask.
m2, _, l2 = pred.predict(point_coords=np.array([CLICK1, CLICK2], np.float32), point_labels=np.array([1, 1]),
                         mask_input=l1[best][None], multimask_output=False)
# Step 3: a background click, refining step 2's mask.
m3, _, _ = pred.predict(point_coords=np.array([CLICK1, CLICK2, NEG], np.float32), point_labels=np.array([1, 1, 0]),
                        mask_input=l2[0][None], multimask_output=False)
# The same clicks without the mask input: what refinement changes.
plain2, _, _ = pred.predict(point_coords=np.array([CLICK1, CLICK2], np.float32), point_labels=np.array([1, 1]), multimask_output=False)
plain3, _, _ = pred.predict(point_coords=np.array([CLICK1, CLICK2, NEG], np.float32), point_labels=np.array([1, 1, 0]), multimask_output=False)

with tempfile.TemporaryDirectory() as tmp:
    prompts = os.path.join(tmp, "prompts.json")
    with open(prompts, "w") as f:
        json.dump([{"steps": [{"points": [CLICK1]}, {"points": [CLICK2]}]},
                   {"steps": [{"points": [CLICK1]}, {"points": [CLICK2]}, {"neg_points": [NEG]}]}], f)
    out = os.path.join(tmp, "out")
    subprocess.run(["node", os.path.join(samlite, "bin", "samlite"), "segment", image_path, "--prompts", prompts,
                    "--model", os.path.join(models, "mobilesam", "manifest.json"), "--format", "mask",
                    "--out", out, "--no-cache", "--quiet"], check=True, stdout=subprocess.DEVNULL)
    stem = os.path.splitext(os.path.basename(image_path))[0]
    got = [np.array(Image.open(os.path.join(out, f"{stem}.{i}.mask.png"))) > 127 for i in (0, 1)]


def iou(a, b):
    union = np.logical_or(a, b).sum()
    return float(np.logical_and(a, b).sum() / union) if union else 1.0


report = {
    "step2_iou_vs_sampredictor_refined": iou(got[0], m2[0]),
    "step2_iou_vs_sampredictor_without_mask_input": iou(got[0], plain2[0]),
    "step3_iou_vs_sampredictor_refined": iou(got[1], m3[0]),
    "step3_iou_vs_sampredictor_without_mask_input": iou(got[1], plain3[0]),
    "sampredictor_refined_vs_plain_step3": iou(m3[0], plain3[0]),
    "areas": {"samlite_step3": int(got[1].sum()), "refined_step3": int(m3[0].sum()), "plain_step3": int(plain3[0].sum())},
}
print(json.dumps(report, indent=1))
