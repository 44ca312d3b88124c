"""Solutions on the docs pages: each nbgrader region folded behind a "Show solution" ``<details>``.

The builder's preprocessor swaps each region for one token comment line before nbconvert
highlights the cell; after rendering, the token's line becomes ``</pre><details>...</details><pre>``
holding the region's code, highlighted with the same Pygments classes.
"""

from __future__ import annotations

import re

from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import PythonLexer

from student_edition import solution_regions

__all__ = ["fold_solutions", "unfold_solutions"]

SOLUTION_TOKEN = "# VISUALSOLUTION"
_SOLUTION_LINE = re.compile(r'(?:^|(?<=<pre><span></span>))[ \t]*(?:<span class="w">[ \t]*</span>)?'
                            r'<span class="c1">' + SOLUTION_TOKEN + r'(\d+)</span>\n?', re.MULTILINE)


def fold_solutions(source: str, where: str, folded: list[str]) -> str:
    """Each solution region becomes one token line; its code (highlighted) is appended to ``folded``."""
    lines = source.splitlines()
    for begin, end in reversed(solution_regions(source, where)):
        code = "\n".join(lines[begin + 1:end]) + "\n"
        folded.append(highlight(code, PythonLexer(), HtmlFormatter(nowrap=True)))
        indent = lines[begin][: len(lines[begin]) - len(lines[begin].lstrip())]
        lines[begin:end + 1] = [f"{indent}{SOLUTION_TOKEN}{len(folded) - 1}"]
    return "\n".join(lines)


def unfold_solutions(markup: str, folded: list[str]) -> str:
    """Token lines -> a "Show solution" ``<details>`` between two halves of the cell's ``<pre>``."""
    markup = _SOLUTION_LINE.sub(lambda m: ('</pre><details class="solution"><summary>Show solution</summary>'
                                           f"<pre>{folded[int(m.group(1))]}</pre></details><pre>"), markup)
    if SOLUTION_TOKEN in markup:  # nbconvert's highlighting changed shape: fail loudly, never show the token
        raise ValueError(f"a solution region could not be folded ({SOLUTION_TOKEN} left in the page)")
    return markup
