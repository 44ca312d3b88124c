"""The course's benchmark suite: ``make bench`` (``python -m benchmarks``) -> ``benchmarks/RESULTS.md``.

``timing`` holds the shared measurement primitives, ``suite`` the registry and targets,
``report`` the markdown writer; each ``bench_<topic>.py`` registers the benchmarks of one
topic. See ``benchmarks/README.md``.
"""
