"""The Admin page's promotions: each pending request with the comparison it is decided on,
Approve (an optional note) and Reject (a note required); then the requests decided lately."""

from functools import partial

import pandas as pd
import streamlit as st

from services import registry
from services.registry import PromotionRequestPublic
from views._registry_common import change, flash, seen_revision, show_comparison
from views._runtime import current_actor, plain, read_or_stop, session, settings

DECIDED_SHOWN = 20
DECIDED_COLUMNS = ["request", "model", "version", "alias", "asked by", "state", "by", "at", "note"]


def promotions_tab() -> None:
    flash()
    waiting = read_or_stop(_pending)
    st.subheader("Waiting for a decision", anchor=False)
    if not waiting:
        st.caption("No promotion requests are waiting.")
    for request in waiting:
        with st.container(border=True):
            pending_request(request)
    st.subheader("Decided lately", anchor=False)
    decided_table(read_or_stop(_decided))


def pending_request(request: PromotionRequestPublic) -> None:
    """The request, its comparison, and the decision."""
    st.markdown(
        f"**#{request.id}: version {request.version} of {plain(request.model_name)} → "
        f"'{plain(request.alias)}'**, asked by {plain(request.requested_by)} on "
        f"{request.requested_at:%Y-%m-%d %H:%M}"
    )
    st.markdown(f"Reason: {plain(request.reason)}")
    seen: int | None = None
    if request.comparison is None:
        st.warning(
            "The comparison is unavailable: the version or the alias is no longer there. "
            "Reject the request, or approve it to see why it cannot be done.",
            icon=":material/warning:",
        )
    else:
        show_comparison(request.comparison)
        seen = seen_revision(f"seen-request-{request.id}", request.comparison.current_revision)
    key = f"decide-{request.id}"
    note = st.text_input("Note (optional to approve, required to reject)", key=f"{key}-note")
    left, right = st.columns(2)
    if left.button("Approve", key=f"{key}-approve", type="primary", icon=":material/check:"):
        change(partial(_approve, request, note, seen), forget=f"{key}-note")
    if right.button("Reject", key=f"{key}-reject", icon=":material/close:"):
        change(partial(_reject, request, note), forget=f"{key}-note")


def decided_table(decided: list[PromotionRequestPublic]) -> None:
    if not decided:
        st.caption("No request has been decided yet.")
        return
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "request": f"#{r.id}",
                    "model": r.model_name,
                    "version": r.version,
                    "alias": r.alias,
                    "asked by": r.requested_by,
                    "state": r.state.value,
                    "by": r.decided_by or "",
                    "at": r.decided_at,
                    "note": r.decision_note or "",
                }
                for r in decided
            ],
            columns=DECIDED_COLUMNS,
        ),
        hide_index=True,
        width="stretch",
        column_config={"at": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm")},
    )
    st.caption(f"The latest {DECIDED_SHOWN} at most; the audit log keeps them all.")


def _pending() -> list[PromotionRequestPublic]:
    with session() as db:
        return registry.pending_requests(session=db, settings=settings(), actor=current_actor())


def _decided() -> list[PromotionRequestPublic]:
    with session() as db:
        return registry.decided_requests(session=db, actor=current_actor(), limit=DECIDED_SHOWN)


def _approve(request: PromotionRequestPublic, note: str, seen: int | None) -> str:
    with session() as db:
        moved = registry.approve(
            session=db,
            settings=settings(),
            actor=current_actor(),
            request_id=request.id,
            note=note,
            expected_revision=seen,
        )
    return (
        f"Approved request {request.id}: '{moved.alias}' of {moved.model_name} is now version "
        f"{moved.to_version}."
    )


def _reject(request: PromotionRequestPublic, note: str) -> str:
    with session() as db:
        registry.reject(session=db, actor=current_actor(), request_id=request.id, note=note)
    return f"Rejected request {request.id} (version {request.version} → '{request.alias}')."
