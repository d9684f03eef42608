"""WATS server client (domain layer): async httpx, never imports Qt."""
