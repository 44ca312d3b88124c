"""Train and test PSPNet on dataset folders in the official list-file format, on one device or many (torchrun).

``python -m visual.segment train --config FILE [--set SECTION.KEY=VALUE ...]`` and
``python -m visual.segment test --config FILE`` (also the console script ``visual-segment``);
``torchrun --nproc_per_node=N -m visual.segment train --config FILE`` for several processes.
See ``docs/training.md``. Modules: ``config`` (YAML), ``data`` (list files), ``transforms``
(augmentation), ``model`` (building, parameter groups, weights), ``engine`` (the loop),
``checkpoint`` (save, resume), ``evaluate`` (the ``test`` command), ``cli``.
"""

from visual.segment.config import load_config
from visual.segment.engine import train

__all__ = ["load_config", "train"]
