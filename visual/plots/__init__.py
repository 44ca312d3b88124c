"""Matplotlib plot helpers, one module per lesson. Each returns the Axes it drew on."""
