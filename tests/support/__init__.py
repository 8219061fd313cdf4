"""Helpers that tests hand to real processes."""
