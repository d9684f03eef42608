"""Linux packaging (the .deb)."""
