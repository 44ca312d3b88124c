"""``python -m visual.segment``: see :mod:`visual.segment.cli`."""

from visual.segment.cli import main

__all__: list[str] = []

if __name__ == "__main__":
    raise SystemExit(main())
