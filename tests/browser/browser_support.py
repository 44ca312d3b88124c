"""Paths and small helpers shared by the browser tests (a plain module: never import conftest)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
FIXTURES = HERE / "fixtures"
ARTIFACTS = ROOT / "test-artifacts" / "browser"   # gitignored: screenshots, logs, reports
VIEWPORT = {"width": 1400, "height": 1200}
# Requests the course may make: the page's own server on 127.0.0.1, and in-page data. Any other is blocked.
LOOPBACK = ("http://127.0.0.1:", "ws://127.0.0.1:", "blob:", "data:", "file:")

if str(ROOT / "tools") not in sys.path:
    sys.path.insert(0, str(ROOT / "tools"))       # tools/ is not a package


def write_report(name: str, report: dict[str, Any]) -> Path:
    """Save a JSON summary of one notebook's browser run under test-artifacts/browser/<name>/."""
    path = ARTIFACTS / name / "report.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=1, default=str))
    return path
