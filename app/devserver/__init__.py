"""The local WATS server: a WATS-compatible HTTP server on loopback (DESIGN.md §9)."""
