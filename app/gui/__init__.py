"""The desktop GUI: tray, main window, wizard, yield dashboard."""
