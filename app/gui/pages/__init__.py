"""The main window's pages, in the order of the navigation list."""
