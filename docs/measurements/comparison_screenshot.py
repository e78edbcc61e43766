"""Screenshot of the comparison charts for the README (docs/img/comparison.png).

Run from the repository root with the venv active, after `make node-tools` and with chromium
and chromedriver installed (`make browser`):  python docs/measurements/comparison_screenshot.py
It renders the committed plots/compare/curves.tsv with `dvc plots show` (offline, vendored Vega).
"""

import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from selenium import webdriver

CHARTS = ["Validation accuracy by epoch", "Validation loss by epoch", "Validation accuracy by training time"]
out = Path(tempfile.mkdtemp()) / "page"
subprocess.run(["dvc", "plots", "show", "-o", str(out), *CHARTS], check=True, capture_output=True)
(out / "vendor").mkdir()
for name in ("vega/build/vega.min.js", "vega-lite/build/vega-lite.min.js", "vega-embed/build/vega-embed.min.js"):
    shutil.copy(Path("node_modules") / name, out / "vendor")
options = webdriver.ChromeOptions()
for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=700,1420"):
    options.add_argument(flag)
options.binary_location = shutil.which("chromium")
browser = webdriver.Chrome(options=options, service=webdriver.ChromeService(shutil.which("chromedriver")))
try:
    browser.get((out / "index.html").as_uri())
    for _ in range(100):
        if browser.execute_script("return document.querySelectorAll('canvas,svg').length") >= len(CHARTS):
            break
        time.sleep(0.2)
    time.sleep(1)
    Path("docs/img").mkdir(parents=True, exist_ok=True)
    browser.save_screenshot("docs/img/comparison.png")
finally:
    browser.quit()
print("wrote docs/img/comparison.png")
