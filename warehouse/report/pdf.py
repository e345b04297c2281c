"""The report as PDF: headless Chromium prints the HTML page (CJK from Debian's fonts-noto-cjk)."""

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from quotalink.errors import QuotaLinkError

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
TIMEOUT_S = 180


class PdfError(QuotaLinkError):
    """Chromium is missing or could not print the page."""


def find_browser() -> str:
    """The Chromium executable: $QUOTALINK_CHROMIUM, else the first of BROWSERS on PATH."""
    configured = os.environ.get("QUOTALINK_CHROMIUM")
    if configured:
        return configured
    for name in BROWSERS:
        found = shutil.which(name)
        if found:
            return found
    raise PdfError("PDF 输出需要 Chromium：请运行 scripts/install-system-deps.sh（或 apt-get install "
                   "chromium fonts-noto-cjk）/ writing a PDF needs Chromium: install it with "
                   "scripts/install-system-deps.sh (apt-get install chromium fonts-noto-cjk), or set "
                   "QUOTALINK_CHROMIUM")


def html_to_pdf(html: str, out: Path) -> Path:
    """Print an HTML page to ``out`` with headless Chromium; raises PdfError on failure."""
    browser = find_browser()
    out = Path(out).resolve()
    with tempfile.TemporaryDirectory(prefix="quotalink-pdf-") as tmp:
        page = Path(tmp) / "report.html"
        page.write_text(html, encoding="utf-8")
        cmd = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
               "--no-first-run", "--disable-extensions", "--disable-background-networking",
               f"--user-data-dir={Path(tmp) / 'profile'}", "--no-pdf-header-footer",
               f"--print-to-pdf={out}", page.as_uri()]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT_S, check=False)
        except subprocess.TimeoutExpired as exc:
            raise PdfError(f"Chromium 打印超时 / Chromium did not finish printing in {TIMEOUT_S} s") from exc
    if proc.returncode != 0 or not out.exists() or out.stat().st_size == 0:
        tail = (proc.stderr or proc.stdout or "").strip().splitlines()[-3:]
        raise PdfError(f"Chromium 未能生成 PDF / Chromium failed to print the report "
                       f"(exit {proc.returncode}): {' | '.join(tail)}")
    return out
