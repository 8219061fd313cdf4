"""Profiling: an instant summary with plain-language alerts, and full reports as jobs."""
