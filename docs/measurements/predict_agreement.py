"""Test images inverted to dark-on-light RGB and upscaled 4x: does `fmnist predict`'s preparation
give the champion the same prediction as the in-memory array? Writes predict_agreement.json."""

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from fmnist.train.models import load_model  # noqa: E402
from fmnist.tools.predict import _to_gray_array, fit_like_fashion_mnist  # noqa: E402

data = np.load(ROOT / "data/interim/test.npz")
x = data["x"]
prepared = np.stack(
    [
        fit_like_fashion_mnist(
            _to_gray_array(Image.fromarray(255 - i).convert("RGB").resize((112, 112), Image.NEAREST))
        )
        for i in x
    ]
)
model = load_model(ROOT / "models/best")
a = model.predict(x[..., None] / 255.0, verbose=0, batch_size=1024).argmax(1)
b = model.predict(prepared[..., None] / 255.0, verbose=0, batch_size=1024).argmax(1)
result = {
    "images": len(x),
    "identical_inputs": int(sum(np.array_equal(p, i) for p, i in zip(prepared, x, strict=True))),
    "same_prediction": int((a == b).sum()),
}
(ROOT / "docs/measurements/predict_agreement.json").write_text(json.dumps(result, indent=1) + "\n")
print(result)
