"""Round trips of samlite's dataset files through the tools that read them (pycocotools,
OpenCV as ultralytics rasterises labels, PIL as labelme does, shapely). Called by
scripts/check-datasets.ts with the run folder as its argument, and `--ultralytics DIR` for
each ultralytics source tree whose own label-reading code should read the YOLO-seg labels
(ultralytics_reader.py); prints one line per check, PASS or FAIL, and exits 1 when any
check fails."""
import glob
import json
import os
import sys

import cv2
import numpy as np
import yaml
from PIL import Image, ImageDraw, ImageOps
from pycocotools import mask as mask_utils
from pycocotools.coco import COCO

from ultralytics_reader import UltralyticsReader, downsampled

root = sys.argv[1]
ULTRALYTICS = [sys.argv[i + 1] for i, a in enumerate(sys.argv) if a == "--ultralytics" and i + 1 < len(sys.argv)]
results = []


def check(name, ok, detail):
    results.append(ok)
    print(f"{'PASS' if ok else 'FAIL'}  {name}: {detail}", flush=True)


def parts(out):
    """samlite's own record of every mask it wrote: file name -> [(annotation, mask)]."""
    found = {}
    for path in sorted(glob.glob(os.path.join(out, "samlite-parts", "**", "*.part.json"), recursive=True)):
        part = json.load(open(path))
        rles = [dict(a["segmentation"], counts=a["segmentation"]["counts"].encode()) for a in part["annotations"]]
        found[part["image"]["file_name"]] = [(a, mask_utils.decode(r)) for a, r in zip(part["annotations"], rles)]
    return found


def iou(a, b):
    union = np.logical_or(a, b).sum()
    return 1.0 if union == 0 else np.logical_and(a, b).sum() / union


def centre_fill(rings, h, w):
    """Even-odd fill sampled at pixel centres (x + 0.5, y + 0.5), samlite's and COCO's
    convention: the exact inverse of the outlines at tolerance 0."""
    ys, xs = np.mgrid[0:h, 0:w] + 0.5
    inside = np.zeros((h, w), bool)
    for ring in rings:
        pts = np.asarray(ring, float)
        a, b = pts, np.roll(pts, -1, axis=0)
        for (ax, ay), (bx, by) in zip(a, b):
            if ay == by:
                continue
            crosses = (ay <= ys) != (by <= ys)
            x_at = ax + (ys - ay) * (bx - ax) / (by - ay)
            inside ^= crosses & (xs < x_at)
    return inside.astype(np.uint8)


def inclusive_fill(rings, h, w):
    """Pixel centres inside (even-odd) or exactly on the outline: the convention of
    samlite's labelme and YOLO-seg outlines, which run through boundary pixel centres."""
    inside = centre_fill(rings, h, w).astype(bool)
    ys, xs = np.mgrid[0:h, 0:w] + 0.5
    for ring in rings:
        pts = np.asarray(ring, float)
        for (ax, ay), (bx, by) in zip(pts, np.roll(pts, -1, axis=0)):
            cross = (bx - ax) * (ys - ay) - (by - ay) * (xs - ax)
            within = (np.minimum(ax, bx) <= xs) & (xs <= np.maximum(ax, bx)) & (np.minimum(ay, by) <= ys) & (ys <= np.maximum(ay, by))
            inside |= (np.abs(cross) < 1e-9) & within
    return inside.astype(np.uint8)


def ultralytics_fill(line_xy, h, w):
    """A label line as ultralytics rasterises it (polygon2mask in ultralytics/data/utils.py):
    coordinates read as float32, multiplied back by the image size, cast to int32
    (truncation), cv2.fillPoly, which fills boundary pixels too."""
    pts = np.array(line_xy, dtype=np.float32).reshape(-1, 2)
    pts[:, 0] *= w
    pts[:, 1] *= h
    canvas = np.zeros((h, w), np.uint8)
    cv2.fillPoly(canvas, [pts.astype(np.int32)], 1)
    return canvas


def labelme_fill(shapes, h, w):
    """labelme's shape_to_mask for each shape, OR-ed: PIL polygon(points, outline=1, fill=1)
    on the points as written (PIL truncates them to pixels)."""
    canvas = Image.new("L", (w, h), 0)
    draw = ImageDraw.Draw(canvas)
    for shape in shapes:
        draw.polygon([tuple(p) for p in shape["points"]], outline=1, fill=1)
    return np.array(canvas)


def written(masks):
    return [(a, m) for a, m in masks if m.sum() > 0]


