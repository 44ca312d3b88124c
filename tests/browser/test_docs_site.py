"""The static docs work offline: a scrub bar changes the frame with every request blocked.

Builds the site from the fixture notebooks (fast) with the real builder; ``make docs`` runs the
same checks on the course notebooks.
"""

from __future__ import annotations

import re

import pytest

from browser_support import ARTIFACTS, FIXTURES

import build_docs  # noqa: E402  (tools/ is on sys.path: browser_support)

FRAME = re.compile(r'frames\[\d+\] = "(data:image/png;base64,[^"]+)"')


@pytest.fixture(scope="module")
def site(tmp_path_factory, browser):
    notebooks = [FIXTURES / "positive_slider.ipynb", FIXTURES / "negative_slider.ipynb"]
    executed = {path.stem: build_docs.execute(path) for path in notebooks}
    out = tmp_path_factory.mktemp("docs") / "site"
    build_docs.build_site(notebooks, out, executed=executed)
    return out


def test_site_references_nothing_external(site):
    assert sorted(p.name for p in site.glob("*.html")) == [
        "index.html", "negative_slider.html", "positive_slider.html"]
    assert build_docs.external_references(site) == {}


def test_scrub_bar_changes_the_frame_offline(site, browser):
    page = site / "positive_slider.html"
    frames = [f.replace("\\\n", "") for f in FRAME.findall(page.read_text())]  # JS line breaks
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    result = build_docs.check_animation_offline(page, browser, ARTIFACTS / "docs-positive-scrubbed.png")
    assert result["requests"] == [] and result["page_errors"] == []
    assert result["frames"] == 6                      # frequency 1..6 of the first explorer
    assert result["start_frame"] == 1 and result["opened_on_start"]   # the notebook's value 2
    assert result["opened"] == frames[1] and result["first"] == frames[0]
    assert result["moved"] == frames[5] != frames[0]


def test_negative_control_scrub_bar_shows_the_same_frame(site, browser):
    """Its figure ignores the slider: the check that passes above must fail here."""
    result = build_docs.check_animation_offline(site / "negative_slider.html", browser)
    assert result["frames"] == 6 and result["first"] == result["moved"]
    problems = build_docs.check_site_in_browser(site, browser)
    assert problems == ["negative_slider.html: moving the scrub bar did not change the frame (6 frames)"]
