"""IPC between the worker and its clients (GUI, CLI) over QLocalSocket."""