def check_coco(label, out, exact, detections=None):
    import contextlib, io
    with contextlib.redirect_stdout(io.StringIO()):
        coco = COCO(os.path.join(out, "coco.json"))
    samlite = parts(out)
    anns = coco.loadAnns(coco.getAnnIds())
    ann_ids = [a["id"] for a in anns]
    img_ids = coco.getImgIds()
    check(f"{label}: loads with pycocotools COCO()", True, f"{len(img_ids)} images, {len(anns)} annotations, {len(coco.getCatIds())} categories")
    check(f"{label}: ids unique", len(set(ann_ids)) == len(ann_ids) and len(set(img_ids)) == len(img_ids), "annotation and image ids")
    mismatches, area_bad, bbox_bad, min_iou, count = 0, 0, 0, 1.0, 0
    for img in coco.loadImgs(img_ids):
        expected = written(samlite[img["file_name"]])
        got = coco.loadAnns(coco.getAnnIds(imgIds=[img["id"]]))
        if len(expected) != len(got):
            mismatches += 1
            continue
        for ann, (part_ann, mask) in zip(got, expected):
            count += 1
            decoded = coco.annToMask(ann)
            if exact and not np.array_equal(decoded, mask):
                mismatches += 1
            min_iou = min(min_iou, iou(decoded, mask))
            if ann["area"] != int(mask.sum()):
                area_bad += 1
            rle = mask_utils.encode(np.asfortranarray(mask))
            if [int(v) for v in mask_utils.toBbox(rle)] != ann["bbox"]:
                bbox_bad += 1
    how = "decodes exactly to" if exact else f"decodes (min IoU {min_iou:.4f}) to"
    check(f"{label}: every annotation {how} the mask samlite wrote", mismatches == 0 and (exact or min_iou >= 0.9), f"{count} masks, {mismatches} mismatched")
    check(f"{label}: area and bbox agree with the mask", area_bad == 0 and bbox_bad == 0, f"{area_bad} areas and {bbox_bad} boxes differ")
    if detections is not None:
        cats = {c["id"]: c["name"] for c in detections["categories"]}
        by_id = {d["id"]: d for d in detections["annotations"]}
        wrong = [a["id"] for a in anns if by_id[a["detection_id"]]["category_id"] != a["category_id"]]
        same_cats = {c["id"]: c["name"] for c in coco.loadCats(coco.getCatIds())} == cats
        check(f"{label}: categories carried from the detection file", same_cats and not wrong, f"{len(cats)} categories, {len(wrong)} annotations with another category")


