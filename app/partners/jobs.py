"""Webhook work for the background worker: one bounded pass each (app/worker.py)."""

from app.partners.dispatcher import SEND_TIMEOUT, deliver_due, fanout
from app.partners.urls import webhook_client


async def fan_out_events() -> int:
    return await fanout()  # rows written: the worker logs what each pass did


async def send_due_deliveries() -> int:
    async with webhook_client(SEND_TIMEOUT) as http:
        return await deliver_due(http)


JOBS = {"partners.fanout": fan_out_events, "partners.deliver": send_due_deliveries}
