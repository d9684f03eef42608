"""WATS Station: the test-station client for the WATS test-data-management server."""

__version__ = "0.1.0"
