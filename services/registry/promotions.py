"""Promotion with approval: an analyst asks for a version to take an alias, with a reason; an
admin other than the requester approves (the alias moves) or rejects; the requester may
withdraw. Every step audited."""

from sqlalchemy import update
from sqlmodel import Session, col, select

from services import audit
from services.access import Action, Actor, require, visible_projects
from services.config import Settings
from services.errors import Conflict, Forbidden, InvalidInput, KaizenError, NotFound
from services.models import (
    AliasHolder,
    MoveKind,
    PromotionRequest,
    PromotionState,
    Role,
    utcnow,
)
from services.registry.aliasing import apply_move, plan_move
from services.registry.catalog import check_alias, clean_reason, get_version, holder
from services.registry.compare import compare
from services.registry.shapes import AliasChange, PromotionRequestPublic


def request_promotion(
    *,
    session: Session,
    settings: Settings,
    actor: Actor,
    name: str,
    version: int,
    alias: str,
    reason: str,
) -> PromotionRequestPublic:
    """Asks for `version` of `name` to take `alias`; an admin decides."""
    analyst = require(session, actor, Action.request_promotion)
    check_alias(settings, alias)
    why = clean_reason(reason, "Say why this version should be promoted")
    target = get_version(
        session=session, settings=settings, actor=analyst, name=name, version=version
    )
    current = holder(session, name, alias)
    _refuse_needless(session, name, version, alias, current)
    request = PromotionRequest(
        project_id=target.project_id,
        model_name=name,
        version=version,
        alias=alias,
        reason=why,
        requested_by=analyst.username,
        expected_revision=current.revision if current is not None else 0,
    )
    session.add(request)
    session.flush()  # its id goes into the audit log
    audit.record(
        session,
        actor=analyst.username,
        action="model.promotion_requested",
        subject=f"{name}@{alias}",
        before={"version": current.version if current is not None else None},
        after={"version": version, "request_id": request.id},
        reason=why,
    )
    session.commit()
    return _public(request)


def pending_requests(
    *, session: Session, settings: Settings, actor: Actor
) -> list[PromotionRequestPublic]:
    """Pending requests with their comparisons, oldest first: admins see all, analysts theirs."""
    current = require(session, actor, Action.request_promotion)
    query = select(PromotionRequest).where(PromotionRequest.state == PromotionState.pending)
    if current.role is not Role.admin:
        query = query.where(PromotionRequest.requested_by == current.username)
    visible = visible_projects(session, current)
    found = session.exec(query.order_by(col(PromotionRequest.id)))
    return [
        _with_comparison(session, settings, current, request)
        for request in found
        if visible is None or request.project_id in visible
    ]


def decided_requests(
    *, session: Session, actor: Actor, limit: int = 20
) -> list[PromotionRequestPublic]:
    """The latest approved, rejected or withdrawn requests, newest first (admins)."""
    require(session, actor, Action.decide_promotion)
    query = (
        select(PromotionRequest)
        .where(PromotionRequest.state != PromotionState.pending)
        .order_by(col(PromotionRequest.decided_at).desc(), col(PromotionRequest.id).desc())
        .limit(limit)
    )
    return [_public(request) for request in session.exec(query)]


def approve(
    *,
    session: Session,
    settings: Settings,
    actor: Actor,
    request_id: int,
    note: str = "",
    # The alias's revision the approver saw (the comparison's current_revision); None: the
    # revision the requester saw, so a request made before the alias moved conflicts.
    expected_revision: int | None = None,
) -> AliasChange:
    """Approves a request and moves the alias (admins; four-eyes unless KAIZEN_SINGLE_ADMIN)."""
    admin = require(session, actor, Action.decide_promotion)
    request = _pending(session, request_id)
    if request.requested_by == admin.username and not settings.single_admin:
        raise Forbidden(
            "You asked for this promotion yourself, so another admin must approve it "
            "(four-eyes rule)."
        )
    move = plan_move(
        session,
        settings,
        by=admin,
        name=request.model_name,
        version=request.version,
        alias=request.alias,
        reason=request.reason,
        expected_revision=(
            request.expected_revision if expected_revision is None else expected_revision
        ),
        kind=MoveKind.approved,
        request_id=request_id,
        note=note,
    )
    return apply_move(session, settings, move)


