from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from app.core.config import get_settings
from tests.notifications.support import HttpSink, SmtpSink


@pytest.fixture
def smtp(monkeypatch: pytest.MonkeyPatch) -> Iterator[SmtpSink]:
    sink = SmtpSink()
    sink.controller.start()
    monkeypatch.setattr(get_settings(), "smtp_url", f"smtp://127.0.0.1:{sink.port}?starttls=off")
    monkeypatch.setattr(get_settings(), "public_url", "https://consult.example.org")
    yield sink
    if getattr(sink.controller, "_thread", None) is not None:  # a test may have stopped it
        sink.controller.stop()


@pytest.fixture
async def http_sink() -> AsyncIterator[HttpSink]:
    sink = HttpSink()
    await sink.start()
    yield sink
    await sink.stop()


@pytest.fixture
def sms_gateway(monkeypatch: pytest.MonkeyPatch, http_sink: HttpSink) -> Any:
    monkeypatch.setattr(get_settings(), "sms_gateway_url", f"{http_sink.base}/sms")
    monkeypatch.setattr(get_settings(), "sms_gateway_secret", "whsec_" + "c2VjcmV0LWtleS1mb3Itc21z")
    return http_sink
