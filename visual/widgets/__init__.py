"""Slider explorers (ipywidgets + ipympl), one module per lesson."""
