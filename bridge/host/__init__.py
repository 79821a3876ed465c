"""The long-lived editor host: one process per editor, many cancellable requests (see protocol.py)."""
