"""Domain layer: report model, verdicts, config. Plain Python, never imports Qt."""
