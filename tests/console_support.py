"""What the console's browser tests share: the API asked directly (the answer the page must show),
signing in through the development form, and a screenshot's pixels decoded in the browser (no
imaging library needed)."""

from __future__ import annotations

import base64
import uuid
from typing import Any

import httpx
from playwright.sync_api import Locator, Page
from playwright.sync_api import TimeoutError as PlaywrightTimeout


def api(url: str, header: dict[str, str], query: str, lang: str = "zh-CN", **variables: Any):
    """The API's ``data`` for ``query`` as the holder of ``header`` (in ``lang``, the console's
    default language unless told); an answer with errors fails the test."""
    resp = httpx.post(
        f"{url}/graphql",
        json={"query": query, "variables": variables},
        headers={**header, "accept-language": lang},
        timeout=60,
    )
    body = resp.json()
    assert "errors" not in body, body
    return body["data"]


def sign_in(page: Page, role: str, claim: str | None = None, ready: str = "#search-input") -> None:
    """Sign in through the development form as ``role`` (with an employee, branch or customer
    id), then wait for ``ready``."""
    page.goto("/console/")
    page.select_option("#role", role)
    if claim is not None:
        page.fill("#claim-id", claim)
    page.click("#signin-submit")
    page.wait_for_selector(ready)


_LETTERS = str.maketrans("0123456789", "ghijklmnop")


def marker(length: int = 8) -> str:
    """A unique word to find a written text by, in letters only: a view that masks contact data
    masks any run of seven or more digits in free text (auth/masking.py), which a random hex
    word is about one time in twenty."""
    return uuid.uuid4().hex[:length].translate(_LETTERS)


def wait_shown(page: Page, locator: Locator, problems: list[str] | None = None) -> None:
    """Wait for ``locator`` to be visible; when it is not, fail with what the page showed instead
    (its address, the text of the app and the script errors), so that a failure in CI says why."""
    try:
        locator.wait_for()
    except PlaywrightTimeout:
        try:
            text = page.locator("#app").inner_text(timeout=2_000)[:1_500]
        except PlaywrightTimeout:
            text = "(the app's text could not be read)"
        raise AssertionError(
            f"{locator} did not show on {page.url}; the page showed:\n{text}\n"
            f"script errors: {problems or []}"
        ) from None


def pixels(page: Page, png: bytes) -> dict[str, int]:
    """A PNG decoded in the browser: its distinct colours, the pixels unlike its top-left
    (background) colour ('ink') and all its pixels."""
    data_url = "data:image/png;base64," + base64.b64encode(png).decode()
    return page.evaluate(
        """async (src) => {
          const img = new Image(); img.src = src; await img.decode();
          const c = document.createElement('canvas'); c.width = img.width; c.height = img.height;
          const ctx = c.getContext('2d'); ctx.drawImage(img, 0, 0);
          const d = ctx.getImageData(0, 0, c.width, c.height).data;
          const colours = new Set(); let ink = 0;
          for (let i = 0; i < d.length; i += 4) {
            colours.add((d[i] << 16) | (d[i+1] << 8) | d[i+2]);
            if (Math.abs(d[i] - d[0]) + Math.abs(d[i+1] - d[1]) + Math.abs(d[i+2] - d[2]) > 30) ink++;
          }
          return {colours: colours.size, ink, pixels: d.length / 4};
        }""",
        data_url,
    )
