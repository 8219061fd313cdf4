"""Kaizen Studio tests (a package, so runner processes can import tests.support)."""
