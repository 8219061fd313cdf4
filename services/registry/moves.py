"""Direct promotion and rollback by admins, and the history of a model's aliases."""

from sqlmodel import Session, col, select

from services.access import Action, Actor, require, visible_projects
from services.config import Settings
from services.errors import InvalidInput
from services.models import AliasMove, MoveKind
from services.registry.aliasing import apply_move, plan_move
from services.registry.catalog import check_alias, get_model, holder
from services.registry.shapes import AliasChange, AliasEvent


def promote(
    *,
    session: Session,
    settings: Settings,
    actor: Actor,
    name: str,
    version: int,
    alias: str,
    reason: str,
    expected_revision: int | None = None,  # the alias's revision the caller saw; None: as now
) -> AliasChange:
    """Moves `alias` of `name` to `version` now (admins), audited."""
    admin = require(session, actor, Action.promote)
    move = plan_move(
        session,
        settings,
        by=admin,
        name=name,
        version=version,
        alias=alias,
        reason=reason,
        expected_revision=expected_revision,
        kind=MoveKind.promoted,
    )
    return apply_move(session, settings, move)


def rollback(
    *, session: Session, settings: Settings, actor: Actor, name: str, alias: str, reason: str
) -> AliasChange:
    """Moves `alias` back to the version that held it before the current one, audited."""
    admin = require(session, actor, Action.promote)
    check_alias(settings, alias)
    current = holder(session, name, alias)
    previous = _previous(session, name, alias, current.version if current else None)
    if current is None or previous is None:
        raise InvalidInput(
            f"No earlier version held '{alias}' of {name} before this one; there is nothing "
            "to roll back to."
        )
    move = plan_move(
        session,
        settings,
        by=admin,
        name=name,
        version=previous,
        alias=alias,
        reason=reason,
        expected_revision=current.revision,
        kind=MoveKind.rolled_back,
    )
    return apply_move(session, settings, move)


def rollback_targets(
    *, session: Session, settings: Settings, actor: Actor, name: str
) -> dict[str, int]:
    """Alias -> the version a rollback would move it back to, for each alias that has one."""
    model = get_model(session=session, settings=settings, actor=actor, name=name)
    targets = {
        alias: _previous(session, name, alias, version) for alias, version in model.aliases.items()
    }
    return {alias: version for alias, version in sorted(targets.items()) if version is not None}


def history(*, session: Session, settings: Settings, actor: Actor, name: str) -> list[AliasEvent]:
    """Every move of the model's aliases, newest first."""
    get_model(session=session, settings=settings, actor=actor, name=name)  # visible, or NotFound
    visible = visible_projects(session, actor)
    query = select(AliasMove).where(AliasMove.model_name == name).order_by(col(AliasMove.id).desc())
    return [
        AliasEvent.model_validate(m.model_dump())
        for m in session.exec(query)
        if visible is None or m.project_id in visible
    ]


def _previous(session: Session, name: str, alias: str, current: int | None) -> int | None:
    """The version that held the alias before the last deliberate move to `current`."""
    # Moves made by rollbacks are passed over: rolling back twice goes two steps back.
    if current is None:
        return None
    query = (
        select(AliasMove)
        .where(
            AliasMove.model_name == name,
            AliasMove.alias == alias,
            AliasMove.to_version == current,
            AliasMove.kind != MoveKind.rolled_back,
        )
        .order_by(col(AliasMove.id).desc())
    )
    last = session.exec(query).first()
    return last.from_version if last else None
