"""The background worker (`wats-station --service`): QtCore + qasync, never QtWidgets."""
