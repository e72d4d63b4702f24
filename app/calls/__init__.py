"""Calls: what a browser needs to place a WebRTC call between a case's participants (the
signalling itself rides the case's live room, app/consults)."""
