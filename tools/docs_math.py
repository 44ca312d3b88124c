"""Maths for the offline docs: TeX typeset as SVG images with matplotlib's mathtext (no MathJax).

Markdown maths (``$...$``, ``$$...$$``) is swapped for tokens before nbconvert renders the
markdown (``stash_maths``) and the tokens for ``<img>`` tags after (``unstash_maths``), so the
markdown renderer never sees TeX and the page needs no script or network to show formulas.
"""

from __future__ import annotations

import base64
import html
import io
import re
from dataclasses import dataclass, field

import matplotlib as mpl
from matplotlib.font_manager import FontProperties
from matplotlib.mathtext import math_to_image
from nbconvert.filters.markdown_mistune import markdown2html_mistune

__all__ = ["MathRenderer", "stash_maths", "unstash_maths", "markdown_to_html"]

MATH_FONT_PT = 12.0           # body text is 16 px = 12 pt, so maths matches it
PX_PER_PT = 4 / 3             # CSS: 96 px per inch, 72 pt per inch

# TeX that mathtext lacks, rewritten to what it has (same glyphs): (pattern, replacement).
TEX_REWRITES = [
    (r"\\[td]frac(?![a-zA-Z])", r"\\frac"),
    (r"\\frac\s*(\d)\s*(\d)", r"\\frac{\1}{\2}"),      # \frac12 -> \frac{1}{2}
    (r"\\(displaystyle|limits|[bB]igg?[lr]?)(?![a-zA-Z])", ""),
    (r"\\le(?![a-zA-Z])", r"\\leq"), (r"\\ge(?![a-zA-Z])", r"\\geq"),
    (r"\\ne(?![a-zA-Z])", r"\\neq"), (r"\\iff(?![a-zA-Z])", r"\\Leftrightarrow"),
    (r"\\implies(?![a-zA-Z])", r"\\Rightarrow"), (r"\\[lr]vert(?![a-zA-Z])", "|"),
    (r"\\!", ""), (r"\s*\n\s*", " "),                    # mathtext typesets one line
]
ALIGNED = re.compile(r"\\begin\{(aligned|align\*?|gathered|split)\}(.*?)\\end\{\1\}", re.DOTALL)


@dataclass
class MathRenderer:
    """TeX to self-contained SVG images (matplotlib mathtext), with a plain-code fallback."""

    rendered: int = 0
    failed: list[str] = field(default_factory=list)

    def _svg(self, tex: str) -> tuple[str, float]:
        buffer = io.BytesIO()
        with mpl.rc_context({"svg.hashsalt": "visual-docs", "mathtext.fontset": "dejavusans"}):
            depth = math_to_image(f"${tex}$", buffer, prop=FontProperties(size=MATH_FONT_PT),
                                  dpi=72, format="svg")
        svg = re.sub(rb"<metadata>.*?</metadata>", b"", buffer.getvalue(), flags=re.DOTALL)
        return base64.b64encode(svg).decode("ascii"), float(depth or 0.0)

    def __call__(self, tex: str, display: bool) -> str:
        tex = tex.strip()
        match = ALIGNED.fullmatch(tex)
        lines = [line.replace("&", "") for line in match.group(2).split(r"\\")] if match else [tex]
        images = []
        for line in lines:
            for pattern, replacement in TEX_REWRITES:
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


CODE = re.compile(r"(```.*?```|~~~.*?~~~|`[^`\n]+`)", re.DOTALL)
MATH = re.compile(r"\$\$(.+?)\$\$|(?<![\\$\w])\$(?!\s)([^$\n]+?)(?<![\s\\])\$(?!\w)", re.DOTALL)
TOKEN = re.compile(r"(<p>)?(VISUALMATH\d+X)(</p>)?")


def stash_maths(source: str, math: MathRenderer, rendered: dict[str, str]) -> str:
    """Replace each ``$...$`` / ``$$...$$`` of markdown by a token; ``rendered[token]`` is its HTML.

    Tokens survive the markdown renderer untouched (``unstash_maths`` puts the images back);
    dollars inside code spans and fenced code are not maths.
    """
    def stash(match: re.Match[str]) -> str:
        key = f"VISUALMATH{len(rendered)}X"
        display = match.group(1) is not None
        rendered[key] = math(match.group(1) if display else match.group(2), display)
        return f"\n\n{key}\n\n" if display else key

    parts = CODE.split(source)  # odd parts are code: no maths there
    return "".join(part if i % 2 else MATH.sub(stash, part) for i, part in enumerate(parts))


def unstash_maths(markup: str, rendered: dict[str, str]) -> str:
    """Put the rendered maths back in place of its tokens (a display token drops its ``<p>``)."""
    def swap(match: re.Match[str]) -> str:
        value = rendered.get(match.group(2))
        if value is None:
            return match.group(0)
        if match.group(1) and match.group(3):
            return value if value.startswith("<div") else f"<p>{value}</p>"
        return (match.group(1) or "") + value + (match.group(3) or "")

    return TOKEN.sub(swap, markup)


def markdown_to_html(source: str, math: MathRenderer) -> str:
    """Markdown (with ``$...$`` / ``$$...$$`` maths) to HTML with the maths as SVG images."""
    rendered: dict[str, str] = {}
    return unstash_maths(markdown2html_mistune(stash_maths(source, math, rendered)), rendered)
