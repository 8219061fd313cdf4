"""The audit log: who did what, when, with before and after; the app only ever appends."""

import csv
import io
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from services.access import Action, Actor, require
from services.models import AuditEvent, AuditEventPublic

# A cell starting with one of these is a formula to a spreadsheet: exported with a quote.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def record(
    session: Session,
    *,
    actor: str,
    action: str,
    subject: str = "",
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    reason: str | None = None,
) -> None:
    """Adds one event to the caller's transaction (it is kept only if that commits)."""
    session.add(
        AuditEvent(
            actor=actor[:200],
            action=action,
            subject=subject[:500],
            before=before,
            after=after,
            reason=reason,
        )
    )


def list_events(
    *,
    session: Session,
    actor: Actor,
    action: str | None = None,
    who: str | None = None,
    since: datetime | None = None,
    limit: int = 500,
) -> list[AuditEventPublic]:
    """The newest events first, filtered; admins only."""
    require(session, actor, Action.read_audit)
    query = select(AuditEvent).order_by(col(AuditEvent.id).desc()).limit(limit)
    if action:
        query = query.where(AuditEvent.action == action)
    if who:
        query = query.where(AuditEvent.actor == who)
    if since:
        query = query.where(col(AuditEvent.at) >= since)
    return [AuditEventPublic.model_validate(e.model_dump()) for e in session.exec(query)]


def to_csv(events: list[AuditEventPublic]) -> str:
    """The events as CSV that a spreadsheet opens as text, never as formulas."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["at", "actor", "action", "subject", "before", "after", "reason"])
    for e in events:
        cells = [e.at.isoformat(), e.actor, e.action, e.subject, e.before, e.after, e.reason]
        writer.writerow([safe_cell(c) for c in cells])
    return out.getvalue()


def safe_cell(value: Any) -> str:
    """The value as text a spreadsheet shows as text: one starting like a formula is quoted."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text
