"""Headless Chromium for the page tests: open a local file offline, report what loaded."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
VENDOR = ROOT / "node_modules"
VEGA_FILES = ("vega/build/vega.min.js", "vega-lite/build/vega-lite.min.js", "vega-embed/build/vega-embed.min.js")


def require_chromium(vega: bool = False) -> None:
    if not (shutil.which("chromium") and shutil.which("chromedriver")):
        pytest.skip("needs chromium and chromium-driver (make browser)")
    if vega and not (VENDOR / "vega").is_dir():
        pytest.skip("needs the vendored Vega libraries (make node-tools)")
    pytest.importorskip("selenium.webdriver")


def vendor_vega(page_dir: Path) -> None:
    """Copy the pinned Vega libraries next to a `dvc plots show` page (no CDN)."""
    (page_dir / "vendor").mkdir(exist_ok=True)
    for name in VEGA_FILES:
        shutil.copy(VENDOR / name, page_dir / "vendor")


@contextmanager
def chromium() -> Iterator:
    """A headless browser that logs console messages and every network request."""
    from selenium import webdriver

    options = webdriver.ChromeOptions()
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"):
        options.add_argument(flag)
    options.binary_location = shutil.which("chromium")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    service = webdriver.ChromeService(executable_path=shutil.which("chromedriver"))
    browser = webdriver.Chrome(options=options, service=service)
    try:
        browser.set_page_load_timeout(60)
        yield browser
    finally:
        browser.quit()


def requested_urls(browser) -> list[str]:
    """Every URL the page asked for (from Chrome's network log)."""
    urls = []
    for entry in browser.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message.get("method") == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    return urls


def image_states(browser) -> list[tuple[str, bool]]:
    script = (
        "return Array.from(document.images)"
        ".map(i => [i.getAttribute('alt') || i.src.slice(0, 60), i.complete && i.naturalWidth > 0])"
    )
    return [tuple(item) for item in browser.execute_script(script)]


def severe_console_errors(browser) -> list[str]:
    return [entry["message"] for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
