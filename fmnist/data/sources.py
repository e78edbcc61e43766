"""Where the raw data comes from: a user folder, Debian's package, or the official download.

Whatever the source, the result is the two Zalando-layout CSVs the ingest stage reads. How each
source is tracked, so that new data re-runs the pipeline:
- the user folder (`data.folder`) is a DVC dependency of `fetch`: any added or replaced file in it
  changes the stage;
- Debian's package and downloads are pinned by the SHA-256 of the official archives: different
  bytes fail here instead of flowing silently into training.
"""

from __future__ import annotations

import gzip
import hashlib
import shutil
import ssl
import time
import urllib.parse
import urllib.request
from pathlib import Path

from fmnist.data.formats import gunzip_capped, read_csv, read_idx_pair, write_csv
from fmnist.core.errors import SourceError
from fmnist.core.io import atomic_path

SYSTEM_DIR = Path("/usr/share/datasets/fashion-mnist")
DOWNLOAD_URL = "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/"
MAX_DOWNLOAD_BYTES = 64 * 1024 * 1024
DOWNLOAD_DEADLINE_SECONDS = 600.0  # the four archives are 30 MB: 10 minutes is about 50 KB/s

IDX_FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}
# SHA-256 of the *decompressed* IDX bytes: archives recompressed by a distribution keep them.
IDX_SHA256 = {
    "train-images-idx3-ubyte.gz": "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
    "train-labels-idx1-ubyte.gz": "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
    "t10k-images-idx3-ubyte.gz": "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
    "t10k-labels-idx1-ubyte.gz": "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
}
CSV_NAMES = {"train": "fashion-mnist_train.csv", "test": "fashion-mnist_test.csv"}

HOW_TO_PROVIDE = (
    "no Fashion-MNIST data found. Provide it one of three ways: "
    "(1) put fashion-mnist_train.csv and fashion-mnist_test.csv (or .csv.gz), "
    "or the four IDX .gz archives, in the folder named by data.folder (default data/external/); "
    "(2) apt-get install dataset-fashion-mnist (Debian, Ubuntu); "
    "(3) allow downloads from the official URLs with data.source=auto or an https:// base URL"
)
SOURCES = "'auto', 'folder' or an https:// base URL"


def _csv_in(folder: Path, split: str) -> Path | None:
    for name in (CSV_NAMES[split], CSV_NAMES[split] + ".gz"):
        if (folder / name).is_file():
            return folder / name
    return None


def folder_kind(folder: Path) -> str | None:
    """'csv' or 'idx' when the folder holds a complete copy of the data set, else None."""
    if all(_csv_in(folder, split) for split in CSV_NAMES):
        return "csv"
    if all((folder / name).is_file() for pair in IDX_FILES.values() for name in pair):
        return "idx"
    return None


def fetch_from_folder(folder: Path, outputs: dict[str, Path], verify: bool = True) -> str:
    """Write the two CSVs from a folder of CSVs or IDX archives; returns a description.

    `verify` checks IDX archives against the official SHA-256 (for copies that must be the official data).
    """
    kind = folder_kind(folder)
    if kind is None:
        raise SourceError(
            f"{folder}: expected {CSV_NAMES['train']} and {CSV_NAMES['test']} (.csv or .csv.gz) "
            "or the four IDX .gz archives"
        )
    for split, output in outputs.items():
        if kind == "csv":
            source = _csv_in(folder, split)
            read_csv(source)  # validate before copying, so a bad file fails here with its own name
            with atomic_path(output) as tmp:
                if source.suffix == ".gz":
                    with gzip.open(source, "rb") as src, tmp.open("wb") as dst:
                        shutil.copyfileobj(src, dst)
                else:
                    shutil.copyfile(source, tmp)
        else:
            images_name, labels_name = IDX_FILES[split]
            images, labels = read_idx_pair(folder / images_name, folder / labels_name, IDX_SHA256 if verify else None)
            write_csv(output, images, labels)
    return f"{kind} files in {folder}"


