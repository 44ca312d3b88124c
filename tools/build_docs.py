"""Build the course's static documentation: every notebook executed, readable with no kernel.

    python tools/build_docs.py                      # all of notebooks/*.ipynb -> build/docs/
    python tools/build_docs.py --out /tmp/site notebooks/01_dilation_receptive_field.ipynb

Each notebook is executed (nbclient) with the inline backend and a first cell, added here and
left off the page, that runs ``docs_animation.install()``: every displayed ``visual`` explorer
then renders as a scrub-bar animation (``tools/docs_animation.py``) instead of live widgets.
Each solution region (nbgrader's ``### BEGIN SOLUTION`` lines) is folded behind a "Show
solution" ``<details>`` toggle. nbconvert's ``HTMLExporter`` (the ``basic`` template, inside this
site's own small page shell) renders the cells; its ``TagRemovePreprocessor`` drops cells tagged
``remove-cell`` (the CI sweep cells). ``OfflinePreprocessor`` keeps every page self-contained:
maths is typeset here with matplotlib's mathtext as SVG images (no MathJax CDN), matplotlib's
Font Awesome link is dropped, widget outputs become a short note, and links to other sites are
turned into plain text. The result is then checked, and the build fails loudly when a page
references anything off the site:

* statically: no attribute, stylesheet or script of any page points outside the site;
* in headless Chromium with every network request blocked: each page with an animation
  loads, makes no request, and moving the scrub bar changes the frame shown;
* accessibility (``docs_a11y``): axe-core on every page finds no "serious" or "critical"
  violation, and every image has alt text (a figure's is made of its titles and axis labels);
  the counts by impact go to ``test-artifacts/axe-docs.json``.

The index page is the course map of ``00_start_here.ipynb`` with links to the pages.
"""

from __future__ import annotations

import argparse
import datetime as dt
import html
import json
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat
from nbclient import NotebookClient
from nbconvert import HTMLExporter
from nbconvert.preprocessors import Preprocessor
from pygments.formatters import HtmlFormatter
from tqdm.auto import tqdm
from traitlets.config import Config

import headless_chromium
from docs_check import (EXTERNAL, browser_checks, check_animation_offline,  # noqa: F401 (re-exported)
                        check_site_in_browser, external_references, site_size)
from docs_math import MathRenderer, markdown_to_html, stash_maths, unstash_maths
from docs_a11y import label_scrub_bar
from docs_animation import offline_jshtml
from docs_solutions import fold_solutions, unfold_solutions
from student_edition import BEGIN, END

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "build" / "docs"
AXE_REPORT = ROOT / "test-artifacts" / "axe-docs.json"
NOTEBOOK_DIR = ROOT / "notebooks"
COURSE_MAP_NOTEBOOK = "00_start_here.ipynb"
SITE_TITLE = "The geometry of semantic-segmentation networks"
REMOVE_TAG = "remove-cell"    # cells the pages (and a student edition) leave out: the CI sweeps
CELL_TIMEOUT_S = 900          # notebook 04 trains for ~90 s in one cell on a laptop CPU
# Every %matplotlib line is commented out in the copy that runs: the setup cell selects the inline
# backend once, because each %matplotlib call drops the formatters registered for Figure.
MATPLOTLIB_MAGIC = re.compile(r"^([ \t]*)(%matplotlib\b.*)$", re.MULTILINE)
INLINE_BACKEND = r"\1# \2  (docs: the inline backend is set by the setup cell)"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_REPR = re.compile(r"^[A-Z]\w*\((children|value|toolbar|layout|options|description)=")
WIDGET_NOTE = ('<p class="widget-note">Interactive widget: run this notebook in JupyterLab '
               "(<code>make lab</code>) to use it.</p>")


# --- executing --------------------------------------------------------------------------------

def builds_explorer(nb: nbformat.NotebookNode) -> bool:
    """Does any code cell build a slider explorer (``explore_...(`` or ``Explorer(``)?"""
    return any(cell.cell_type == "code" and ("explore_" in cell.source or "Explorer(" in cell.source)
               for cell in nb.cells)


DOCS_SETUP = ("%matplotlib inline\n"
              f"import sys\nsys.path.insert(0, {str(Path(__file__).resolve().parent)!r})\n"
              "import docs_a11y, docs_animation\ndocs_animation.install()\ndocs_a11y.install_figure_alt()")


