"""Build the course's static documentation: every notebook executed, readable with no kernel.

    python tools/build_docs.py                      # all of notebooks/*.ipynb -> build/docs/
    python tools/build_docs.py --out /tmp/site notebooks/01_dilation_receptive_field.ipynb

Each notebook is executed (nbclient) with ``VISUAL_DOCS=1`` and the inline backend, so every
displayed ``visual`` explorer renders as a scrub-bar animation (``Explorer.to_jshtml``: a
handful of frames over a slider's range) instead of live widgets. The pages are plain HTML
with inline CSS, PNG/SVG data URIs and inline scripts only: maths is typeset here with
matplotlib's mathtext (no MathJax CDN), matplotlib's Font Awesome link is dropped, and links
to other sites are turned into plain text. The result is then checked, and the build fails
loudly when a page references anything off the site:

* statically: no attribute, stylesheet or script of any page points outside the site;
* in headless Chromium with every network request blocked: each page with an animation
  loads, makes no request, and moving the scrub bar changes the frame shown.

The index page is the course map of ``00_start_here.ipynb`` with links to the pages.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import html
import io
import json
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import nbformat

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "build" / "docs"
NOTEBOOK_DIR = ROOT / "notebooks"
COURSE_MAP_NOTEBOOK = "00_start_here.ipynb"
SITE_TITLE = "The geometry of semantic-segmentation networks"
CELL_TIMEOUT_S = 900          # notebook 04 trains for ~90 s in one cell on a laptop CPU
MATH_FONT_PT = 12.0           # body text is 16 px = 12 pt, so maths matches it
PX_PER_PT = 4 / 3             # CSS: 96 px per inch, 72 pt per inch
INLINE_BACKEND = "%matplotlib inline"
WIDGET_BACKEND = re.compile(r"^[ \t]*%matplotlib[ \t]+(widget|ipympl)[ \t]*$", re.MULTILINE)
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
WIDGET_REPR = re.compile(r"^[A-Z]\w*\((children|value|toolbar|layout|options|description)=")
EXTERNAL = re.compile(r"^\s*(?:[a-z][a-z0-9+.-]*:)?//", re.IGNORECASE)   # http://, https://, //host
SAFE_SCHEMES = ("data:", "#", "mailto:", "javascript:")
URL_ATTRIBUTES = {"href", "src", "srcset", "action", "formaction", "poster", "data", "background",
                  "xlink:href", "manifest", "cite", "longdesc", "usemap", "ping", "icon"}
CSS_URL = re.compile(r"url\(\s*['\"]?\s*([^'\")\s]+)|@import\s+['\"]([^'\"]+)", re.IGNORECASE)


# --- executing --------------------------------------------------------------------------------

def builds_explorer(nb: nbformat.NotebookNode) -> bool:
    """Does any code cell build a slider explorer (``explore_...(`` or ``Explorer(``)?"""
    return any(cell.cell_type == "code" and ("explore_" in cell.source or "Explorer(" in cell.source)
               for cell in nb.cells)


def execute(path: Path, timeout: int = CELL_TIMEOUT_S) -> nbformat.NotebookNode:
    """Run a notebook for the docs: inline figures, explorers as animations (``VISUAL_DOCS=1``).

    The notebook on disk is not changed; ``%matplotlib widget`` becomes ``%matplotlib inline`` in
    the copy that runs, and stored widget state is dropped (it would need a widget CDN to show).
    """
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    nb.metadata.pop("widgets", None)
    sources = {}
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "code" and WIDGET_BACKEND.search(cell.source):
            sources[index] = cell.source
            cell.source = WIDGET_BACKEND.sub(INLINE_BACKEND, cell.source)
    os.environ["VISUAL_DOCS"] = "1"          # inherited by the kernel nbclient starts
    os.environ.pop("MPLBACKEND", None)
    NotebookClient(nb, timeout=timeout, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    for index, source in sources.items():    # the page shows the code as the student runs it
        nb.cells[index].source = source
    return nb


# --- maths ------------------------------------------------------------------------------------

# TeX that mathtext lacks, rewritten to what it has (same glyphs): (pattern, replacement).
_TEX_REWRITES = [
    (r"\\[td]frac(?![a-zA-Z])", r"\\frac"),
    (r"\\frac\s*(\d)\s*(\d)", r"\\frac{\1}{\2}"),      # \frac12 -> \frac{1}{2}
    (r"\\(displaystyle|limits|[bB]igg?[lr]?)(?![a-zA-Z])", ""),
    (r"\\le(?![a-zA-Z])", r"\\leq"), (r"\\ge(?![a-zA-Z])", r"\\geq"),
    (r"\\ne(?![a-zA-Z])", r"\\neq"), (r"\\iff(?![a-zA-Z])", r"\\Leftrightarrow"),
    (r"\\implies(?![a-zA-Z])", r"\\Rightarrow"), (r"\\[lr]vert(?![a-zA-Z])", "|"),
    (r"\\!", ""), (r"\s*\n\s*", " "),                    # mathtext typesets one line
]
_ALIGNED = re.compile(r"\\begin\{(aligned|align\*?|gathered|split)\}(.*?)\\end\{\1\}", re.DOTALL)


@dataclass
class MathRenderer:
    """TeX to self-contained SVG images (matplotlib mathtext), with a plain-code fallback."""

    rendered: int = 0
    failed: list[str] = field(default_factory=list)

    def _svg(self, tex: str) -> tuple[str, float]:
        import matplotlib as mpl
        from matplotlib.font_manager import FontProperties
        from matplotlib.mathtext import math_to_image

        buffer = io.BytesIO()
        with mpl.rc_context({"svg.hashsalt": "visual-docs", "mathtext.fontset": "dejavusans"}):
            depth = math_to_image(f"${tex}$", buffer, prop=FontProperties(size=MATH_FONT_PT),
                                  dpi=72, format="svg")
        svg = re.sub(rb"<metadata>.*?</metadata>", b"", buffer.getvalue(), flags=re.DOTALL)
        return base64.b64encode(svg).decode("ascii"), float(depth or 0.0)

    def __call__(self, tex: str, display: bool) -> str:
        tex = tex.strip()
        match = _ALIGNED.fullmatch(tex)
        lines = [line.replace("&", "") for line in match.group(2).split(r"\\")] if match else [tex]
        images = []
        for line in lines:
            for pattern, replacement in _TEX_REWRITES:
                line = re.sub(pattern, replacement, line)
            line = line.strip()
            if not line:
                continue
            try:
                data, depth = self._svg(line)
            except Exception:  # mathtext raises ValueError (and pyparsing errors) on unknown TeX
                self.failed.append(line)
                images.append(f'<code class="tex">{html.escape(line)}</code>')
                continue
            self.rendered += 1
            images.append(f'<img class="math" alt="{html.escape(line, quote=True)}" '
                          f'style="vertical-align:-{depth * PX_PER_PT:.1f}px" '
                          f'src="data:image/svg+xml;base64,{data}">')
        if display:
            return '<div class="math-display">' + "<br>".join(images) + "</div>"
        return "".join(images)


_CODE = re.compile(r"(```.*?```|~~~.*?~~~|`[^`\n]+`)", re.DOTALL)
_MATH = re.compile(r"\$\$(.+?)\$\$|(?<![\\$\w])\$(?!\s)([^$\n]+?)(?<![\s\\])\$(?!\w)", re.DOTALL)


def markdown_to_html(source: str, math: MathRenderer) -> str:
    """Markdown (with ``$...$`` / ``$$...$$`` maths) to HTML with the maths as images."""
    from nbconvert.filters.markdown_mistune import markdown2html_mistune

    rendered: dict[str, str] = {}

    def stash(match: re.Match[str]) -> str:
        key = f"VISUALMATH{len(rendered)}X"
        display = match.group(1) is not None
        rendered[key] = math(match.group(1) if display else match.group(2), display)
        return f"\n\n{key}\n\n" if display else key

    parts = _CODE.split(source)  # odd parts are code: no maths there
    text = "".join(part if i % 2 else _MATH.sub(stash, part) for i, part in enumerate(parts))
    out = markdown2html_mistune(text)
    for key, value in rendered.items():
        out = out.replace(f"<p>{key}</p>", value).replace(key, value)
    return out


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


def _highlight(source: str) -> str:
    from pygments import highlight
    from pygments.formatters import HtmlFormatter

    try:
        from ipython_pygments_lexers import IPython3Lexer as Lexer
    except ImportError:  # pragma: no cover - IPython < 8.19
        from pygments.lexers import PythonLexer as Lexer
    return highlight(source, Lexer(), HtmlFormatter(cssclass="highlight", nowrap=False))


def render_output(output: dict[str, Any], math: MathRenderer) -> str:
    """One cell output as HTML (richest static form; live widgets get a short note)."""
    from visual.widgets.core import offline_jshtml

    kind = output.get("output_type")
    if kind == "stream":
        css = "stderr" if output.get("name") == "stderr" else "stdout"
        return f'<pre class="output {css}">{html.escape(ANSI.sub("", _text(output["text"])))}</pre>'
    if kind == "error":
        trace = ANSI.sub("", "\n".join(output.get("traceback", [])))
        return f'<pre class="output error">{html.escape(trace)}</pre>'
    data = output.get("data", {})
    if "text/html" in data:
        return f'<div class="output html">{offline_jshtml(_text(data["text/html"]))}</div>'
    for mime in ("image/svg+xml", "image/png", "image/jpeg", "image/gif"):
        if mime in data:
            payload = _text(data[mime])
            if mime == "image/svg+xml":
                payload = base64.b64encode(payload.encode()).decode("ascii")
            alt = html.escape(_text(data.get("text/plain", "figure")), quote=True)
            return f'<div class="output image"><img alt="{alt}" src="data:{mime};base64,{payload.strip()}"></div>'
    if "text/markdown" in data:
        return f'<div class="output markdown">{markdown_to_html(_text(data["text/markdown"]), math)}</div>'
    if "text/latex" in data:
        return f'<div class="output latex">{math(_text(data["text/latex"]).strip("$"), True)}</div>'
    plain = _text(data.get("text/plain", ""))
    if "application/vnd.jupyter.widget-view+json" in data and (not plain or WIDGET_REPR.match(plain)):
        return ('<p class="output widget-note">Interactive widget: run this notebook in JupyterLab '
                "(<code>make lab</code>) to use it.</p>")
    if plain:
        return f'<pre class="output plain">{html.escape(ANSI.sub("", plain))}</pre>'
    return ""


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


def render_notebook(nb: nbformat.NotebookNode, stem: str, math: MathRenderer) -> Page:
    """The cells of an executed notebook as an HTML fragment."""
    parts = []
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            parts.append(f'<section class="cell markdown">{markdown_to_html(cell.source, math)}</section>')
        elif cell.cell_type == "code" and cell.source.strip():
            outputs = "".join(render_output(o, math) for o in cell.get("outputs", []))
            count = cell.get("execution_count") or " "
            parts.append(
                f'<section class="cell code"><div class="input"><span class="prompt">[{count}]:</span>'
                f"{_highlight(cell.source)}</div>"
                + (f'<div class="outputs">{outputs}</div>' if outputs else "") + "</section>")
    body = "\n".join(parts)
    return Page(stem, notebook_title(nb, stem), body, body.count('class="visual-explorer-animation"'))


# --- site -------------------------------------------------------------------------------------

CSS = """
:root { --fg: #1d1d1f; --muted: #5a5a5f; --line: #d8d8dc; --code-bg: #f6f7f9; --accent: #0b5cad; }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.55 system-ui, -apple-system, "Segoe UI", "DejaVu Sans", sans-serif;
       color: var(--fg); background: #fff; }
header.site { border-bottom: 1px solid var(--line); padding: .6rem 1.2rem; display: flex;
              gap: 1.2rem; align-items: baseline; flex-wrap: wrap; background: #fafafa; }
header.site .brand { font-weight: 600; color: var(--fg); text-decoration: none; }
header.site nav a { margin-right: 1rem; color: var(--accent); }
main { max-width: 60rem; margin: 0 auto; padding: 1rem 1.2rem 4rem; }
a { color: var(--accent); }
h1, h2, h3 { line-height: 1.25; }
.anchor-link { visibility: hidden; margin-left: .3em; text-decoration: none; }
h1:hover .anchor-link, h2:hover .anchor-link, h3:hover .anchor-link { visibility: visible; }
table { border-collapse: collapse; margin: 1rem 0; }
th, td { border: 1px solid var(--line); padding: .35rem .6rem; vertical-align: top; text-align: left; }
th { background: #f0f1f4; }
code, pre { font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: .88em; }
pre { overflow-x: auto; }
.cell.code { margin: 1rem 0; }
.cell.code .input { position: relative; background: var(--code-bg); border: 1px solid var(--line);
                    border-radius: 4px; padding: .1rem .8rem; }
.cell.code .prompt { position: absolute; right: .5rem; top: .3rem; color: var(--muted); font-size: .75em; }
.highlight pre { margin: .5rem 0; }
.outputs { padding: .4rem 0 .4rem .8rem; border-left: 3px solid var(--line); margin-top: .3rem; }
pre.output { margin: .3rem 0; white-space: pre-wrap; }
pre.output.stderr { background: #fff4e5; padding: .3rem; }
pre.output.error { background: #fdecea; padding: .3rem; }
.output.image img, .output.html img { max-width: 100%; height: auto; }
.math-display { text-align: center; margin: .8rem 0; overflow-x: auto; }
img.math { max-width: none; }
code.tex { background: var(--code-bg); }
.offline-link { color: var(--muted); font-size: .85em; word-break: break-all; }
.widget-note { color: var(--muted); font-style: italic; }
figure.visual-explorer-animation { margin: .5rem 0; }
figure.visual-explorer-animation figcaption { color: var(--muted); font-size: .9em; margin-bottom: .3rem; }
.pager { display: flex; justify-content: space-between; border-top: 1px solid var(--line);
         margin-top: 3rem; padding-top: 1rem; }
footer.site { color: var(--muted); font-size: .85em; margin-top: 2rem; }
"""


def _page(title: str, body: str, nav: str, footer: str) -> str:
    from pygments.formatters import HtmlFormatter

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
<header class="site"><a class="brand" href="index.html">{html.escape(SITE_TITLE)}</a><nav>{nav}</nav></header>
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
    if nb is not None:
        for cell in nb.cells:
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
        page = render_notebook(executed[path.stem], path.stem, math)
        pages.append(page)
        shutil.copy(path, out / "notebooks" / path.name)
        links = ['<a href="index.html">Course map</a>']
        if index > 0:
            links.append(f'<a href="{stems[index - 1]}.html">&larr; {stems[index - 1]}</a>')
        if index + 1 < len(stems):
            links.append(f'<a href="{stems[index + 1]}.html">{stems[index + 1]} &rarr;</a>')
        pager = ('<nav class="pager">'
                 + (f'<a href="{stems[index - 1]}.html">&larr; previous</a>' if index > 0 else "<span></span>")
                 + (f'<a href="{stems[index + 1]}.html">next &rarr;</a>' if index + 1 < len(stems) else "<span></span>")
                 + "</nav>")
        footer = (f'Executed from <a href="notebooks/{path.name}">notebooks/{path.name}</a> '
                  f"(download it and run <code>make lab</code> for the live sliders) on {built}, "
                  f"revision {revision}. Interactive figures are shown as scrub-bar animations.")
        body = rewrite_links(page.body, page_names) + pager
        (out / f"{path.stem}.html").write_text(_page(page.title, body, " ".join(links), footer),
                                               encoding="utf-8")
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
        _page("Course map", index_body, '<a href="index.html">Course map</a>',
              f"Built on {built} from revision {revision}."), encoding="utf-8")
    return {"pages": [p.stem for p in pages], "animations": {p.stem: p.animations for p in pages},
            "math_rendered": math.rendered, "math_failed": math.failed}


# --- checks -----------------------------------------------------------------------------------

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
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        import headless_chromium
        from playwright.sync_api import sync_playwright

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


def site_size(site: Path) -> int:
    return sum(p.stat().st_size for p in site.rglob("*") if p.is_file())


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
    from tqdm.auto import tqdm

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
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        import headless_chromium

        reason = headless_chromium.missing_reason()
        if reason:
            print(f"warning: offline browser check skipped: {reason}")
        else:
            problems += check_site_in_browser(args.out)
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
