"""Real headless Chromium for page tests, driven by Selenium through Debian's chromedriver.

No browser is downloaded: Selenium is pointed at ``/usr/bin/chromium`` and
``/usr/bin/chromedriver`` (Debian packages ``chromium`` and ``chromium-driver``, installed
by ``.ci/run``). Without them the test is skipped on a developer machine and fails in CI.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

import pytest

WIDTH = 1400
"""The page width a designer reads at (issue 11: readable on a 1400 px wide page)."""


def need_tool(name: str, package: str) -> str:
    """A program CI installs (.ci/run); under CI=true a missing one fails the test, elsewhere it skips."""
    path = shutil.which(name)
    if path is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{name!r} is not installed, but CI=true requires it (apt-get install {package})")
        pytest.skip(f"{name!r} is not installed on this machine (apt-get install {package})")
    return path


def chromium(width: int = WIDTH, height: int = 1000) -> Iterator[object]:
    """A headless Chromium window of ``width`` x ``height`` CSS pixels; closed afterwards."""
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    options.binary_location = need_tool("chromium", "chromium")
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                f"--window-size={width},{height}", "--force-device-scale-factor=1"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(executable_path=need_tool("chromedriver", "chromium-driver")), options=options)
    try:
        driver.set_window_size(width, height)
        yield driver
    finally:
        driver.quit()
