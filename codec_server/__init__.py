"""The codec server: the Temporal Web UI and CLI decode (and encode) payloads through it."""
