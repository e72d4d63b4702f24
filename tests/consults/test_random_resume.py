"""Clients drop and resume at random points while others send: each ends with exactly the
stored sequence (no gap, no duplicate, in order). A seeded loop, so a failure replays."""

import asyncio
import contextlib
import random
import secrets

import httpx
import pytest
from sqlalchemy import select
from websockets.exceptions import ConnectionClosed

from app.consults.models import Message
from app.core.db import sessionmaker
from app.core.principal import Role
from tests.realtime.support import API, Client, inprocess_server, open_socket


class Peer:
    def __init__(self, user, token: str) -> None:
        self.user, self.token = user, token
        self.sock: Client | None = None
        self.reader: asyncio.Task[None] | None = None
        self.seen: list[tuple[int, str]] = []
        self.sent: list[str] = []

    @property
    def last(self) -> int:
        return self.seen[-1][0] if self.seen else 0

    async def connect(self, host: str, case_id: str) -> None:
        self.sock = await open_socket(host, f"/ws/cases/{case_id}", self.token, after_seq=self.last)
        self.reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self.sock is not None
        with contextlib.suppress(ConnectionClosed):
            while True:
                f = await self.sock.next(within=3600)
                if f["type"] == "message":
                    self.seen.append((f["seq"], f["body"]))

    async def drop(self) -> None:
        assert self.reader is not None and self.sock is not None
        self.reader.cancel()
        with contextlib.suppress(BaseException):
            await self.reader
        await self.sock.close()
        self.sock = self.reader = None


async def _stored(case_id: str) -> list[tuple[int, str]]:
    async with sessionmaker()() as s:
        rows = (
            await s.scalars(select(Message).where(Message.case_id == case_id).order_by(Message.seq))
        ).all()
    return [(m.seq, m.body) for m in rows]


@pytest.mark.parametrize("seed", [7, 1234, 90210])
async def test_random_drops_and_resumes_end_with_the_stored_sequence(app, factory, seed):
    rng = random.Random(seed)
    org = await factory.make_org()
    clinician = await factory.make_user(Role.clinician, organization_id=org.id)
    specialist = await factory.make_user(Role.specialist)
    interpreter = await factory.make_user(Role.interpreter)
    case = await factory.make_case(
        org.id, assigned_specialist_id=specialist.id, submitted_by_id=clinician.id
    )
    await factory.add_participant(case.id, interpreter.id)
    users = [clinician, specialist, interpreter]
    peers = [Peer(users[i % 3], factory.token(users[i % 3])) for i in range(6)]
    async with (
        inprocess_server(app) as host,
        httpx.AsyncClient(base_url=f"http://{host}{API}") as http,
    ):
        for p in peers:
            await p.connect(host, case.id)
        for _step in range(90):
            p = rng.choice(peers)
            action = rng.random()
            if action < 0.35 and p.sock is not None:
                # Sometimes a resend of an earlier message: it must not be stored twice.
                if p.sent and rng.random() < 0.2:
                    cmid = rng.choice(p.sent)
                else:
                    cmid = secrets.token_hex(6)
                    p.sent.append(cmid)
                await p.sock.send(
                    {"type": "message", "body": f"{seed}:{cmid}", "client_msg_id": cmid}
                )
            elif action < 0.55:
                cmid = secrets.token_hex(6)
                r = await http.post(
                    f"/cases/{case.id}/messages",
                    json={"body": f"{seed}:{cmid}", "client_msg_id": cmid},
                    headers=factory.headers(p.user),
                )
                assert r.status_code == 201, r.text
            elif action < 0.75 and p.sock is not None:
                await p.drop()
            elif p.sock is None:
                await p.connect(host, case.id)
            await asyncio.sleep(rng.random() * 0.01)
        for p in peers:
            if p.sock is None:
                await p.connect(host, case.id)
        # Wait until the store is quiet, then until every client has all of it.
        stored, previous = await _stored(case.id), None
        while stored != previous:
            await asyncio.sleep(0.3)
            previous, stored = stored, await _stored(case.id)
        assert [s for s, _ in stored] == list(range(1, len(stored) + 1))
        assert len({b for _, b in stored}) == len(stored)
        try:
            async with asyncio.timeout(30):
                while any(p.last < len(stored) for p in peers):  # noqa: ASYNC110
                    await asyncio.sleep(0.05)
        except TimeoutError:
            pytest.fail(
                f"seed {seed}: clients stopped at {[p.last for p in peers]}, "
                f"{len(stored)} stored; open: {[p.sock is not None for p in peers]}"
            )
        for p in peers:
            assert p.seen == stored, f"seed {seed}: a client saw another sequence"
            await p.drop()
