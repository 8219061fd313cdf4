"""A training job on the Train page: which one is shown (kept in the link, so a refresh shows
it again), its leaderboard as it fills, then what the training chose and how it went."""

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
import streamlit as st

from services import datasets, jobs
from services.automl.options import TrainingOptions, metrics_for
from services.automl.results import TrainingResult
from services.automl.training import training_jobs, training_options, training_result
from services.errors import KaizenError
from services.models import DatasetPublic, JobPublic
from views._job_widgets import POLL_SECONDS, live_job, outcome
from views._runtime import current_actor, plain, session, shown_errors


def training_section(dataset: DatasetPublic) -> None:
    """The training chosen (by the link, or the newest of this version), live or finished."""
    with session() as db:
        found = training_jobs(session=db, actor=current_actor(), dataset_id=dataset.id)
    if not found:
        st.query_params.pop("job", None)
        return
    st.divider()
    st.subheader("Training", anchor=False)
    job = _job_choice(found)
    st.query_params["job"] = str(job.id)  # a refresh shows this job again
    if job.state.finished:
        finished_training(job)
    else:
        live_job(job.id)
        live_leaderboard(job.id)


def linked_training() -> tuple[DatasetPublic, TrainingOptions] | None:
    """The dataset version and choices of the training in the link (`?job=ID`), on the first
    run of a session (a refresh); None otherwise, or when the link is stale."""
    if st.session_state.get("train-link-followed"):
        return None
    st.session_state["train-link-followed"] = True
    job_id = _job_param()
    if job_id is None:
        return None
    try:
        with session() as db:
            job = jobs.get_job(session=db, actor=current_actor(), job_id=job_id)
            asked = training_options(job)
            if asked is None:
                return None  # not a training job
            dataset = datasets.get_dataset(
                session=db, actor=current_actor(), dataset_id=asked.dataset_id
            )
    except KaizenError:
        return None  # a stale or foreign link: the page starts from its defaults
    return dataset, asked


def _job_choice(found: list[JobPublic]) -> JobPublic:
    if len(found) == 1:
        return found[0]
    by_id = {j.id: j for j in found}
    wanted = _job_param()
    chosen = st.selectbox(
        "Training job",
        list(by_id),
        index=list(by_id).index(wanted) if wanted in by_id else 0,
        format_func=lambda i: _job_label(by_id[i]),
    )
    return by_id[chosen]


def _job_label(job: JobPublic) -> str:
    asked = job.params.get("options", {})
    return (
        f"#{job.id} · {job.state.value} · target {asked.get('target')} · "
        f"{asked.get('preset')} preset · {job.created_at:%Y-%m-%d %H:%M}"
    )


def _job_param() -> int | None:
    value = st.query_params.get("job")
    return int(value) if value and value.isdigit() else None


@st.fragment(run_every=POLL_SECONDS)
def live_leaderboard(job_id: int) -> None:
    """The models scored so far, refreshed every second while the job runs."""
    with shown_errors():
        with session() as db:
            job = jobs.get_job(session=db, actor=current_actor(), job_id=job_id)
        result = training_result(job)
        if result is None or not result.leaderboard:
            st.caption("The leaderboard fills in here as each model finishes.")
            return
        leaderboard(result)


def finished_training(job: JobPublic) -> None:
    """How a training ended: its leaderboard, the registered model, MLflow ids and the budget."""
    outcome(job)
    result = training_result(job)
    if result is None:
        return
    if result.leaderboard:
        leaderboard(result, selectable=True)
        _open_in_models(job, result)
    _chosen_model(job, result)
    _skipped_and_notes(result)
    _budget(result)


def leaderboard(result: TrainingResult, *, selectable: bool = False) -> None:
    """The models best first (click a header to sort), and score against training time; once
    the training ended, a row can be selected to open that model's insights."""
    frame = leaderboard_frame(result)
    st.dataframe(
        frame,
        hide_index=True,
        width="stretch",
        column_config={"seconds": st.column_config.NumberColumn(format="%.1f")},
        key="leaderboard" if selectable else None,
        on_select="rerun" if selectable else "ignore",
        selection_mode="single-row",
    )
    st.plotly_chart(score_vs_time(frame, result))


