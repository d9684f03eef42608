"""Build-time helpers for the single executable and the installers (never shipped)."""
