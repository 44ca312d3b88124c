"""The docs builder's pure parts: maths, links, outputs, and the no-external-reference check."""

from __future__ import annotations

import base64
import re
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))  # tools/ is not a package
import build_docs  # noqa: E402

MATH_IMG = re.compile(r'<img class="math" alt="([^"]*)" style="vertical-align:-[\d.]+px" '
                      r'src="data:image/svg\+xml;base64,([^"]+)">')


def test_inline_and_display_maths_become_svg_images():
    math = build_docs.MathRenderer()
    out = build_docs.markdown_to_html(
        "Size $H_{out} = \\lfloor (H + 2p - k)/s \\rfloor + 1$ and\n\n$$k_{eff} = k + (k-1)(d-1)$$\n", math)
    images = MATH_IMG.findall(out)
    assert [alt for alt, _ in images] == ["H_{out} = \\lfloor (H + 2p - k)/s \\rfloor + 1",
                                          "k_{eff} = k + (k-1)(d-1)"]
    for _, data in images:
        svg = base64.b64decode(data)
        assert svg.lstrip().startswith(b"<?xml") and b"<svg" in svg and b"<path" in svg
    assert '<div class="math-display">' in out and "$" not in out
    assert math.rendered == 2 and not math.failed


def test_dollars_in_code_are_left_alone_and_unknown_tex_falls_back():
    math = build_docs.MathRenderer()
    out = build_docs.markdown_to_html("Run `echo $HOME $PATH` then $\\notamacro{x}$.", math)
    assert "<code>echo $HOME $PATH</code>" in out
    assert '<code class="tex">\\notamacro{x}</code>' in out and math.failed == ["\\notamacro{x}"]


def test_aligned_environment_renders_line_by_line():
    math = build_docs.MathRenderer()
    out = math(r"\begin{aligned} a &= b \\ c &= d \end{aligned}", display=True)
    assert [alt for alt, _ in MATH_IMG.findall(out)] == ["a = b", "c = d"]


def test_links_point_to_pages_and_external_links_become_text():
    markup = ('<p><a href="https://ipywidgets.readthedocs.io">ipywidgets</a>, '
              '<a href="02_output_stride.ipynb#3.-Cost">cost</a>, <code>01_dilation.ipynb</code>, '
              '<code>09_missing.ipynb</code>, <a href="#local">here</a>, <a href="../docs/teaching.md">guide</a></p>')
    out = build_docs.rewrite_links(markup, {"01_dilation.html", "02_output_stride.html"})
    assert 'ipywidgets <span class="offline-link">(https://ipywidgets.readthedocs.io)</span>' in out
    assert 'href="https://' not in out
    assert '<a href="02_output_stride.html#3.-Cost">cost</a>' in out
    assert '<a href="01_dilation.html"><code>01_dilation.ipynb</code></a>' in out
    assert "<code>09_missing.ipynb</code>" in out and "09_missing.html" not in out
    assert '<a href="#local">here</a>' in out
    assert 'guide <span class="offline-link">(in the repository: docs/teaching.md)</span>' in out


def _rendered(cells):
    from nbformat.v4 import new_notebook

    return build_docs.render_notebook(new_notebook(cells=cells), "page", build_docs.MathRenderer())


