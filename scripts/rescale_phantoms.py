#!/usr/bin/env python3
"""The same phantoms at another pixel pitch, to check that results do not depend on it.

    python3 scripts/rescale_phantoms.py SRC DST FACTOR
    tricho eval DST

Every `*.truth.json` phantom in SRC is written to DST resized by FACTOR: the photo with
bicubic interpolation (Pillow's, which low-pass filters when shrinking), the mask and label
images with nearest neighbour; its truth with the pixel sizes, centrelines and field area
scaled (blur included) and `um_per_px` divided by FACTOR, so the scalp, the hairs and every µm and per-cm²
figure stay the same. FACTOR 2 is a camera with twice the pixel density (a 70× dermatoscope
against a 20–40× one); below 1 a coarser one. Upscaling interpolates, so the photo gains no
detail: what is checked is that the pipeline's resampling to the model's scale, its tracing
limits in µm and its width measurement at the photo's own resolution give the same numbers.

Needs pillow (the training venv's `.venv/bin/python`, or `.venv-compare/bin/python` after
`scripts/timing.sh`, has it).
"""
import glob
import json
import os
import sys

from PIL import Image


def rescale(src, dst, factor):
    os.makedirs(dst, exist_ok=True)
    paths = sorted(glob.glob(os.path.join(src, "*.truth.json")))
    if not paths:
        sys.exit(f"{src}: no *.truth.json phantoms")
    for path in paths:
        truth = json.load(open(path))
        image = truth["image"]
        size = (round(image["width_px"] * factor), round(image["height_px"] * factor))
        photo = Image.open(os.path.join(src, image["file"])).convert("RGB")
        photo.resize(size, Image.BICUBIC).save(os.path.join(dst, image["file"]))
        for key in ("mask_file", "labels_file"):
            Image.open(os.path.join(src, image[key])).resize(size, Image.NEAREST).save(os.path.join(dst, image[key]))
        image["width_px"], image["height_px"] = size
        truth["calibration"]["um_per_px"] /= factor
        truth["field"]["area_px"] = round(truth["field"]["area_px"] * factor * factor)
        conditions = truth["conditions"]
        conditions["blur_sigma_px"] *= factor
        for key in ("blur_sigma_px", "blur_tilt_px"):
            conditions["optics"][key] *= factor
        for hair in truth["hairs"]:
            hair["centreline_px"] = [[x * factor, y * factor] for x, y in hair["centreline_px"]]
        with open(os.path.join(dst, os.path.basename(path)), "w") as out:
            json.dump(truth, out)
    print(f"{len(paths)} phantoms rescaled ×{factor} into {dst}")


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    rescale(sys.argv[1], sys.argv[2], float(sys.argv[3]))
