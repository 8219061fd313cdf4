"""Moving an alias: compare-and-set on the app's record, then MLflow, in one transaction, so the
two agree whether the move succeeds, loses a race or fails in MLflow; every move audited."""

import logging
from dataclasses import dataclass

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from services import audit
from services.access import Actor
from services.automl import tracking
from services.config import Settings
from services.errors import Conflict, InvalidInput, Unavailable
from services.models import (
    AliasHolder,
    AliasMove,
    MoveKind,
    PromotionRequest,
    PromotionState,
    utcnow,
)
from services.registry.catalog import check_alias, clean_reason, get_version, holder
from services.registry.shapes import AliasChange

log = logging.getLogger("kaizen.registry")
AUDIT_ACTIONS = {
    MoveKind.promoted: "model.promoted",
    MoveKind.approved: "model.promotion_approved",
    MoveKind.rolled_back: "model.rolled_back",
}


@dataclass(frozen=True)
class Move:
    """One intended move of an alias, checked and ready to apply."""

    name: str
    alias: str
    version: int
    before: int | None  # the version holding it at `expected_revision`
    expected_revision: int
    project_id: int | None
    by: str
    reason: str
    kind: MoveKind
    request_id: int | None = None
    note: str = ""  # an approver's note


def plan_move(
    session: Session,
    settings: Settings,
    *,
    by: Actor,
    name: str,
    version: int,
    alias: str,
    reason: str,
    expected_revision: int | None,
    kind: MoveKind,
    request_id: int | None = None,
    note: str = "",
) -> Move:
    """Checks a move against the registry and the alias's record as they are now."""
    check_alias(settings, alias)
    why = clean_reason(reason)
    target = get_version(session=session, settings=settings, actor=by, name=name, version=version)
    current = _ensure_holder(session, name, alias, target.project_id)
    if expected_revision is not None and expected_revision != current.revision:
        raise _conflict(session, name, alias)
    if current.version == version:
        raise InvalidInput(f"Version {version} of {name} already holds '{alias}'.")
    return Move(
        name=name,
        alias=alias,
        version=version,
        before=current.version,
        expected_revision=current.revision,
        project_id=target.project_id,
        by=by.username,
        reason=why,
        kind=kind,
        request_id=request_id,
        note=note.strip(),
    )


def apply_move(session: Session, settings: Settings, move: Move) -> AliasChange:
    """Moves the alias in the app's record and in MLflow: both, or neither."""
    # Begin afresh, so the compare-and-set is this transaction's first statement: it takes the
    # row's (PostgreSQL) or the database's (SQLite) write lock, and a second mover waits for
    # the first to commit, then finds the revision changed.
    session.rollback()
    _claim_alias(session, move)
    if move.request_id is not None:
        _claim_request(session, move)
    change = AliasChange.model_validate(_record(session, move).model_dump())
    try:
        _set_in_mlflow(settings, move)
    except Exception as error:  # whatever MLflow or its server raised: keep the record as was
        session.rollback()
        log.exception("MLflow refused moving %s@%s to %s", move.name, move.alias, move.version)
        raise Unavailable(_mlflow_failed(move, error)) from None
    try:
        session.commit()
    except Exception:
        _restore_in_mlflow(settings, move)  # the record stayed as it was: MLflow follows it back
        raise
    return change


def _claim_alias(session: Session, move: Move) -> None:
    """Compare-and-set: the alias moves only if its revision is the one the move was planned on."""
    changed = session.exec(
        update(AliasHolder)
        .where(
            col(AliasHolder.model_name) == move.name,
            col(AliasHolder.alias) == move.alias,
            col(AliasHolder.revision) == move.expected_revision,
        )
        .values(
            version=move.version,
            revision=col(AliasHolder.revision) + 1,
            project_id=move.project_id,
            updated_at=utcnow(),
            updated_by=move.by,
        )
    ).rowcount
    if changed != 1:
        session.rollback()
        raise _conflict(session, move.name, move.alias)


def _claim_request(session: Session, move: Move) -> None:
    """The request goes from pending to approved, once (another admin may decide it meanwhile)."""
    changed = session.exec(
        update(PromotionRequest)
        .where(
            col(PromotionRequest.id) == move.request_id,
            col(PromotionRequest.state) == PromotionState.pending,
        )
        .values(
            state=PromotionState.approved,
            decided_by=move.by,
            decided_at=utcnow(),
            decision_note=move.note or None,
        )
    ).rowcount
    if changed != 1:
        session.rollback()
        raise Conflict(
            f"Promotion request {move.request_id} was decided or withdrawn meanwhile. "
            "Reload and try again."
        )


def _record(session: Session, move: Move) -> AliasMove:
    """The move in the alias's history and in the audit log (same transaction)."""
    event = AliasMove(
        model_name=move.name,
        alias=move.alias,
        from_version=move.before,
        to_version=move.version,
        revision=move.expected_revision + 1,
        kind=move.kind,
        by=move.by,
        reason=move.reason,
        request_id=move.request_id,
        project_id=move.project_id,
    )
    session.add(event)
    audit.record(
        session,
        actor=move.by,
        action=AUDIT_ACTIONS[move.kind],
        subject=f"{move.name}@{move.alias}",
        before={"version": move.before, "revision": move.expected_revision},
        after={"version": move.version, "revision": move.expected_revision + 1}
        | ({"request_id": move.request_id, "note": move.note} if move.request_id else {}),
        reason=move.reason,
    )
    session.flush()
    return event


def _set_in_mlflow(settings: Settings, move: Move) -> None:
    client = tracking.client(settings)
    client.set_registered_model_alias(move.name, move.alias, str(move.version))


def _restore_in_mlflow(settings: Settings, move: Move) -> None:
    """Best effort after the record could not be saved; the save's own error is what counts."""
    try:
        client = tracking.client(settings)
        if move.before is None:
            client.delete_registered_model_alias(move.name, move.alias)
        else:
            client.set_registered_model_alias(move.name, move.alias, str(move.before))
    except Exception:
        log.exception("could not restore %s@%s in MLflow", move.name, move.alias)


def _ensure_holder(session: Session, name: str, alias: str, project_id: int | None) -> AliasHolder:
    """The alias's record, made (held by no version, revision 0) before its first move."""
    found = holder(session, name, alias)
    if found is None:
        try:
            session.add(AliasHolder(model_name=name, alias=alias, project_id=project_id))
            session.commit()
        except IntegrityError:  # another mover made it first: use theirs
            session.rollback()
        found = holder(session, name, alias)
    assert found is not None  # made above, by us or by the other mover
    return found


def _conflict(session: Session, name: str, alias: str) -> Conflict:
    now = holder(session, name, alias)
    if now is None or now.version is None:
        state = "now held by no version"
    else:
        state = f"now version {now.version} by {now.updated_by}"
    return Conflict(
        f"The alias '{alias}' of {name} changed meanwhile ({state}). Reload and try again."
    )


def _mlflow_failed(move: Move, error: Exception) -> str:
    detail = (str(error).strip().splitlines() or [type(error).__name__])[0][:200]
    return (
        f"MLflow could not move the alias '{move.alias}' of {move.name} to version "
        f"{move.version} ({detail}), so nothing was changed. Try again; if it keeps failing, "
        "an admin should check the MLflow server."
    )