def test_outputs_render_statically_and_offline():
    from nbformat.v4 import new_code_cell, new_output

    widget = new_output("display_data", data={"text/plain": "VBox(children=(IntSlider(value=1),))",
                                              "application/vnd.jupyter.widget-view+json": {"model_id": "x"}})
    progress = new_output("display_data", data={"text/plain": "100%|##########| 3/3",
                                                "application/vnd.jupyter.widget-view+json": {"model_id": "y"}})
    png = base64.b64encode(b"\x89PNG fake").decode()
    image = new_output("display_data", data={"image/png": png, "text/plain": "<Figure>"})
    stream = new_output("stream", name="stdout", text="\x1b[31m<b>red</b>\x1b[0m")
    cdn = new_output("display_data", data={"text/html": (
        '<link rel="stylesheet" href="https://maxcdn.bootstrapcdn.com/font-awesome/4.4.0/css/font-awesome.min.css">'
        '<button><i class="fa fa-play"></i></button>')})
    maths = new_output("display_data", data={"text/markdown": "so $k_{eff} = 5$", "text/plain": "md"})
    page = _rendered([new_code_cell("show()", outputs=[widget, progress, image, stream, cdn, maths])])
    assert "run this notebook in JupyterLab" in page.body and "widget-view" not in page.body
    assert "100%|##########| 3/3" in page.body
    assert f'src="data:image/png;base64,{png}"' in page.body
    assert "&lt;b&gt;red&lt;/b&gt;" in page.body and "\x1b" not in page.body   # escaped, ANSI gone
    assert "https://" not in page.body and "<link" not in page.body      # the CDN link is dropped
    assert 'class="fa' not in page.body and "<button>\u25b6</button>" in page.body   # a text icon
    assert [alt for alt, _ in MATH_IMG.findall(page.body)] == ["k_{eff} = 5"]
    assert "<script" not in page.body and "$" not in page.body


def test_remove_cell_tag_drops_the_cell_and_maths_become_images():
    from nbformat.v4 import new_code_cell, new_markdown_cell

    page = _rendered([
        new_markdown_cell("# The title\n\nWith $a^2$ and\n\n$$b = c$$\n"),
        new_code_cell("kept_cell_marker = 1"),
        new_code_cell("changes = sweep(explorer)", metadata={"tags": ["remove-cell"]}),
    ])
    assert page.title == "The title" and page.animations == 0
    assert "kept_cell_marker" in page.body and "sweep" not in page.body
    assert [alt for alt, _ in MATH_IMG.findall(page.body)] == ["a^2", "b = c"]
    assert '<div class="math-display">' in page.body and "VISUALMATH" not in page.body


def test_page_shell_is_self_contained(tmp_path):
    (tmp_path / "index.html").write_text(build_docs.page_html("T", "<p>body</p>", "", "footer"))
    assert build_docs.external_references(tmp_path) == {}


def _site(tmp_path: Path, body: str) -> Path:
    (tmp_path / "local.png").write_bytes(b"png")
    (tmp_path / "page.html").write_text(f"<html><head></head><body>{body}</body></html>")
    return tmp_path


@pytest.mark.parametrize("body", [
    '<script src="https://cdn.example.org/require.js"></script>',
    '<link rel="stylesheet" href="//fonts.example.org/css">',
    '<img src="http://example.org/x.png">',
    '<style>@import "https://example.org/a.css";</style>',
    '<style>.a { background: url(https://example.org/b.png) }</style>',
    '<div style="background-image: url(\'http://example.org/c.png\')"></div>',
    '<script>var s = document.createElement("script"); s.src = "https://unpkg.com/x.js";</script>',
    '<a href="https://example.org/paper.pdf">paper</a>',
    '<img srcset="local.png 1x, https://example.org/2x.png 2x">',
    '<img src="missing.png">',
    '<img src="/etc/passwd">',
])
def test_external_references_are_found(tmp_path, body):
    found = build_docs.external_references(_site(tmp_path, body))
    assert list(found) == ["page.html"] and len(found["page.html"]) == 1, found


def test_self_contained_page_passes(tmp_path):
    body = ('<img src="local.png"><img src="data:image/png;base64,AAAA"><a href="#top">top</a>'
            '<a href="local.png">download</a><style>.a { color: red }</style>'
            '<script>var x = 1 / 2;</script><p>Plain text naming https://example.org is not a reference.</p>')
    assert build_docs.external_references(_site(tmp_path, body)) == {}


def test_builds_explorer_spots_explorer_notebooks():
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

    assert build_docs.builds_explorer(new_notebook(cells=[new_code_cell("explorer = explore_rf(k=3)")]))
    assert build_docs.builds_explorer(new_notebook(cells=[new_code_cell("Explorer(box, {}, fig, f)")]))
    assert not build_docs.builds_explorer(new_notebook(cells=[
        new_markdown_cell("Call `explore_rf(...)` later"), new_code_cell("print(1)")]))


