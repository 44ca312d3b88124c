"""axe-core on docs pages the real builder makes: no serious/critical violation, alt on every image.

The site is built from a fixture explorer notebook and a small notebook with a figure and a
solution region (its "Show solution" toggle); the negative control is matplotlib's own scrub-bar
page, whose frame image has no alt and whose range input no label (both "critical").
"""

from __future__ import annotations

import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

import nbformat
from browser_support import ARTIFACTS, FIXTURES

import build_docs  # noqa: E402  (tools/ is on sys.path: browser_support)
import docs_a11y  # noqa: E402

FIGURE = ("%matplotlib inline\nimport matplotlib.pyplot as plt\nfig, ax = plt.subplots()\n"
          "ax.plot([1, 2, 3]); ax.set_title('growth'); ax.set_xlabel('layer')\nplt.show()")
SOLUTION = "def f(x):\n    ### BEGIN SOLUTION\n    return x + 1\n    ### END SOLUTION\nprint(f(1))"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    folder = tmp_path_factory.mktemp("notebooks")
    lesson = folder / "07_lesson.ipynb"
    nbformat.write(new_notebook(cells=[
        new_markdown_cell("# A lesson\n\nWith a figure and an exercise."), new_code_cell(FIGURE),
        new_code_cell(SOLUTION, metadata={"nbgrader": {"solution": True, "grade_id": "07-f"}})]), lesson)
    notebooks = [FIXTURES / "positive_slider.ipynb", lesson]
    executed = {path.stem: build_docs.execute(path) for path in notebooks}
    out = tmp_path_factory.mktemp("docs") / "site"
    build_docs.build_site(notebooks, out, executed=executed)
    return out


def test_built_pages_pass_axe_and_have_alt_text(site, browser):
    summary, problems = docs_a11y.axe_site(site, browser, ARTIFACTS / "axe-docs-fixtures.json")
    assert problems == []
    assert sorted(summary["pages"]) == ["07_lesson.html", "index.html", "positive_slider.html"]
    lesson = (site / "07_lesson.html").read_text()
    assert 'alt="Figure: panel 1: growth (x: layer)"' in lesson
    assert "<summary>Show solution</summary>" in lesson and "VISUALSOLUTION" not in lesson


def test_negative_control_matplotlibs_scrub_bar_is_critical(tmp_path, browser):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.animation import FuncAnimation

    fig, ax = plt.subplots(figsize=(2, 2))
    (line,) = ax.plot([0, 1], [0, 1])
    raw = FuncAnimation(fig, lambda s: line.set_ydata([0, s]), frames=[1, 2]).to_jshtml()
    plt.close(fig)
    offline = build_docs.offline_jshtml(raw)               # icons offline, but still unlabelled
    (tmp_path / "raw.html").write_text(build_docs.page_html("raw", offline, "", ""))
    summary, problems = docs_a11y.axe_site(tmp_path, browser)
    assert summary["violations"]["critical"] >= 2
    assert any("'image-alt'" in p for p in problems) and any("'label'" in p for p in problems)
    (tmp_path / "raw.html").write_text(build_docs.page_html("fixed", docs_a11y.label_scrub_bar(offline), "", ""))
    assert docs_a11y.axe_site(tmp_path, browser)[1] == []