def _open_in_models(job: JobPublic, result: TrainingResult) -> None:
    """A link to the Models page for the selected row (else the registered model)."""
    ranked = result.ranked()
    selection = st.session_state.get("leaderboard")
    picked = selection.selection.rows if selection is not None else []
    row = ranked[picked[0]] if picked else None
    if row is None and result.model is not None:
        row = next((r for r in ranked if r.model_id == result.model.model_id), None)
    row = row or ranked[0]
    st.page_link(
        "views/models.py",
        label=f"Metrics and explanations of {row.name}",
        icon=":material/insights:",
        query_params={"job": str(job.id), "model": row.model_id},
    )
    st.caption("Select a row of the leaderboard to open another model.")


def leaderboard_frame(result: TrainingResult) -> pd.DataFrame:
    """One row per model: the optimization metric (CV and holdout), other CV metrics, time."""
    metric = result.metric
    others = [m for m in metrics_for(result.task) if m != metric]
    chosen = result.model.model_id if result.model else None
    return pd.DataFrame(
        [
            {
                "rank": rank,
                "model": row.name,
                f"CV {metric}": row.cv.get(metric),
                f"holdout {metric}": row.holdout.get(metric),
                **{f"CV {m}": row.cv.get(m) for m in others},
                "seconds": row.seconds,
                "registered": row.model_id == chosen,
            }
            for rank, row in enumerate(result.ranked(), 1)
        ]
    )


def score_vs_time(frame: pd.DataFrame, result: TrainingResult) -> go.Figure:
    """One point per model: its cross-validated score against the seconds it took."""
    score = f"CV {result.metric}"
    better = "higher" if result.greater_is_better else "lower"
    figure = px.scatter(
        frame,
        x="seconds",
        y=score,
        hover_name="model",
        labels={"seconds": "training seconds", score: f"{score} ({better} is better)"},
    )
    figure.update_traces(marker={"size": 12})
    figure.update_layout(margin={"l": 10, "r": 10, "t": 30, "b": 10}, height=340)
    return figure


def _chosen_model(job: JobPublic, result: TrainingResult) -> None:
    chosen = result.model
    if chosen is None:
        if job.state.value == "cancelled":
            st.info("No model was registered: the training was cancelled before it chose one.")
        return
    score = "not scored" if chosen.score is None else f"{chosen.score:.4g}"
    refit = (
        "refit on all rows"
        if chosen.finalized
        else "not refit on all rows (the budget ran out; kept as trained on the training rows)"
    )
    st.success(
        plain(
            f"Registered as {chosen.name} version {chosen.version}, "
            f"holdout {chosen.metric} = {score}; {refit}."
        ),
        icon=":material/verified:",
    )
    run = chosen.run_id or result.parent_run_id or "none"
    st.caption(plain(f"MLflow run {run} · experiment {result.experiment_id or 'none'}"))


def _skipped_and_notes(result: TrainingResult) -> None:
    if result.skipped:
        st.warning(
            "Models that could not be trained:\n\n"
            + "\n".join(f"- {plain(model)}: {plain(why)}" for model, why in result.skipped.items())
        )
    for note in result.notes:
        st.info(plain(note), icon=":material/info:")


def _budget(result: TrainingResult) -> None:
    cells = st.columns(3)
    cells[0].metric("Time used", _clock(result.elapsed_seconds))
    cells[1].metric("Budget", _clock(result.budget_seconds))
    cells[2].metric(
        "Models scored",
        f"{len(result.leaderboard):,}",
        help=f"{result.models_total} candidate models were planned; tuned and ensembled "
        "models count too.",
    )
    details = []
    if result.stopped_by_budget:
        details.append("The budget ended the search; models not reached were not trained.")
    if result.overrun_seconds > 0:
        details.append(f"Went over the budget by {result.overrun_seconds:.0f} seconds.")
    if details:
        st.caption(" ".join(details))


def _clock(seconds: float) -> str:
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes}:{rest:02d}"
