"""The domain: pure types and rules, no storage, no network, no files (a test enforces it)."""
