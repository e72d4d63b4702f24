"""The yardstick for the live room: a bare FastAPI relay (no auth, nothing stored).

Every socket of /room hears every text frame any socket sends, as the issue's reference
room does; the benchmark measures it beside the real room in the same run.
"""

from fastapi import FastAPI, WebSocket, WebSocketDisconnect

app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
room: set[WebSocket] = set()


@app.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@app.websocket("/room")
async def relay(ws: WebSocket) -> None:
    await ws.accept()
    room.add(ws)
    try:
        while True:
            text = await ws.receive_text()
            for peer in list(room):
                try:
                    await peer.send_text(text)
                except Exception:
                    room.discard(peer)
    except WebSocketDisconnect:
        pass
    finally:
        room.discard(ws)
