"""What the Registry page and the Admin page's promotions share: one change with its message,
the alias revision a person saw, and the comparison a promotion is decided on."""

from collections.abc import Callable

import pandas as pd
import streamlit as st

from services.registry import Comparison, VersionScores
from views._runtime import plain, show_error

FLASH = "registry-flash"


def change(work: Callable[[], str], *, forget: str | None = None) -> None:
    """Runs one change; its success message shows after the rerun, a refusal at once (a
    refused change keeps what was typed; a done one forgets the input keyed `forget`)."""
    try:
        message = work()
    except Exception as error:
        show_error(error)
        return
    if forget is not None:
        st.session_state.pop(forget, None)
    st.session_state[FLASH] = message
    st.rerun()


def flash() -> None:
    """The message of the change the last run made, once."""
    if message := st.session_state.pop(FLASH, None):
        st.success(plain(message), icon=":material/check_circle:")


def seen_revision(key: str, now: int) -> int:
    """The alias revision the page showed in its previous run (what the person decided on),
    remembering `now` for the next. Passed as expected_revision, it turns a move someone made
    in between into a "changed meanwhile" refusal instead of a silent overwrite."""
    seen = st.session_state.get(key, now)
    st.session_state[key] = now
    return int(seen)


def show_comparison(comparison: Comparison) -> None:
    """The candidate's holdout scores beside the current holder's, and what to make of them."""
    candidate, current = comparison.candidate, comparison.current
    alias = plain(comparison.alias)
    if current is None:
        st.info(
            f"No version holds '{alias}' yet: version {candidate.version} would be the first.",
            icon=":material/info:",
        )
    _headline(comparison)
    st.dataframe(_scores_frame(comparison), hide_index=True, width="content")
    if current is not None:
        if comparison.same_holdout:
            st.caption(
                "Both were scored on the very same holdout rows (same data, target and seed)."
            )
        else:
            st.caption(
                "They were scored on different holdout rows (other data, target or seed, or "
                "unknown): the scores are only roughly comparable."
            )
    if comparison.warning:
        st.warning(plain(comparison.warning), icon=":material/warning:")


def _headline(comparison: Comparison) -> None:
    metric, ours = comparison.metric, comparison.candidate.score
    if metric is None or ours is None:
        st.caption("The version's training kept no holdout score to compare.")
        return
    theirs = comparison.current.score if comparison.current else None
    st.metric(
        f"Holdout {metric} of version {comparison.candidate.version}",
        f"{ours:.4f}",
        delta=None if theirs is None else f"{ours - theirs:+.4f} against the current holder",
        delta_color="normal" if comparison.greater_is_better else "inverse",
    )


def _scores_frame(comparison: Comparison) -> pd.DataFrame:
    shown = [("candidate", comparison.candidate)]
    if comparison.current is not None:
        shown.append((f"holds '{comparison.alias}' now", comparison.current))
    metrics = list(comparison.candidate.holdout)
    if comparison.current is not None:
        metrics += [m for m in comparison.current.holdout if m not in metrics]
    ranked_by = comparison.metric
    if ranked_by is not None and ranked_by in metrics:  # what the trainings ranked by, first
        metrics.remove(ranked_by)
        metrics.insert(0, ranked_by)
    rows = [{"": "version", **{who: str(s.version) for who, s in shown}}]
    rows.append({"": "algorithm", **{who: s.model_id or "—" for who, s in shown}})
    rows.append({"": "dataset", **{who: s.dataset or "—" for who, s in shown}})
    rows += [{"": f"holdout {m}", **{who: _score(s, m) for who, s in shown}} for m in metrics]
    return pd.DataFrame(rows, columns=["", *[who for who, _ in shown]])


def _score(scores: VersionScores, metric: str) -> str:
    value = scores.holdout.get(metric)
    return "—" if value is None else f"{value:.4f}"
