"""Moving an alias from the Registry page: a version and an alias, the comparison with the
version holding it now, then a reason, and either a request for an admin's approval (analysts
and admins) or the move at once (admins); one's own pending requests, with Withdraw."""

from functools import partial

import streamlit as st

from services import registry
from services.access import Action, Actor
from services.registry import Comparison, PromotionRequestPublic, RegisteredModelPublic
from views._registry_common import change, seen_revision, show_comparison
from views._registry_versions import version_label
from views._runtime import (
    allowed,
    current_actor,
    plain,
    read_or_stop,
    session,
    settings,
    show_error,
)


def promotion_section(model: RegisteredModelPublic, actor: Actor) -> None:
    """Choose, compare, give the reason, act."""
    by_number = {v.version: v for v in model.versions}
    left, right = st.columns(2)
    version = left.selectbox(
        "Version",
        list(by_number),
        format_func=lambda n: version_label(by_number[n]),
        key=f"promote-version-{model.name}",
    )
    alias = right.selectbox(
        "Alias", registry.aliases(settings()), key=f"promote-alias-{model.name}"
    )
    if version is None or alias is None:
        return
    try:
        comparison = _compare(model.name, version, alias)
    except Exception as error:  # e.g. the version was deleted from MLflow meanwhile
        show_error(error)
        return
    show_comparison(comparison)
    seen = seen_revision(f"seen-{model.name}-{alias}", comparison.current_revision)
    admin = allowed(actor, Action.promote)
    reason_key = f"promote-reason-{model.name}"
    with st.form(f"promote-{model.name}"):
        reason = st.text_area("Reason (required, kept in the audit log)", key=reason_key)
        buttons = st.columns(2 if admin else 1)
        ask = buttons[0].form_submit_button("Request promotion", icon=":material/send:")
        now = admin and buttons[1].form_submit_button(
            "Promote now", type="primary", icon=":material/bolt:"
        )
    if ask:
        change(lambda: _request(model.name, version, alias, reason), forget=reason_key)
    elif now:
        change(lambda: _promote(model.name, version, alias, reason, seen), forget=reason_key)
    if admin:
        st.caption(
            "A request waits for approval on the Admin page; Promote now moves the alias at "
            "once. Both are kept in the audit log."
        )


def own_requests(model: RegisteredModelPublic) -> None:
    """The user's pending requests for this model, each with Withdraw."""
    actor = current_actor()
    found = read_or_stop(lambda: _pending(actor))
    mine = [r for r in found if r.model_name == model.name and r.requested_by == actor.username]
    if not mine:
        st.caption("You have no pending promotion requests for this model.")
        return
    for request in mine:
        with st.container(border=True):
            st.markdown(
                f"**Version {request.version} → '{plain(request.alias)}'**, asked "
                f"{request.requested_at:%Y-%m-%d %H:%M}: {plain(request.reason)}"
            )
            if st.button("Withdraw", key=f"withdraw-{request.id}", icon=":material/undo:"):
                change(partial(_withdraw, request))


def _compare(name: str, version: int, alias: str) -> Comparison:
    with session() as db:
        return registry.compare(
            session=db,
            settings=settings(),
            actor=current_actor(),
            name=name,
            version=version,
            alias=alias,
        )


def _pending(actor: Actor) -> list[PromotionRequestPublic]:
    with session() as db:
        return registry.pending_requests(session=db, settings=settings(), actor=actor)


def _request(name: str, version: int, alias: str, reason: str) -> str:
    with session() as db:
        made = registry.request_promotion(
            session=db,
            settings=settings(),
            actor=current_actor(),
            name=name,
            version=version,
            alias=alias,
            reason=reason,
        )
    return (
        f"Asked for version {made.version} of {made.model_name} to become '{made.alias}' "
        f"(request {made.id}); an admin decides it on the Admin page."
    )


def _promote(name: str, version: int, alias: str, reason: str, seen: int) -> str:
    with session() as db:
        moved = registry.promote(
            session=db,
            settings=settings(),
            actor=current_actor(),
            name=name,
            version=version,
            alias=alias,
            reason=reason,
            expected_revision=seen,
        )
    return f"'{moved.alias}' of {moved.model_name} is now version {moved.to_version}."


def _withdraw(request: PromotionRequestPublic) -> str:
    with session() as db:
        registry.withdraw(session=db, actor=current_actor(), request_id=request.id)
    return f"Withdrew request {request.id} (version {request.version} → '{request.alias}')."
