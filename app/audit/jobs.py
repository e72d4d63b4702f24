"""The worker seals the audit log continuously, so the chain trails the commits closely."""

from app.audit.service import seal


async def seal_audit_log() -> None:
    await seal()


JOBS = {"audit.seal": seal_audit_log}
