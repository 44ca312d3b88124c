"""``python -m visual.segment``: see :mod:`visual.segment.cli`."""

from visual.segment.cli import main

raise SystemExit(main())
