"""Checks that a built docs site is self-contained: statically, and in offline headless Chromium."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import headless_chromium
from docs_a11y import axe_site

__all__ = ["EXTERNAL", "external_references", "check_animation_offline", "check_site_in_browser", "browser_checks",
           "site_size"]

EXTERNAL = re.compile(r"^\s*(?:[a-z][a-z0-9+.-]*:)?//", re.IGNORECASE)   # http://, https://, //host
SAFE_SCHEMES = ("data:", "#", "mailto:", "javascript:")
URL_ATTRIBUTES = {"href", "src", "srcset", "action", "formaction", "poster", "data", "background",
                  "xlink:href", "manifest", "cite", "longdesc", "usemap", "ping", "icon"}
CSS_URL = re.compile(r"url\(\s*['\"]?\s*([^'\")\s]+)|@import\s+['\"]([^'\"]+)", re.IGNORECASE)


class _References(HTMLParser):
    """Collects every URL a page would load or navigate to: attributes, CSS, scripts."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.urls: list[str] = []
        self._in: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if value is None:
                continue
            if name.lower() in URL_ATTRIBUTES:
                candidates = [v.strip().split(" ")[0] for v in value.split(",")] if name == "srcset" else [value]
                self.urls.extend(candidates)
            elif name.lower() == "style":
                self.urls.extend(a or b for a, b in CSS_URL.findall(value))
        self._in = tag.lower() if tag.lower() in {"style", "script"} else None

    def handle_endtag(self, tag: str) -> None:
        self._in = None

    def handle_data(self, data: str) -> None:
        if self._in == "style":
            self.urls.extend(a or b for a, b in CSS_URL.findall(data))
        elif self._in == "script":
            self.urls.extend(re.findall(r"(?:https?:)?//[\w.-]+\.[a-z]{2,}[^\s'\"]*", data))


def external_references(site: Path) -> dict[str, list[str]]:
    """Every reference off the site, per file (empty dict: the site is self-contained)."""
    found: dict[str, list[str]] = {}
    for path in sorted(site.rglob("*.html")):
        parser = _References()
        parser.feed(path.read_text(encoding="utf-8"))
        bad = []
        for url in parser.urls:
            url = url.strip()
            if not url or url.startswith(SAFE_SCHEMES):
                continue
            if EXTERNAL.match(url) or re.match(r"^[a-z][a-z0-9+.-]*:", url, re.IGNORECASE):
                bad.append(url)
            elif url.startswith("/") or ".." in Path(url.split("#")[0].split("?")[0]).parts:
                bad.append(url)  # absolute path or escaping the site: not self-contained
            elif not (path.parent / url.split("#")[0].split("?")[0]).exists():
                bad.append(f"{url} (missing file)")
        if bad:
            found[str(path.relative_to(site))] = bad
    return found


def check_animation_offline(page_path: Path, browser: Any, screenshot: Path | None = None) -> dict[str, Any]:
    """Open a page in Chromium with the network blocked; move its first scrub bar to the end.

    Args:
        page_path: a built page holding at least one explorer animation.
        browser: a Playwright Chromium ``Browser``.
        screenshot: where to save a PNG of the animation after the move (optional).

    Returns:
        ``{"requests": [...], "page_errors": [...], "frames": n, "start_frame": i,
        "opened": src, "first": src, "moved": src}``: the frame shown on load, after the
        Home key and after the End key on the scrub bar. A working page made no request,
        raised no error, opened on frame ``start_frame`` and has ``first != moved``.
    """
    context = browser.new_context(offline=True, viewport={"width": 1200, "height": 900})
    requests: list[str] = []
    errors: list[str] = []

    def block(route: Any) -> None:
        if not route.request.url.startswith(("file:", "data:")):
            requests.append(route.request.url)
            route.abort()
        else:
            route.continue_()

    context.route("**/*", block)
    page = context.new_page()
    page.on("request", lambda r: None if r.url.startswith(("file:", "data:")) else requests.append(r.url))
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(page_path.resolve().as_uri())
    figure = page.locator("figure.visual-explorer-animation").first
    slider = figure.locator("input.anim-slider")
    image = figure.locator(".animation img").first
    page.wait_for_function(
        "(img) => img.src && img.src.startsWith('data:image/')", arg=image.element_handle(),
        timeout=30_000)
    page.wait_for_timeout(300)              # the animation's own setTimeouts have run
    opened = image.get_attribute("src")
    start = int(figure.get_attribute("data-start-frame") or 0)
    on_start = slider.input_value() == str(start)
    frames = int(slider.get_attribute("max") or 0) + 1
    slider.focus()
    page.keyboard.press("Home")             # a reader dragging the bar to one end...
    first = image.get_attribute("src")
    page.keyboard.press("End")              # ...then to the other
    moved = image.get_attribute("src")
    if screenshot is not None:
        figure.screenshot(path=str(screenshot))
    context.close()
    return {"requests": requests, "page_errors": errors, "frames": frames, "start_frame": start,
            "opened_on_start": on_start, "opened": opened, "first": first, "moved": moved}


def check_site_in_browser(site: Path, browser: Any | None = None) -> list[str]:
    """Problems found by loading every page with animations in offline headless Chromium.

    Args:
        site: the built site folder.
        browser: a Playwright Chromium ``Browser`` to reuse; ``None`` launches Debian's Chromium.
    """
    if browser is None:
        from playwright.sync_api import sync_playwright  # optional (test extra): only for this check

        with sync_playwright() as playwright:
            launched = headless_chromium.launch(playwright)
            try:
                return check_site_in_browser(site, launched)
            finally:
                launched.close()
    problems = []
    for page_path in sorted(site.glob("*.html")):
        if 'class="visual-explorer-animation"' not in page_path.read_text(encoding="utf-8"):
            continue
        result = check_animation_offline(page_path, browser)
        name = page_path.name
        if result["requests"]:
            problems.append(f"{name}: requested {result['requests']} with the network blocked")
        if result["page_errors"]:
            problems.append(f"{name}: page errors {result['page_errors']}")
        if not result["opened_on_start"]:
            problems.append(f"{name}: the animation did not open on frame {result['start_frame']}")
        if result["frames"] < 2 or result["first"] == result["moved"]:
            problems.append(f"{name}: moving the scrub bar did not change the frame "
                            f"({result['frames']} frames)")
        else:
            print(f"  {name}: offline OK, scrub bar changes the frame ({result['frames']} frames)")
    return problems


def browser_checks(site: Path, axe_report: Path) -> list[str]:
    """Offline scrub-bar check + axe-core (no serious/critical violation, alt on every image)."""
    from playwright.sync_api import sync_playwright  # test extra

    with sync_playwright() as playwright:
        browser = headless_chromium.launch(playwright)
        try:
            problems = check_site_in_browser(site, browser)
            summary, axe_problems = axe_site(site, browser, axe_report)
        finally:
            browser.close()
    print(f"  axe-core: violations by impact {summary['violations']} (nodes {summary['nodes']}); "
          f"report {axe_report}")
    return problems + axe_problems


def site_size(site: Path) -> int:
    return sum(p.stat().st_size for p in site.rglob("*") if p.is_file())