def reject(*, session: Session, actor: Actor, request_id: int, note: str) -> PromotionRequestPublic:
    """Rejects a pending request, saying why (admins)."""
    admin = require(session, actor, Action.decide_promotion)
    why = clean_reason(note, "Say why the request is rejected")
    return _decide(session, _pending(session, request_id), PromotionState.rejected, admin, why)


def withdraw(
    *, session: Session, actor: Actor, request_id: int, note: str = ""
) -> PromotionRequestPublic:
    """Withdraws one's own pending request."""
    requester = require(session, actor, Action.request_promotion)
    request = _pending(session, request_id)
    if request.requested_by != requester.username:
        raise Forbidden(
            f"Only {request.requested_by}, who asked for it, can withdraw this request; "
            "an admin can reject it."
        )
    return _decide(session, request, PromotionState.withdrawn, requester, note.strip())


def _decide(
    session: Session, request: PromotionRequest, state: PromotionState, by: Actor, note: str
) -> PromotionRequestPublic:
    """Ends a pending request (compare-and-set on its state), audited."""
    request_id = int(request.id or 0)  # a stored request has its id
    session.rollback()  # the state change below is the transaction's first statement
    changed = session.exec(
        update(PromotionRequest)
        .where(
            col(PromotionRequest.id) == request_id,
            col(PromotionRequest.state) == PromotionState.pending,
        )
        .values(
            state=state, decided_by=by.username, decided_at=utcnow(), decision_note=note or None
        )
    ).rowcount
    if changed != 1:
        session.rollback()
        raise Conflict(f"Request {request_id} was decided meanwhile. Reload to see how.")
    ended = _request(session, request_id)
    audit.record(
        session,
        actor=by.username,
        action=f"model.promotion_{state.value}",
        subject=f"{ended.model_name}@{ended.alias}",
        before={"state": PromotionState.pending.value},
        after={"state": state.value, "version": ended.version, "request_id": request_id},
        reason=note or None,
    )
    session.commit()
    return _public(ended)


def _refuse_needless(
    session: Session, name: str, version: int, alias: str, current: AliasHolder | None
) -> None:
    """Refuses asking for what holds already, or is asked for already."""
    if current is not None and current.version == version:
        raise InvalidInput(f"Version {version} of {name} already holds '{alias}'.")
    waiting = _pending_for(session, name, version, alias)
    if waiting is not None:
        raise InvalidInput(
            f"There is already a pending request (number {waiting.id}, by "
            f"{waiting.requested_by}) to promote version {version} of {name} to '{alias}'."
        )


def _with_comparison(
    session: Session, settings: Settings, actor: Actor, request: PromotionRequest
) -> PromotionRequestPublic:
    try:
        comparison = compare(
            session=session,
            settings=settings,
            actor=actor,
            name=request.model_name,
            version=request.version,
            alias=request.alias,
        )
    except KaizenError:  # the version was deleted from MLflow, or the alias unconfigured
        comparison = None
    return _public(request).model_copy(update={"comparison": comparison})


def _pending(session: Session, request_id: int) -> PromotionRequest:
    request = _request(session, request_id)
    if request.state is not PromotionState.pending:  # decided since the caller loaded it
        raise Conflict(
            f"Request {request_id} was already {request.state.value}"
            f"{f' by {request.decided_by}' if request.decided_by else ''}. Reload to see the "
            "requests still waiting."
        )
    return request


def _request(session: Session, request_id: int) -> PromotionRequest:
    query = select(PromotionRequest).where(PromotionRequest.id == request_id)
    found = session.exec(query.execution_options(populate_existing=True)).first()
    if found is None:
        raise NotFound(f"There is no promotion request number {request_id}.")
    return found


def _pending_for(session: Session, name: str, version: int, alias: str) -> PromotionRequest | None:
    query = select(PromotionRequest).where(
        PromotionRequest.model_name == name,
        PromotionRequest.version == version,
        PromotionRequest.alias == alias,
        PromotionRequest.state == PromotionState.pending,
    )
    return session.exec(query).first()


def _public(request: PromotionRequest) -> PromotionRequestPublic:
    return PromotionRequestPublic.model_validate(request.model_dump())