def execute(path: Path, timeout: int = CELL_TIMEOUT_S) -> nbformat.NotebookNode:
    """Run a notebook for the docs: inline figures, explorers as animations (``DOCS_SETUP``).

    The notebook on disk is not changed; in the copy that runs, ``%matplotlib`` lines become
    comments (the setup cell selects the inline backend), and widget state is not stored (it would need a widget CDN to show).
    The added first cell is removed again after the run (and execution counts shifted back).
    """
    nb = nbformat.read(path, as_version=4)
    nb.metadata.pop("widgets", None)
    sources = {}
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "code" and MATPLOTLIB_MAGIC.search(cell.source):
            sources[index] = cell.source
            cell.source = MATPLOTLIB_MAGIC.sub(INLINE_BACKEND, cell.source)
    os.environ.pop("MPLBACKEND", None)
    nb.cells.insert(0, nbformat.v4.new_code_cell(DOCS_SETUP))
    NotebookClient(nb, timeout=timeout, kernel_name="python3", store_widget_state=False,
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    nb.cells.pop(0)
    for cell in nb.cells:
        if cell.cell_type == "code" and cell.get("execution_count"):
            cell.execution_count -= 1
            for output in cell.outputs:
                if output.get("execution_count"):
                    output.execution_count -= 1
    for index, source in sources.items():    # the page shows the code as the student runs it
        nb.cells[index].source = source
    return nb


# --- links ------------------------------------------------------------------------------------

_ANCHOR = re.compile(r'<a\s+[^>]*?href="([^"]*)"[^>]*>(.*?)</a>', re.DOTALL | re.IGNORECASE)
_NOTEBOOK_CODE = re.compile(r"(?<!\">)<code>((\d\d)_[\w-]+)\.ipynb</code>")  # not already a link


def rewrite_links(markup: str, pages: set[str]) -> str:
    """Notebook links point at their pages; links to other sites become plain text + address."""

    def anchor(match: re.Match[str]) -> str:
        href, text = match.group(1), match.group(2)
        if EXTERNAL.match(href) or href.lower().startswith(("http:", "https:")):
            shown = html.escape(html.unescape(href))
            return f'{text} <span class="offline-link">({shown})</span>'
        path, hash_, fragment = href.partition("#")
        if path.startswith("../"):  # a repository file outside notebooks/ (e.g. the teacher's guide)
            return f'{text} <span class="offline-link">(in the repository: {html.escape(path[3:])})</span>'
        if not path.endswith(".ipynb"):
            return match.group(0)
        target = f"{Path(path).stem}.html" + (hash_ + fragment)
        return match.group(0).replace(f'href="{href}"', f'href="{target}"')

    markup = _ANCHOR.sub(anchor, markup)

    def code(match: re.Match[str]) -> str:
        stem = match.group(1)
        if f"{stem}.html" in pages:
            return f'<a href="{stem}.html"><code>{stem}.ipynb</code></a>'
        return match.group(0)

    return _NOTEBOOK_CODE.sub(code, markup)


# --- notebook to HTML -------------------------------------------------------------------------

def _text(value: Any) -> str:
    return "".join(value) if isinstance(value, list) else str(value)


def offline_output(output: dict[str, Any], math: MathRenderer, rendered: dict[str, str]) -> dict[str, Any]:
    """One cell output made static and self-contained (changed in place and returned).

    HTML loses CDN links (``offline_jshtml``); a live widget becomes a note pointing at
    JupyterLab (a widget that also prints text, such as a progress bar, keeps the text);
    markdown maths is stashed like a markdown cell's; LaTeX becomes an SVG image.
    """
    data = output.get("data")
    if not data:
        return output
    data.pop("application/javascript", None)
    if WIDGET_VIEW in data:
        del data[WIDGET_VIEW]
        plain = _text(data.get("text/plain", ""))
        if not plain or WIDGET_REPR.match(plain):
            output["data"] = data = nbformat.from_dict({"text/html": WIDGET_NOTE})
    image = next((kind for kind in ("image/png", "image/jpeg") if kind in data), None)
    if image and "text/html" not in data:  # the figure's description (docs_a11y) as its alt text
        alt = html.escape(_text(data.get("text/plain", "")).strip() or "Figure", quote=True)
        data["text/html"] = f'<img alt="{alt}" src="data:{image};base64,{_text(data[image]).strip()}">'
    if "text/html" in data:
        data["text/html"] = label_scrub_bar(offline_jshtml(_text(data["text/html"])))
    elif "text/markdown" in data:
        data["text/markdown"] = stash_maths(_text(data["text/markdown"]), math, rendered)
    elif "text/latex" in data:
        data["text/html"] = math(_text(data.pop("text/latex")).strip().strip("$"), True)
    return output


ANSI_COLOUR = re.compile(r"\x1b\[[0-9;]*m")
class OfflinePreprocessor(Preprocessor):
    """Maths to SVG (via tokens), solutions folded, outputs offline: run by ``HTMLExporter`` after TagRemove."""

    def __init__(self, math: MathRenderer, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.math = math
        self.rendered: dict[str, str] = {}
        self.folded: list[str] = []

    def preprocess_cell(self, cell: Any, resources: dict, index: int) -> tuple[Any, dict]:
        if cell.cell_type == "markdown":
            cell.source = stash_maths(cell.source, self.math, self.rendered)
        elif cell.cell_type == "code":
            if BEGIN in cell.source or END in cell.source:
                cell.source = fold_solutions(cell.source, f"cell {index}", self.folded)
            cell.outputs = [offline_output(o, self.math, self.rendered) for o in cell.get("outputs", [])]
            for output in cell.outputs:  # IPython's 256-colour tracebacks fail contrast on the error background
                if output.get("output_type") == "error":
                    output.traceback = [ANSI_COLOUR.sub("", line) for line in output.traceback]
        return cell, resources


@dataclass
class Page:
    """One built notebook page."""

    stem: str
    title: str
    body: str
    animations: int


def notebook_title(nb: nbformat.NotebookNode, fallback: str) -> str:
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            match = re.search(r"^#\s+(.+)$", cell.source, re.MULTILINE)
            if match:
                return match.group(1).strip()
    return fallback


def render_notebook(nb: nbformat.NotebookNode, stem: str, math: MathRenderer,
                    path: Path = NOTEBOOK_DIR) -> Page:
    """The cells of an executed notebook as an HTML fragment (nbconvert, ``basic`` template)."""
    config = Config()
    config.TagRemovePreprocessor.enabled = True
    config.TagRemovePreprocessor.remove_cell_tags = {REMOVE_TAG}
    exporter = HTMLExporter(config=config, template_name="basic", embed_images=True)
    offline = OfflinePreprocessor(math)
    exporter.register_preprocessor(offline, enabled=True)
    nb = nbformat.from_dict(json.loads(json.dumps(nb)))  # the exporter edits cells: work on a copy
    body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"path": str(path)}})
    body = unfold_solutions(unstash_maths(body, offline.rendered), offline.folded)
    return Page(stem, notebook_title(nb, stem), body, body.count('class="visual-explorer-animation"'))