@pytest.mark.parametrize("tex", [r"M_2 \le K", r"a > 0 \iff b", r"X_i = (i + \frac12)\,H/h - \frac12",
                                 "n = \\left\\lfloor \\frac{n-1}{2} \\right\\rfloor\n= \\left\\lceil \\frac{n}{2} \\right\\rceil",
                                 r"\tfrac{1}{2} \ne \dfrac{1}{3}"])
def test_common_tex_that_mathtext_lacks_is_rewritten(tex):
    math = build_docs.MathRenderer()
    out = math(tex, display=False)
    assert math.failed == [] and math.rendered == 1 and out.startswith('<img class="math"')


def test_solutions_fold_behind_a_show_solution_toggle():
    from nbformat.v4 import new_code_cell

    source = ('def rf(layers):\n    """Doc stays."""\n    ### BEGIN SOLUTION\n    total_marker = 1\n'
              "    return total_marker\n    ### END SOLUTION\n\nprint(rf([3]))")
    page = _rendered([new_code_cell(source, metadata={"nbgrader": {"solution": True, "grade_id": "01-x"}})])
    assert page.body.count('<details class="solution"><summary>Show solution</summary>') == 1
    shown, hidden = page.body.split("<details", 1)
    assert "Doc stays." in shown and "total_marker" not in shown
    hidden, after = hidden.split("</details>", 1)
    assert hidden.count("total_marker") == 2 and "print" in after
    assert "BEGIN SOLUTION" not in page.body and "VISUALSOLUTION" not in page.body
    top = _rendered([new_code_cell("### BEGIN SOLUTION\nanswer_marker = 31\n### END SOLUTION",
                                   metadata={"nbgrader": {"solution": True, "grade_id": "01-y"}})])
    assert top.body.count("<summary>Show solution</summary>") == 1 and "VISUALSOLUTION" not in top.body
    assert top.body.split("<details")[0].count("answer_marker") == 0 and "answer_marker" in top.body


def test_figures_get_their_description_as_alt_text_and_scrub_bars_a_label(tmp_path):
    import matplotlib.pyplot as plt
    from nbformat.v4 import new_code_cell, new_output

    import docs_a11y

    with plt.ioff():
        fig, axes = plt.subplots(1, 2)
    fig.suptitle("Receptive field $r$")
    axes[0].set_title("growth")
    axes[0].set_xlabel("layer")
    assert docs_a11y.describe_figure(fig) == "Figure: Receptive field r; panel 1: growth (x: layer)"
    plt.close(fig)
    png = base64.b64encode(b"\x89PNG fake").decode()
    image = new_output("display_data", data={"image/png": png, "text/plain": "Figure: a <c>"})
    page = _rendered([new_code_cell("plot()", outputs=[image])])
    assert f'<img alt="Figure: a &lt;c&gt;" src="data:image/png;base64,{png}"' in page.body
    scrub = ('<img id="_anim_img1"><input id="_anim_slider1" type="range">'
             '<form title="Repetition mode" aria-label="Repetition mode" action="#n" name="_anim_loop_select1">')
    assert docs_a11y.label_scrub_bar(scrub, "x") == (
        '<img alt="Frame of the x" id="_anim_img1"><input aria-label="Frame of the x" id="_anim_slider1" type="range">'
        '<form title="Repetition mode" aria-label="Repetition mode of animation 1" action="#n" name="_anim_loop_select1">')
    (tmp_path / "p.html").write_text('<img alt="ok" src="a"><img src="b"><img alt="" src="c">'
                                     f'<img alt="{docs_a11y.NBCONVERT_PLACEHOLDER}" src="d">')
    assert docs_a11y.images_without_alt(tmp_path / "p.html") == ["b", "c", "d"]


def test_tracebacks_lose_their_colours_for_contrast():
    from nbformat.v4 import new_code_cell, new_output

    error = new_output("error", ename="ValueError", evalue="bad",
                       traceback=["\x1b[38;5;28mCell\x1b[0m In[3], line 1", "\x1b[31mValueError\x1b[0m: bad"])
    page = _rendered([new_code_cell("raise ValueError('bad')", outputs=[error])])
    assert "ValueError" in page.body and "Cell In[3]" in page.body
    assert "ansi-" not in page.body and "color: rgb" not in page.body
