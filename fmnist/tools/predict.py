"""`fmnist predict`: classify the user's own image files with a trained model.

Each image is prepared to look like Fashion-MNIST: grayscale, a light object on black (light
backgrounds are inverted), cropped to the object and fitted into 28×28 keeping its aspect
ratio, then scaled to [0, 1] as in the preprocess stage.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from fmnist import CLASS_NAMES, IMAGE_SIZE
from fmnist.core.errors import FmnistError

EXTENSIONS = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp"}
# Only these decoders are tried: PIL would otherwise sniff any format it knows (EPS runs Ghostscript).
FORMATS = ("PNG", "JPEG", "BMP", "GIF", "WEBP")
MAX_PIXELS = 40_000_000  # decompression-bomb guard: larger images are refused, not decoded
MAX_FILE_BYTES = 100 << 20
OBJECT_THRESHOLD = 0.02  # of the brightest pixel: what counts as object when cropping


class ImageError(FmnistError):
    """One input image cannot be read or prepared (the other files are still predicted)."""


@dataclass
class Prediction:
    path: str
    label: str = ""
    confidence: float = 0.0
    top3: list[tuple[str, float]] = field(default_factory=list)
    error: str = ""


def find_images(paths: Iterable[str | Path]) -> Iterator[Path]:
    """Files as given, and every entry with an image extension found recursively in folders, sorted.

    A folder scan yields what it cannot read too (a dangling symlink, an unreadable or damaged
    file), so each gets its own error; files with other extensions are left alone.
    """
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            yield from sorted(p for p in path.rglob("*") if p.suffix.lower() in EXTENSIONS and not p.is_dir())
        else:
            yield path


def _to_gray_array(image) -> np.ndarray:
    """Any PIL mode -> float32 H×W in [0, 255]; transparency is composited onto white."""
    from PIL import Image

    if image.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        values = np.asarray(image, dtype=np.float32)
        top = 65535.0 if values.max(initial=0) > 255 else 255.0
        return np.clip(values * (255.0 / top), 0, 255)
    if image.mode == "P":
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "LA", "PA"):
        background = Image.new("RGBA", image.size, (255, 255, 255, 255))
        image = Image.alpha_composite(background, image.convert("RGBA"))
    return np.asarray(image.convert("L"), dtype=np.float32)


def fit_like_fashion_mnist(gray: np.ndarray) -> np.ndarray:
    """Float H×W gray image -> uint8 28×28, light object on black, centred and fitted."""
    from PIL import Image

    height, width = gray.shape
    background = float(np.median(np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])))
    if background > 127:  # light background (a product photo): invert to light-on-black
        gray, background = 255.0 - gray, 255.0 - background
    if background > 0:  # a grey background becomes black, keeping the object's full range
        gray = np.clip((gray - background) * (255.0 / (255.0 - background)), 0, 255)
    if (height, width) == (IMAGE_SIZE, IMAGE_SIZE):
        return gray.round().astype(np.uint8)  # already the data set's geometry
    mask = gray > OBJECT_THRESHOLD * max(float(gray.max()), 1.0)
    if mask.any():
        rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
        spans_frame = (rows[0], rows[-1]) == (0, height - 1) or (cols[0], cols[-1]) == (0, width - 1)
        if not (spans_frame and height == width):  # a square, already-fitted image keeps its framing
            gray = gray[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    # Resize, then pad: padding first would allocate side × side floats (a 100000×1 image: 37 GiB),
    # so memory stays bounded by the decoded pixels whatever the aspect ratio.
    height, width = gray.shape
    scale = IMAGE_SIZE / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    # BOX (area averaging) undoes a nearest-neighbour upscale exactly and avoids aliasing.
    small = np.asarray(Image.fromarray(gray.astype(np.float32), mode="F").resize(size, Image.Resampling.BOX))
    square = np.zeros((IMAGE_SIZE, IMAGE_SIZE), dtype=np.float32)
    top, left = (IMAGE_SIZE - small.shape[0]) // 2, (IMAGE_SIZE - small.shape[1]) // 2
    square[top : top + small.shape[0], left : left + small.shape[1]] = small
    return np.clip(square, 0, 255).round().astype(np.uint8)


def load_image(path: Path) -> np.ndarray:
    """Read one image file and prepare it; any problem is an ImageError naming the file."""
    from PIL import Image, UnidentifiedImageError

    try:
        size = path.stat().st_size
    except FileNotFoundError:
        broken = path.is_symlink()
        raise ImageError(f"{path}: {'broken symbolic link' if broken else 'file not found'}") from None
    except OSError as error:
        raise ImageError(f"{path}: cannot read ({error.strerror or error})") from None
    if size == 0:
        raise ImageError(f"{path}: empty file")
    if size > MAX_FILE_BYTES:
        raise ImageError(f"{path}: {size} bytes, more than the {MAX_FILE_BYTES}-byte cap")
    try:
        with Image.open(path, formats=FORMATS) as image:
            width, height = image.size
            if width * height > MAX_PIXELS:
                raise ImageError(f"{path}: {width}×{height} pixels, more than the {MAX_PIXELS}-pixel cap")
            image.seek(0)  # first frame of an animated GIF / WebP
            image.load()
            gray = _to_gray_array(image)
    except ImageError:
        raise
    except UnidentifiedImageError:
        raise ImageError(f"{path}: not an image PIL can read (expected PNG, JPEG, BMP, GIF or WebP)") from None
    except PermissionError:
        raise ImageError(f"{path}: cannot read (permission denied)") from None
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as error:
        raise ImageError(f"{path}: damaged or unsupported image ({str(error)[:120]})") from None
    if gray.ndim != 2 or min(gray.shape) < 1:
        raise ImageError(f"{path}: image has no pixels")
    return fit_like_fashion_mnist(gray)


def predict_files(
    model, files: list[Path], tta_flip: bool, batch_size: int = 256, progress=None, tta_shift: int = 0
) -> list[Prediction]:
    """Predict every file in batches, with the evaluate stage's test-time augmentation; unreadable
    files become Predictions with `error` set."""
    from fmnist.evaluate.metrics import predict_probabilities

    results: list[Prediction] = []
    for start in range(0, len(files), batch_size):
        chunk, images, readable = files[start : start + batch_size], [], []
        for path in chunk:
            try:
                images.append(load_image(path))
                readable.append(Prediction(str(path)))
            except ImageError as error:
                results.append(Prediction(str(path), error=str(error)))
        if images:
            batch = np.stack(images).astype(np.float32)[..., None] / 255.0
            probabilities = predict_probabilities(model, batch, batch_size, tta_flip, tta_shift)
            for prediction, row in zip(readable, probabilities, strict=True):
                order = np.argsort(row)[::-1][:3]
                prediction.top3 = [(CLASS_NAMES[i], round(float(row[i]), 4)) for i in order]
                prediction.label, prediction.confidence = prediction.top3[0]
            results.extend(readable)
        if progress:
            progress(min(start + batch_size, len(files)), len(files))
    order = {str(path): i for i, path in enumerate(files)}
    return sorted(results, key=lambda p: order.get(p.path, 0))


def format_predictions(predictions: list[Prediction], fmt: str) -> str:
    ok = [p for p in predictions if not p.error]
    if fmt == "json":
        rows = [{"path": p.path, "label": p.label, "confidence": p.confidence, "top3": p.top3} for p in ok]
        return json.dumps(rows, indent=1)
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["path", "label", "confidence", "top2", "top2_confidence", "top3", "top3_confidence"])
        for p in ok:
            writer.writerow([p.path, p.label, p.confidence, *[v for pair in p.top3[1:] for v in pair]])
        return out.getvalue().rstrip("\n")
    width = max([len(p.path) for p in ok] + [4])
    lines = [f"{'file':<{width}}  {'label':<11}  {'conf':>6}  top-3"]
    for p in ok:
        top = ", ".join(f"{name} {value:.1%}" for name, value in p.top3)
        lines.append(f"{p.path:<{width}}  {p.label:<11}  {p.confidence:>6.1%}  {top}")
    return "\n".join(lines)
