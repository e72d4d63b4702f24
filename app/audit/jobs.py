"""The worker seals the audit log continuously, so the chain trails the commits closely,
and exports its head as a signed checkpoint at least hourly (app/audit/checkpoints.py)."""

from app.audit.checkpoints import checkpoint_job
from app.audit.service import seal


async def seal_audit_log() -> None:
    await seal()


JOBS = {"audit.seal": seal_audit_log, "audit.checkpoint": checkpoint_job}
