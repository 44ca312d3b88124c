"""Test configuration: headless matplotlib, quiet torch threads."""

import matplotlib

matplotlib.use("Agg", force=True)  # no display in tests; must run before pyplot is imported