class _HttpsOnlyRedirects(urllib.request.HTTPRedirectHandler):
    """Follow redirects only to https:// URLs (urllib follows https -> http by default)."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        if urllib.parse.urlparse(newurl).scheme != "https":
            raise SourceError(f"{req.full_url}: redirected to {newurl}; only https:// downloads are allowed")
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def download(
    url: str,
    target: Path,
    sha256_decompressed: str | None,
    max_bytes: int = MAX_DOWNLOAD_BYTES,
    timeout: float = 60.0,
    deadline: float = DOWNLOAD_DEADLINE_SECONDS,
    context: ssl.SSLContext | None = None,
) -> None:
    """HTTPS-only (redirects too), size-capped download written atomically; a checksum mismatch
    keeps nothing. `timeout` bounds each read, `deadline` the whole download (checked between
    reads, so a server that drips bytes is cut off within deadline + timeout)."""
    if urllib.parse.urlparse(url).scheme != "https":
        raise SourceError(f"{url}: only https:// downloads are allowed")
    opener = urllib.request.build_opener(urllib.request.HTTPSHandler(context=context), _HttpsOnlyRedirects())
    started = time.monotonic()
    try:
        with atomic_path(target) as tmp:
            with opener.open(url, timeout=timeout) as response, tmp.open("wb") as out:
                size = 0
                while chunk := response.read1(1 << 16):
                    size += len(chunk)
                    if size > max_bytes:
                        raise SourceError(f"{url}: larger than the {max_bytes} byte cap")
                    if time.monotonic() - started > deadline:
                        raise SourceError(f"{url}: not finished after the {deadline:g} s deadline ({size} bytes)")
                    out.write(chunk)
            if sha256_decompressed:
                digest = hashlib.sha256(gunzip_capped(tmp.read_bytes(), target.name)).hexdigest()
                if digest != sha256_decompressed:
                    raise SourceError(
                        f"{target.name}: SHA-256 {digest} does not match {sha256_decompressed}; file deleted"
                    )
    except (OSError, ValueError) as error:
        raise SourceError(f"{url}: download failed ({error})") from None


def fetch_by_download(base_url: str, cache_dir: Path, outputs: dict[str, Path]) -> str:
    for pair in IDX_FILES.values():
        for name in pair:
            if not (cache_dir / name).is_file():
                download(urllib.parse.urljoin(base_url, name), cache_dir / name, IDX_SHA256.get(name))
    return fetch_from_folder(cache_dir, outputs) + f" (downloaded from {base_url})"


def fetch(source: str, folder: Path, outputs: dict[str, Path], download_dir: Path = Path("data/download")) -> str:
    """Resolve `data.source` (with `data.folder`) and write the raw CSVs; returns where the data came from.

    'auto': the folder when it holds a complete copy, else Debian's package, else the official
    download. 'folder': the folder only. 'https://…': a download from that base URL. The folder's
    own files are taken as they are (DVC tracks them); the package and downloads must match the
    official checksums.
    """
    folder = Path(folder)
    if source in ("auto", "folder") and folder.exists() and not folder.is_dir():
        raise SourceError(f"data.folder: {str(folder)!r} is not a folder")
    if source == "folder":
        return fetch_from_folder(folder, outputs, verify=False)
    if source == "auto":
        if folder_kind(folder):
            return fetch_from_folder(folder, outputs, verify=False)
        if folder_kind(SYSTEM_DIR):
            return fetch_from_folder(SYSTEM_DIR, outputs, verify=True)
        try:
            return fetch_by_download(DOWNLOAD_URL, download_dir, outputs)
        except SourceError as error:
            raise SourceError(f"{HOW_TO_PROVIDE} (download: {error})") from None
    if source.startswith("https://"):
        return fetch_by_download(source if source.endswith("/") else source + "/", download_dir, outputs)
    if "://" in source:
        raise SourceError(f"data.source: {source!r}: only https:// downloads are allowed")
    raise SourceError(f"data.source: {source!r} is not {SOURCES} (a folder goes in data.folder)")
