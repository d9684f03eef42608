"""Converters: result files in tester formats -> WATS reports. Pure domain code."""
