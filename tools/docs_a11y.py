"""Accessibility of the docs site: alt text for every figure, and axe-core run over every page.

* ``install_figure_alt()`` runs in the docs kernel (the builder's first cell): a matplotlib
  Figure's ``text/plain`` becomes a description made of its titles and axis labels, which the
  builder uses as the ``alt`` of the figure's image (IPython's public ``for_type`` hook).
* ``label_scrub_bar(markup, label)`` fixes matplotlib's scrub-bar template, whose frame
  ``<img>`` has no ``alt`` and whose range ``<input>`` has no label (two "critical" axe findings).
* ``axe_site(site, browser)`` runs axe-core (``axe-playwright-python``, which bundles
  ``axe.min.js``: nothing is fetched) on every page with the network blocked, and returns the
  violations counted by impact; ``make docs`` and the docs browser test fail on a "serious" or
  "critical" one, or on an ``<img>`` without alt text.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

__all__ = ["describe_figure", "install_figure_alt", "label_scrub_bar", "images_without_alt", "axe_site",
           "BLOCKING_IMPACTS"]

BLOCKING_IMPACTS = ("serious", "critical")
IMPACTS = ("minor", "moderate", "serious", "critical")
NBCONVERT_PLACEHOLDER = "No description has been provided for this image"


def describe_figure(fig: Any) -> str:
    """"Figure: <suptitle>; panel 1: <title> (x: <label>, y: <label>); ..." from the figure's own text."""
    parts = []
    texts = [t.get_text() for t in fig.texts if t.get_text().strip()]  # the suptitle is one of them
    if texts:
        parts.append(" ".join(texts))
    for number, ax in enumerate(fig.axes, 1):
        title = " ".join(ax.get_title(loc) for loc in ("left", "center", "right") if ax.get_title(loc))
        labels = ", ".join(f"{name}: {text}" for name, text in (("x", ax.get_xlabel()), ("y", ax.get_ylabel()))
                           if text)
        if title or labels:
            parts.append(f"panel {number}: {title}" + (f" ({labels})" if labels else ""))
    text = "; ".join(parts) if parts else f"{len(fig.axes)} panels"
    return re.sub(r"\s+", " ", f"Figure: {text}").replace("$", "")


def install_figure_alt(shell: Any = None) -> None:
    """Make a Figure's ``text/plain`` its description in this kernel (the image's alt on the page)."""
    from matplotlib.figure import Figure

    if shell is None:
        from IPython import get_ipython

        shell = get_ipython()
    plain = shell.display_formatter.formatters["text/plain"]
    plain.for_type(Figure, lambda fig, printer, cycle: printer.text(describe_figure(fig)))


def label_scrub_bar(markup: str, label: str = "animation") -> str:
    """Alt text on matplotlib's animation ``<img>``, an ``aria-label`` on its range input, a unique form label."""
    text = label.replace('"', "&quot;")
    markup = re.sub(r'<img id="_anim_img', f'<img alt="Frame of the {text}" id="_anim_img', markup)
    markup = re.sub(r'<input id="_anim_slider', f'<input aria-label="Frame of the {text}" id="_anim_slider', markup)
    # each animation's repetition-mode form is a landmark: give it a label of its own (axe: landmark-unique)
    return re.sub(r'aria-label="Repetition mode"([^>]*name="_anim_loop_select(\w+)")',
                  lambda m: f'aria-label="Repetition mode of animation {m.group(2)}"{m.group(1)}', markup)


class _Images(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.missing: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "img" and not (values.get("alt") or "").strip() or values.get("alt") == NBCONVERT_PLACEHOLDER:
            self.missing.append((values.get("id") or values.get("src") or "")[:60])


def images_without_alt(page: Path) -> list[str]:
    """The ``<img>`` tags of a page with no (or only nbconvert's placeholder) alt text."""
    parser = _Images()
    parser.feed(page.read_text(encoding="utf-8"))
    return parser.missing


def axe_site(site: Path, browser: Any, report: Path | None = None) -> tuple[dict[str, Any], list[str]]:
    """Run axe-core on every page of ``site``; returns (counts, problems) and writes ``report`` (JSON).

    Counts are violations (rules broken) and nodes per impact, per page and in total; a problem
    is a "serious"/"critical" violation or an image without alt text.
    """
    from axe_playwright_python.sync_playwright import Axe  # test extra: bundles axe.min.js

    axe = Axe()
    summary: dict[str, Any] = {"pages": {}, "violations": dict.fromkeys(IMPACTS, 0), "nodes": dict.fromkeys(IMPACTS, 0)}
    problems = []
    context = browser.new_context(offline=True, viewport={"width": 1200, "height": 900})
    context.route("**/*", lambda route: route.continue_() if route.request.url.startswith(("file:", "data:"))
                  else route.abort())
    for page_path in sorted(site.glob("*.html")):
        page = context.new_page()
        page.goto(page_path.resolve().as_uri())
        violations = axe.run(page).response["violations"]
        page.close()
        counts = Counter(v["impact"] for v in violations)
        summary["pages"][page_path.name] = {
            "violations": dict(counts), "rules": sorted(f"{v['id']} ({v['impact']}, {len(v['nodes'])})" for v in violations)}
        for v in violations:
            summary["violations"][v["impact"]] += 1
            summary["nodes"][v["impact"]] += len(v["nodes"])
            if v["impact"] in BLOCKING_IMPACTS:
                problems.append(f"{page_path.name}: axe {v['impact']} '{v['id']}' on {len(v['nodes'])} node(s): "
                                f"{v['help']} (e.g. {v['nodes'][0]['html'][:120]})")
        missing = images_without_alt(page_path)
        summary["pages"][page_path.name]["images_without_alt"] = len(missing)
        if missing:
            problems.append(f"{page_path.name}: {len(missing)} image(s) without alt text, e.g. {missing[0]}")
    context.close()
    if report is not None:
        report.parent.mkdir(parents=True, exist_ok=True)
        report.write_text(json.dumps(summary, indent=1), encoding="utf-8")
    return summary, problems
