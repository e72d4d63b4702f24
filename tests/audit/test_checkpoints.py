"""The audit chain against someone who can write to the database (issue 16).

The attacks: edit an entry and clear the seals from it on, so that the sealer chains the
edited entries again; recompute every seal by hand; delete the newest entries. The chain
is keyed with a secret outside the database, and its head is exported as a signed
checkpoint (the log, an `audit.checkpoint` webhook event, the audit_checkpoint table), so
each of these shows against the last checkpoint.
"""

import hashlib
import logging
from datetime import timedelta

from sqlalchemy import delete, func, select, update

from app.audit import checkpoints
from app.audit import service as audit
from app.audit.models import AuditCheckpoint, AuditEntry
from app.core.db import sessionmaker
from app.core.principal import Principal, PrincipalKind, Role
from app.events.models import OutboxEvent
from tests.core.helpers import assert_problem

WHO = Principal(id="usr_x", kind=PrincipalKind.user, role=Role.coordinator, organization_id=None)


async def _chain(n: int, start: int = 0) -> list[int]:
    async with sessionmaker()() as s:
        for i in range(start, start + n):
            await audit.append(s, WHO, "case.read", "case", f"case_{i}", detail=f"#{i}")
        await s.commit()
    await audit.seal()
    async with sessionmaker()() as s:
        return list((await s.execute(select(AuditEntry.id).order_by(AuditEntry.id))).scalars())


async def _checkpoint() -> str:
    async with sessionmaker()() as s:
        cp = await checkpoints.make(s)
        assert cp is not None
        await s.commit()
        return checkpoints.token(cp.entry_id, cp.hash, cp.signature)


async def _write(*statements) -> None:
    async with sessionmaker()() as s:
        for stmt in statements:
            await s.execute(stmt)
        await s.commit()


async def _verify(client, factory, **params) -> dict:
    h = factory.headers(await factory.make_user(Role.admin))
    r = await client.get("/audit/verify", params=params, headers=h)
    assert r.status_code == 200, r.text
    return r.json()


async def test_an_edit_sealed_again_shows_against_the_last_checkpoint(client, factory):
    ids = await _chain(6)
    await _checkpoint()
    # The attacker edits entry 3 and clears the seals from it on; the sealer (the worker,
    # or verify itself) chains entries 3..6 again, with the key, around the edit.
    await _write(
        update(AuditEntry).where(AuditEntry.id == ids[2]).values(actor_id="usr_someone_else"),
        update(AuditEntry).where(AuditEntry.id >= ids[2]).values(prev_hash=None, hash=None),
    )
    body = await _verify(client, factory)
    assert body["valid"] is False
    assert body["reason"] == "differs-from-checkpoint"
    assert body["first_broken_id"] == ids[-1]  # the entry the checkpoint names


async def test_deleting_the_newest_entries_shows_as_a_truncation(client, factory):
    ids = await _chain(6)
    await _checkpoint()
    await _write(delete(AuditEntry).where(AuditEntry.id >= ids[4]))
    body = await _verify(client, factory)
    assert body == {
        "valid": False,
        "checked": 4,
        "first_broken_id": ids[-1],
        "reason": "truncated",
    }


async def test_seals_recomputed_without_the_key_do_not_hold(client, factory):
    """Plain SHA-256, as the chain once was: whoever could read the rule could forge it."""
    ids = await _chain(4)
    await _checkpoint()  # what the worker does on its first pass
    async with sessionmaker()() as s:
        rows = list((await s.execute(select(AuditEntry).order_by(AuditEntry.id))).scalars())
        prev = audit.GENESIS
        for row in rows:
            if row.id == ids[1]:
                row.detail = "nothing to see"
            row.prev_hash = prev
            row.hash = hashlib.sha256(audit._content(prev, row)).hexdigest()
            prev = row.hash
        await s.commit()
    body = await _verify(client, factory)
    assert body["valid"] is False and body["first_broken_id"] == ids[0]


