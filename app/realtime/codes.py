"""Close codes of the live sockets: (code, reason). Documented in docs/consults.md."""

ORIGIN_REFUSED = (4403, "origin not allowed")  # before the handshake completes: HTTP 403
BAD_FIRST_FRAME = (4400, 'the first frame must be {"type": "auth", "token": ...}')
UNAUTHORIZED = (4401, "invalid or expired access token")
SESSION_ENDED = (4401, "session ended: token expired or revoked")
NOT_FOUND = (4404, "no such case")
ACCESS_REVOKED = (4403, "you may no longer see this case")
AUTH_TIMEOUT = (4408, "no auth frame in time")
FRAME_TOO_LARGE = (4413, "frame too large")
SLOW_CONSUMER = (4429, "too slow to receive: reconnect and resume")
PING_TIMEOUT = (4504, "no answer to ping")
GOING_AWAY = (1001, "server shutting down")
INTERNAL = (1011, "server error: reconnect and resume")

# A close frame queues behind what is already on its way to the peer: a slow consumer gets
# its 4429 once it has read that far. Only a peer that reads nothing this long gets none.
CLOSE_WAIT_SECONDS = 60.0
