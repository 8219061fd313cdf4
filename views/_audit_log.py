"""The Admin page's audit log: filters, the events newest first, and a CSV download."""

from datetime import UTC, datetime, time

import pandas as pd
import streamlit as st

from services import audit
from services.models import AuditEventPublic
from views._runtime import current_actor, read_or_stop, session

ALL = "(all)"
# What the audit log records (the filter offers these; "who" is free text).
AUDIT_ACTIONS = [
    "sign_in",
    "sign_in.failed",
    "sign_out",
    "user.create",
    "role.change",
    "user.enable",
    "user.disable",
    "user.locked",
    "user.unlock",
    "user.password",
    "project.create",
    "project.member",
    "project.leave",
    "user.remove",
    "model.promotion_requested",
    "model.promotion_approved",
    "model.promotion_rejected",
    "model.promotion_withdrawn",
    "model.promoted",
    "model.rolled_back",
    "share_link.created",
    "share_link.revoked",
]
AUDIT_LIMIT = 500


def audit_tab() -> None:
    cells = st.columns(3)
    action = cells[0].selectbox("Action", [ALL, *AUDIT_ACTIONS], key="audit-action")
    who = cells[1].text_input("Who (username)", key="audit-who")
    since = cells[2].date_input("Since", value=None, key="audit-since", format="YYYY-MM-DD")

    def load() -> list[AuditEventPublic]:
        with session() as db:
            return audit.list_events(
                session=db,
                actor=current_actor(),
                action=None if action == ALL else action,
                who=who.strip() or None,
                since=datetime.combine(since, time.min, tzinfo=UTC) if since else None,
                limit=AUDIT_LIMIT,
            )

    events = read_or_stop(load)
    st.caption(f"{len(events):,} event(s), newest first (at most {AUDIT_LIMIT}).")
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "at": e.at,
                    "who": e.actor,
                    "action": e.action,
                    "subject": e.subject,
                    "before": _json(e.before),
                    "after": _json(e.after),
                    "reason": e.reason or "",
                }
                for e in events
            ],
            columns=["at", "who", "action", "subject", "before", "after", "reason"],
        ),
        hide_index=True,
        width="stretch",
    )
    st.download_button(
        "Download CSV",
        audit.to_csv(events),
        file_name="kaizen-audit.csv",
        mime="text/csv",
        icon=":material/download:",
        on_click="ignore",
    )


def _json(value: dict[str, object] | None) -> str:
    if not value:
        return ""
    return ", ".join(f"{k}: {v}" for k, v in value.items())
