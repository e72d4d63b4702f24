"""The yardstick: a bare FastAPI app that echoes JSON, served by uvicorn like the real one.

Every figure the harness prints is a ratio to this app measured in the same run, so the
numbers say what our code costs, not how fast this particular machine happens to be.
"""

from typing import Any

from fastapi import Body, FastAPI

app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)


@app.get("/echo")
async def echo_get() -> dict[str, Any]:
    return {"status": "ok"}


@app.post("/echo", status_code=201)
async def echo_post(body: dict[str, Any] = Body(...)) -> dict[str, Any]:
    return body
