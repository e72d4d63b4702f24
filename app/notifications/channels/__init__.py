"""The outside channels: each takes prepared messages and says, per message, what happened."""