def check_yolo(label, out, exact=True):
    data = yaml.safe_load(open(os.path.join(out, "data.yaml")))
    names = data["names"]
    samlite = parts(out)
    check(f"{label}: data.yaml loads", os.path.isdir(os.path.join(data["path"], data["train"])), f"names {names}, path {data['path']}")
    worst, lines_bad, missing, inexact, multi, count, differing = 1.0, 0, 0, 0, 0, 0, 0
    for file_name, masks in samlite.items():
        stem = os.path.splitext(file_name)[0]
        image = os.path.join(out, "images", file_name)
        if not os.path.exists(image):
            missing += 1
        h, w = masks[0][1].shape if masks else (0, 0)
        lines = open(os.path.join(out, "labels", stem + ".txt")).read().split("\n")
        lines = [l for l in lines if l]
        expected = written(masks)
        if len(lines) != len(expected):
            lines_bad += 1
            continue
        for line, (_, mask) in zip(lines, expected):
            cls, *xy = line.split()
            if int(cls) not in names:
                lines_bad += 1
            count += 1
            # Six decimals put a vertex within 5e-7 * size of the pixel centre it stands for.
            pts = np.round(np.array(xy, dtype=float).reshape(-1, 2) * [w, h] * 2) / 2
            # Separate parts joined by bridges: the bridges' own pixels are painted.
            n_parts = cv2.connectedComponents(mask, connectivity=4)[0] - 1
            if n_parts > 1:
                multi += 1
            elif exact and not np.array_equal(inclusive_fill([pts], h, w), mask):
                inexact += 1
            filled = ultralytics_fill(xy, h, w)
            differing += int((filled != mask).sum())
            worst = min(worst, iou(filled, mask))
    check(f"{label}: one label line per mask, valid classes, every image under images/", lines_bad == 0 and missing == 0, f"{lines_bad} bad label files, {missing} images missing")
    if exact:
        check(f"{label}: each one-part mask's line, pixel centres inside or on it, is exactly the mask", inexact == 0, f"{inexact} of {count - multi} lines differ ({multi} masks of several parts left to the next check)")
    # Exact but for the pixels a bridge between two separate parts paints.
    check(f"{label}: as ultralytics fills them (float32, x*w, int32, cv2.fillPoly), the masks", worst >= 0.99, f"min IoU {worst:.4f}, {differing} pixels differ over {count} masks")
    # Older ultralytics keeps only the 1000 resampled points: every line of up to 999
    # vertices must have a divisor of 999 vertices for all of them to be among those.
    counts = [len(l.split()) // 2 for m in samlite for l in open(os.path.join(out, "labels", os.path.splitext(m)[0] + ".txt")).read().split("\n") if l]
    bad_counts = [c for c in counts if c <= 999 and 999 % c != 0]
    check(f"{label}: every line of up to 999 vertices has a divisor of 999 vertices", not bad_counts, f"{len(counts)} lines, {sum(c > 999 for c in counts)} past 999 vertices, counts off: {bad_counts[:5]}")


def check_labelme(label, out):
    samlite = parts(out)
    worst, bad, inexact, differing = 1.0, 0, 0, 0
    for file_name, masks in samlite.items():
        doc = json.load(open(os.path.join(out, os.path.splitext(file_name)[0] + ".json")))
        image_path = os.path.join(out, os.path.dirname(file_name), doc["imagePath"])
        # labelme shows images EXIF-rotated, as samlite reads them.
        if not os.path.exists(image_path) or ImageOps.exif_transpose(Image.open(image_path)).size != (doc["imageWidth"], doc["imageHeight"]):
            bad += 1
        h, w = doc["imageHeight"], doc["imageWidth"]
        for k, (_, mask) in enumerate(written(masks)):
            shapes = [s for s in doc["shapes"] if s["group_id"] == k + 1]
            exact = np.zeros((h, w), np.uint8)
            for shape in shapes:
                exact |= inclusive_fill([shape["points"]], h, w)
            if not np.array_equal(exact, mask):
                inexact += 1
            filled = labelme_fill(shapes, h, w)
            differing += int((filled != mask).sum())
            worst = min(worst, iou(filled, mask))
    check(f"{label}: each file's image is found at imagePath, its size as written", bad == 0, f"{bad} files whose image is missing or another size")
    check(f"{label}: each mask's shapes, pixel centres inside or on them, are exactly it", inexact == 0, f"{inexact} masks differ")
    check(f"{label}: as labelme fills them (shape_to_mask: PIL, with outline), the masks", worst >= 0.99, f"min IoU {worst:.4f}, {differing} pixels differ")


def check_labelstudio(label, out):
    tasks = json.load(open(os.path.join(out, "labelstudio.json")))
    samlite = parts(out)
    ids = [r["id"] for t in tasks for p in t["predictions"] for r in p["result"]]
    worst = 1.0
    for task in tasks:
        name = task["data"]["image"].split("?d=", 1)[1]
        results = task["predictions"][0]["result"]
        # Result ids are m<n> for mask n, m<n>-<k> for its further parts.
        mask_ids = list(dict.fromkeys(r["id"].split("-")[0] for r in results))
        for mask_id, (_, mask) in zip(mask_ids, written(samlite[name])):
            h, w = mask.shape
            canvas = np.zeros((h, w), np.uint8)
            for r in results:
                if r["id"].split("-")[0] == mask_id:
                    canvas |= centre_fill([np.array(r["value"]["points"]) / 100 * [w, h]], h, w)
            worst = min(worst, iou(canvas, mask))
    # Points are rounded to 1e-4 percent, so a vertex may move by a hundredth of a pixel.
    check(f"{label}: unique result ids; each mask's polygons fill (even-odd, pixel centres) back to it", len(set(ids)) == len(ids) and worst >= 0.999, f"{len(tasks)} tasks, {len(ids)} results, min IoU {worst:.4f}")


def decode_brush(data):
    """Label Studio's brush rle (thi.ng rle-pack as label-studio-converter's decode_rle reads
    it): 32-bit count, 5-bit word size - 1, four 4-bit run sizes - 1, then chunks."""
    bits = np.unpackbits(np.array(data, np.uint8))
    pos = 0

    def read(n):
        nonlocal pos
        v = 0
        for b in bits[pos:pos + n]:
            v = v * 2 + int(b)
        pos += n
        return v

    count, word = read(32), read(5) + 1
    sizes = [read(4) + 1 for _ in range(4)]
    out = np.zeros(count, np.uint8)
    i = 0
    while i < count:
        repeat = read(1)
        end = i + 1 + read(sizes[read(2)])
        if repeat:
            out[i:end] = read(word)
        else:
            for k in range(i, end):
                out[k] = read(word)
        i = end
    return out


def check_labelstudio_brush(label, out):
    tasks = json.load(open(os.path.join(out, "labelstudio.json")))
    samlite = parts(out)
    bad, count = 0, 0
    for task in tasks:
        name = task["data"]["image"].split("?d=", 1)[1]
        results = task["predictions"][0]["result"]
        expected = written(samlite[name])
        if len(results) != len(expected):
            bad += 1
            continue
        for r, (_, mask) in zip(results, expected):
            count += 1
            h, w = r["original_height"], r["original_width"]
            alpha = decode_brush(r["value"]["rle"]).reshape(h, w, 4)[:, :, 3]
            if r["type"] != "brushlabels" or not np.array_equal(alpha > 0, mask > 0):
                bad += 1
    check(f"{label}: every brush result decodes (rle-pack, alpha channel) exactly to its mask", bad == 0 and count > 0, f"{count} masks, {bad} differ")


def check_ultralytics(label, out, reader):
    """The YOLO-seg labels read by ultralytics' own code (resample_segments, then
    polygons2masks) at mask ratio 1 and 4: what resampling changes against the same line
    filled without it, and IoU against samlite's masks (resized as polygon2mask resizes)."""
    samlite = parts(out)
    for ratio in (1, 4):
        ious, ious_short, changed, lines_short, lines_long, worst_long = [], [], [], 0, 0, 1.0
        for file_name, masks in samlite.items():
            expected = written(masks)
            if not expected:
                continue
            h, w = expected[0][1].shape
            path = os.path.join(out, "labels", os.path.splitext(file_name)[0] + ".txt")
            lines = [l.split() for l in open(path).read().split("\n") if l]
            got = reader.read_masks(path, h, w, ratio)
            # The newer readers resample a whole image to more points when one line is long.
            image_long = max(len(l) // 2 for l in lines) > 999
            for k, (line, (_, mask), g) in enumerate(zip(lines, expected, got)):
                ious.append(iou(g, downsampled(mask, ratio)))
                unresampled = downsampled(ultralytics_fill(line[1:], h, w), ratio)
                diff = int((g != unresampled).sum())
                long_line = len(line) // 2 > 999 if not reader.keeps_vertices else image_long
                if long_line:
                    lines_long += 1
                    worst_long = min(worst_long, iou(g, unresampled))
                else:
                    lines_short += 1
                    ious_short.append(ious[-1])
                    if diff:
                        changed.append(f"{file_name} line {k + 1}: {diff} px")
        version = f"ultralytics {reader.version}, {'keeps vertices' if reader.keeps_vertices else 'index-spaced points only'}"
        where = "in images whose lines are all of up to 999 vertices" if reader.keeps_vertices else "of up to 999 vertices"
        check(
            f"{label}: {version}, mask ratio {ratio}: resampling changes no line {where}",
            not changed,
            f"{lines_short} lines, {len(changed)} changed {changed[:3]}, IoU with the masks min {min(ious_short):.4f}, median {np.median(ious_short):.4f}; "
            f"{lines_long} other lines, min IoU with their unresampled fill {worst_long:.4f}; all lines' IoU with the masks min {min(ious):.4f}",
        )


detections = json.load(open(os.path.join(root, "dets.json")))
check_coco("segment, COCO detections -> coco (rle)", os.path.join(root, "seg"), True, detections)
check_coco("segment, COCO detections -> coco (polygon, tolerance 0)", os.path.join(root, "seg-poly"), True, detections)
check_coco("everything -> coco (rle)", os.path.join(root, "every"), True)
check_coco("everything -> coco (polygon, tolerance 1)", os.path.join(root, "every-poly"), False)
check_yolo("segment -> yolo-seg", os.path.join(root, "seg"))
check_yolo("everything -> yolo-seg", os.path.join(root, "every"))
check_yolo("shapes -> yolo-seg (tolerance 0)", os.path.join(root, "shapes-0"))
check_yolo("shapes -> yolo-seg (tolerance 0.3)", os.path.join(root, "shapes-0.3"), exact=False)
for source in ULTRALYTICS:
    reader = UltralyticsReader(source)
    for label, name in [("segment", "seg"), ("everything", "every"), ("shapes, tolerance 0", "shapes-0"), ("shapes, tolerance 0.3", "shapes-0.3")]:
        check_ultralytics(f"{label} -> yolo-seg", os.path.join(root, name), reader)
check_labelme("segment -> labelme", os.path.join(root, "seg"))
check_labelstudio("segment -> labelstudio", os.path.join(root, "seg"))
check_labelstudio_brush("segment -> labelstudio (brush)", os.path.join(root, "seg-brush"))
print(f"{sum(results)} passed, {len(results) - sum(results)} failed")
sys.exit(0 if all(results) else 1)
