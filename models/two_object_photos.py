#!/usr/bin/env python3
"""models/two_object_photos.py — photos holding two different objects, for the INSTRUCTION pooling evidence.

Each is two of the public-domain / CC0 scikit-image sample photos (see Tests/Fixtures/images/photos/LICENSES.md)
scaled to one height and set side by side: a composite, made so that which object is where is known exactly
(the classifier of the ConSE bridge does not see a second object in any of the natural sample photos: see
models/README.md). Run in a venv with pillow and scikit-image:
  python models/two_object_photos.py
Writes Tests/Fixtures/images/two-objects/<left>+<right>.jpg (height 240, JPEG quality 88) and objects.json:
{file: {"left": {"name", "instruction", "caption"}, "right": {...}}}.
"""
import json
import os

import numpy as np
import skimage.data as data
from PIL import Image

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(REPO, "Tests", "Fixtures", "images", "two-objects")
HEIGHT = 240
# What each photo shows: the instruction that names it and a caption of it alone.
OBJECTS = {
    "chelsea": ("the cat", "a photo of a cat"),
    "coffee": ("the coffee", "a photo of a cup of coffee"),
    "rocket": ("the rocket", "a photo of a rocket"),
    "camera": ("the camera", "a photo of a camera on a tripod"),
}
PAIRS = [("chelsea", "coffee"), ("rocket", "chelsea"), ("camera", "coffee"), ("coffee", "rocket")]


def photo(name):
    im = Image.fromarray(getattr(data, name)()).convert("RGB")
    return im.resize((round(im.width * HEIGHT / im.height), HEIGHT), Image.BICUBIC)


def main():
    os.makedirs(OUT, exist_ok=True)
    index = {}
    for left, right in PAIRS:
        a, b = photo(left), photo(right)
        both = Image.new("RGB", (a.width + b.width, HEIGHT))
        both.paste(a, (0, 0))
        both.paste(b, (a.width, 0))
        file = f"{left}+{right}.jpg"
        both.save(os.path.join(OUT, file), quality=88)
        index[file] = {side: {"name": n, "instruction": OBJECTS[n][0], "caption": OBJECTS[n][1]}
                       for side, n in (("left", left), ("right", right))}
    with open(os.path.join(OUT, "objects.json"), "w") as f:
        json.dump(index, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    main()
