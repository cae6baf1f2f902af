"""A real headless browser for the tests of `etl docs` and for the README's screenshot:
Debian's chromium driven through its chromium-driver (WebDriver) by selenium.

`make browser` installs both packages when they are missing (the project's set-up, as root
on CI). Debian builds chromium and chromium-driver from one source package, so the driver
always matches the browser; selenium is told both paths, so it never looks for, or
downloads, a driver or a browser of its own (SE_OFFLINE as well). Each session gets a fresh
profile directory, removed after.

    python -m tools.browser screenshot <page.html> <out.png> [--fragment ID]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

BROWSERS = ("chromium", "chromium-browser", "google-chrome")
DRIVER = "chromedriver"
# What makes Chromium run headless here and touch nothing outside its profile: no sandbox
# (containers run as root), no GPU, no background network, no component updates or sync.
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
)


# Tallest screenshot taken (pixels).
MAX_HEIGHT = 4000


class BrowserMissing(RuntimeError):
    """No chromium or chromedriver: `make browser` installs them."""


def executables() -> tuple[str, str]:
    """(browser, driver): $CHROMIUM and $CHROMEDRIVER, else the first found on PATH."""
    browser = os.environ.get("CHROMIUM") or next(filter(None, map(shutil.which, BROWSERS)), None)
    driver = os.environ.get("CHROMEDRIVER") or shutil.which(DRIVER)
    if not browser or not driver:
        raise BrowserMissing(
            f"no headless browser: {'chromium' if not browser else 'chromedriver'} not found "
            "(`make browser` installs Debian's chromium and chromium-driver; or set CHROMIUM "
            "and CHROMEDRIVER)"
        )
    return browser, driver


@contextmanager
def headless_chromium(width: int = 1440, height: int = 900) -> Iterator[Any]:
    """A WebDriver session of headless Chromium, window `width` x `height`."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    browser, driver_path = executables()
    os.environ.setdefault("SE_OFFLINE", "true")
    profile = tempfile.mkdtemp(prefix="lakepipe-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for flag in (*FLAGS, f"--user-data-dir={profile}", f"--window-size={width},{height}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def screenshot(page: Path, output: Path, fragment: str = "", width: int = 1440) -> Path:
    """A PNG of the page (as opened with `#fragment`), as tall as its content."""
    with headless_chromium(width=width) as driver:
        driver.get(page.resolve().as_uri() + (f"#{fragment}" if fragment else ""))
        height = int(driver.execute_script("return document.documentElement.scrollHeight"))
        # The viewport itself as tall as the page (a window's size includes its frame).
        driver.execute_cdp_cmd(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": min(height, MAX_HEIGHT), "deviceScaleFactor": 1,
             "mobile": False},
        )  # fmt: skip
        driver.execute_script("window.scrollTo(0, 0)")
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_bytes(driver.get_screenshot_as_png())
    return output


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.browser")
    commands = parser.add_subparsers(dest="command", required=True)
    shot = commands.add_parser("screenshot", help="a PNG of a local HTML page")
    shot.add_argument("page", type=Path)
    shot.add_argument("output", type=Path)
    shot.add_argument("--fragment", default="", help="open the page at #FRAGMENT")
    shot.add_argument("--width", type=int, default=1440)
    args = parser.parse_args(argv)
    try:
        written = screenshot(args.page, args.output, args.fragment, args.width)
    except BrowserMissing as error:
        sys.stderr.write(f"{error}\n")
        return 2
    print(f"wrote {written}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