# --- site -------------------------------------------------------------------------------------

CSS = (Path(__file__).resolve().parent / "docs_site.css").read_text(encoding="utf-8")


def page_html(title: str, body: str, nav: str, footer: str) -> str:
    """The site's page shell around one body: inline CSS, no script, no external resource."""
    pygments_css = HtmlFormatter(style="default").get_style_defs(".highlight")
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)} · {html.escape(SITE_TITLE)}</title>
<style>{CSS}
{pygments_css}</style>
</head>
<body>
<header class="site"><a class="brand" href="index.html">{html.escape(SITE_TITLE)}</a><nav aria-label="Course">{nav}</nav></header>
<main>
{body}
<footer class="site">{footer}</footer>
</main>
</body>
</html>
"""


def _git_revision() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                              text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def course_map(nb: nbformat.NotebookNode | None, math: MathRenderer, pages: set[str]) -> str:
    """The course-map section of the start-here notebook (the markdown cell naming the notebooks)."""
    for cell in nb.cells if nb is not None else []:
        if cell.cell_type == "markdown" and "course map" in cell.source.lower() and ".ipynb" in cell.source:
            source = re.sub(r"^##\s+\d+\.\s*", "## ", cell.source, flags=re.MULTILINE)
            return rewrite_links(markdown_to_html(source, math), pages)
    return ""


def build_site(notebooks: list[Path], out: Path, *, executed: dict[str, nbformat.NotebookNode]) -> dict[str, Any]:
    """Write index.html + one page per notebook (+ the source notebooks) into ``out``."""
    math = MathRenderer()
    if out.exists():
        shutil.rmtree(out)
    (out / "notebooks").mkdir(parents=True)
    stems = [p.stem for p in notebooks]
    page_names = {f"{s}.html" for s in stems}
    built = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    revision = _git_revision()
    pages = []
    for index, path in enumerate(notebooks):
        page = render_notebook(executed[path.stem], path.stem, math, path.parent)
        pages.append(page)
        shutil.copy(path, out / "notebooks" / path.name)
        previous = stems[index - 1] if index > 0 else None
        following = stems[index + 1] if index + 1 < len(stems) else None
        nav = '<a href="index.html">Course map</a>'
        nav += f' <a href="{previous}.html">&larr; {previous}</a>' if previous else ""
        nav += f' <a href="{following}.html">{following} &rarr;</a>' if following else ""
        pager = ('<nav class="pager" aria-label="Previous and next page">'
                 + (f'<a href="{previous}.html">&larr; previous</a>' if previous else "<span></span>")
                 + (f'<a href="{following}.html">next &rarr;</a>' if following else "<span></span>")
                 + "</nav>")
        footer = (f'Executed from <a href="notebooks/{path.name}">notebooks/{path.name}</a> '
                  f"(download it and run <code>make lab</code> for the live sliders) on {built}, "
                  f"revision {revision}. Interactive figures are shown as scrub-bar animations.")
        body = rewrite_links(page.body, page_names) + pager
        (out / f"{path.stem}.html").write_text(page_html(page.title, body, nav, footer), encoding="utf-8")
    start = executed.get(Path(COURSE_MAP_NOTEBOOK).stem)
    items = "".join(f'<li><a href="{p.stem}.html">{html.escape(p.title)}</a> '
                    f'<span class="offline-link">({p.stem}.ipynb, {p.animations} interactive '
                    f'figure{"s" if p.animations != 1 else ""})</span></li>' for p in pages)
    index_body = (f"<h1>{html.escape(SITE_TITLE)}</h1>"
                  "<p>Interactive teaching notebooks on receptive fields, dilation, output stride, "
                  "interpolation and PSPNet, executed and published as static pages. Every slider "
                  "explorer is shipped as a scrub-bar animation: drag the bar under a figure to see "
                  "it change, no kernel needed. To use the live sliders, clone the course and run "
                  "<code>make lab</code>.</p>"
                  + course_map(start, math, page_names)
                  + f"<h2>Pages</h2><ol>{items}</ol>")
    (out / "index.html").write_text(
        page_html("Course map", index_body, '<a href="index.html">Course map</a>',
                  f"Built on {built} from revision {revision}."), encoding="utf-8")
    return {"pages": [p.stem for p in pages], "animations": {p.stem: p.animations for p in pages},
            "math_rendered": math.rendered, "math_failed": math.failed}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: notebooks/*.ipynb")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="site folder (default build/docs)")
    parser.add_argument("--timeout", type=int, default=CELL_TIMEOUT_S, help="seconds per cell")
    parser.add_argument("--no-browser-check", action="store_true",
                        help="skip the offline Chromium check (the static URL check always runs)")
    args = parser.parse_args(argv)
    notebooks = sorted(args.notebooks or NOTEBOOK_DIR.glob("*.ipynb"))
    if not notebooks:
        parser.error("no notebooks to build")
    executed = {}
    start = time.monotonic()
    for path in tqdm(notebooks, desc="executing notebooks", unit="notebook"):
        tick = time.monotonic()
        executed[path.stem] = execute(path, args.timeout)
        tqdm.write(f"  {path.name}: executed in {time.monotonic() - tick:.0f} s")
    summary = build_site(notebooks, args.out, executed=executed)
    problems = [f"{stem}.html: the notebook builds explorers but no animation was rendered "
                "(display the Explorer object itself, not explorer.widget)"
                for stem, count in summary["animations"].items()
                if count == 0 and builds_explorer(executed[stem])]
    if summary["math_failed"]:
        print(f"warning: {len(summary['math_failed'])} formulas shown as TeX source "
              f"(mathtext cannot typeset them): {summary['math_failed']}")
    problems += [f"{page}: references {urls}" for page, urls in external_references(args.out).items()]
    if not args.no_browser_check:
        reason = headless_chromium.missing_reason()
        if reason:
            print(f"warning: offline browser check skipped: {reason}")
        else:
            problems += browser_checks(args.out, AXE_REPORT)
    size = site_size(args.out)
    (args.out / "build.json").write_text(json.dumps({**summary, "bytes": size}, indent=1))
    if problems:
        print("docs check FAILED:\n  " + "\n  ".join(problems), file=sys.stderr)
        return 1
    print(f"docs: {len(notebooks)} pages + index in {args.out} ({size / 1e6:.1f} MB, "
          f"{sum(summary['animations'].values())} animations, {summary['math_rendered']} formulas) "
          f"in {time.monotonic() - start:.0f} s; no external reference")
    return 0


if __name__ == "__main__":
    sys.exit(main())