async def test_a_checkpoint_kept_outside_catches_what_the_database_forgot(client, factory):
    """The attacker also deletes the kept checkpoints and the newest entries: the copy in
    the log (or a webhook receiver) is brought to verify."""
    ids = await _chain(5)
    outside = await _checkpoint()
    await _write(
        delete(AuditCheckpoint),
        delete(AuditEntry).where(AuditEntry.id == ids[-1]),
    )
    assert (await _verify(client, factory))["valid"] is True  # nothing left inside to say
    body = await _verify(client, factory, checkpoint=outside)
    assert body["valid"] is False and body["reason"] == "truncated"
    assert body["first_broken_id"] == ids[-1]
    # A later checkpoint holds while later entries are added; the earlier one still shows
    # what was cut.
    await _chain(2, start=10)
    later = await _checkpoint()
    await _chain(2, start=20)
    assert (await _verify(client, factory, checkpoint=later))["valid"] is True
    body = await _verify(client, factory, checkpoint=outside)
    # (SQLite gives the deleted id to the next entry: then it is a different entry there.)
    assert body["reason"] in ("truncated", "differs-from-checkpoint")
    assert body["valid"] is False and body["first_broken_id"] == ids[-1]


async def test_a_forged_or_altered_checkpoint_is_refused(client, factory):
    ids = await _chain(3)
    real = await _checkpoint()
    entry, head, sig = real.split(".")
    h = factory.headers(await factory.make_user(Role.admin))
    # An empty one too (found by the fuzz run: it was taken for no checkpoint at all).
    for forged in (f"{entry}.{'0' * 64}.{sig}", f"{ids[0]}.{head}.{sig}", "garbage", "1.2.3", ""):
        r = await client.get("/audit/verify", params={"checkpoint": forged}, headers=h)
        body = assert_problem(r, 422, "invalid-checkpoint")
        assert body["errors"][0]["pointer"] == "#query/checkpoint"
    # A kept checkpoint rewritten in the database (to match an edit) does not hold either.
    await _write(update(AuditCheckpoint).values(hash="f" * 64))
    assert (await _verify(client, factory))["valid"] is False


async def test_the_worker_exports_a_checkpoint_at_least_hourly(app, clock, caplog):
    from app.audit.jobs import JOBS

    await _chain(3)
    job = JOBS["audit.checkpoint"]
    with caplog.at_level(logging.INFO, logger="app.audit"):
        await job()
        clock.advance(timedelta(minutes=30))
        await _chain(1, start=5)
        await job()  # too soon: none
        clock.advance(timedelta(minutes=31))
        await job()
    async with sessionmaker()() as s:
        kept = list(
            (await s.execute(select(AuditCheckpoint).order_by(AuditCheckpoint.id))).scalars()
        )
        sent = list(
            (
                await s.execute(select(OutboxEvent).where(OutboxEvent.type == "audit.checkpoint"))
            ).scalars()
        )
        head = await s.scalar(select(func.max(AuditEntry.id)))
    assert len(kept) == 2 and kept[-1].entry_id == head
    tokens = [checkpoints.token(c.entry_id, c.hash, c.signature) for c in kept]
    assert [e.payload["checkpoint"] for e in sent] == tokens
    logged = [r.getMessage() for r in caplog.records if "audit checkpoint" in r.getMessage()]
    assert len(logged) == 2 and all(t in m for t, m in zip(tokens, logged, strict=True))


async def test_a_staff_webhook_hears_the_checkpoint(client, factory, app):
    from app.partners.dispatcher import fanout
    from app.partners.models import WebhookDelivery

    admin = await factory.make_user(Role.admin)
    r = await client.post(
        "/api/v1/webhooks",
        json={"url": "https://auditor.example.org/hook", "events": ["audit.checkpoint"]},
        headers=factory.headers(admin),
    )
    assert r.status_code == 201, r.text
    await _chain(2)
    signed = await _checkpoint()
    await fanout()
    async with sessionmaker()() as s:
        (delivery,) = (await s.execute(select(WebhookDelivery))).scalars()
    assert delivery.event_type == "audit.checkpoint"
    assert delivery.payload["data"]["checkpoint"] == signed


async def test_a_chain_sealed_before_the_key_is_adopted_once(client, factory):
    """An existing deployment's chain (unkeyed seals, no checkpoint yet) is sealed again
    with the key the first time the sealer meets it, if every link of it holds."""
    ids = await _chain(4)
    async with sessionmaker()() as s:
        rows = list((await s.execute(select(AuditEntry).order_by(AuditEntry.id))).scalars())
        prev = audit.GENESIS
        for row in rows:
            row.prev_hash = prev
            row.hash = hashlib.sha256(audit._content(prev, row)).hexdigest()
            prev = row.hash
        await s.commit()
    await audit.seal()
    assert (await _verify(client, factory))["valid"] is True
    assert (await _verify(client, factory))["checked"] == len(ids)
