"""Models page: pick a training and one of its models (or arrive from a link), then read how
well it does on the holdout, what drives its predictions, and ask it about single rows."""

import streamlit as st

from services import explain
from services.automl.results import TrainingResult
from services.automl.training import training_jobs, training_result
from services.explain import ModelRef
from services.models import JobPublic, JobState
from views._insights_cache import stored_insights
from views._job_widgets import live_job, outcome
from views._model_insights import insights_tabs
from views._runtime import (
    current_actor,
    current_project,
    plain,
    read_or_stop,
    session,
    settings,
    show_error,
)

st.title("Models")


def trainings() -> list[JobPublic]:
    """The project's trainings that have a leaderboard, newest first."""
    with session() as db:
        found = training_jobs(session=db, actor=current_actor())
    project = current_project()
    return [j for j in found if j.project_id == project and _result(j)]


def _result(job: JobPublic) -> TrainingResult | None:
    result = training_result(job)
    return result if result and result.leaderboard else None


def linked_registered() -> None:
    """`?registered=NAME&version=N` (from the Registry) becomes `?job=ID&model=ID`."""
    name = st.query_params.get("registered")
    if not name:
        return
    version = st.query_params.get("version")
    with session() as db:
        ref = read_or_stop(
            lambda: explain.registered_ref(
                session=db, settings=settings(), actor=current_actor(), name=name, version=version
            )
        )
    st.query_params.from_dict({"job": str(ref.job_id), "model": ref.model_id})


def training_choice(found: list[JobPublic]) -> JobPublic:
    by_id = {j.id: j for j in found}
    wanted = st.query_params.get("job")
    index = (
        list(by_id).index(int(wanted))
        if wanted and wanted.isdigit() and int(wanted) in by_id
        else 0
    )
    chosen = st.selectbox(
        "Training", list(by_id), index=index, format_func=lambda i: _training_label(by_id[i])
    )
    return by_id[chosen]


def _training_label(job: JobPublic) -> str:
    asked = job.params.get("options", {})
    return (
        f"#{job.id} · target {asked.get('target')} · {asked.get('preset')} preset · "
        f"{job.state.value} · {job.created_at:%Y-%m-%d %H:%M}"
    )


def model_choice(result: TrainingResult) -> str:
    """A leaderboard model: the link's, else the registered one, else the best."""
    ranked = result.ranked()
    ids = [row.model_id for row in ranked]
    names = {row.model_id: row.name for row in ranked}
    wanted = st.query_params.get("model") or (result.model.model_id if result.model else None)
    registered = result.model.model_id if result.model else None
    metric = result.metric

    def label(model_id: str) -> str:
        row = next(r for r in ranked if r.model_id == model_id)
        score = row.holdout.get(metric)
        mark = " · registered" if model_id == registered else ""
        return f"{names[model_id]} · holdout {metric} {score if score is not None else '—'}{mark}"

    index = ids.index(wanted) if wanted in ids else 0
    return st.selectbox("Model", ids, index=index, format_func=label)


def insights_section(ref: ModelRef) -> None:
    """The model's insights if computed; else its running job, or the button that starts it."""
    actor, config = current_actor(), settings()
    insights = stored_insights(ref)
    if insights is not None:
        insights_tabs(ref, insights)
        return
    with session() as db:
        job = explain.explaining_job(session=db, actor=actor, ref=ref)
    if job is not None and not job.state.finished:
        live_job(job.id)
        return
    if job is not None and job.state != JobState.succeeded:
        outcome(job)
    st.info(
        "Insights (holdout metrics, diagnostic charts and SHAP explanations) are computed once "
        f"per model, in at most {config.explain_time_limit_seconds:.0f} seconds, and kept.",
        icon=":material/insights:",
    )
    if st.button("Compute insights", type="primary", icon=":material/play_arrow:"):
        try:
            with session() as db:
                explain.start_explaining(session=db, settings=config, actor=actor, ref=ref)
        except Exception as error:
            show_error(error)
            return
        st.rerun()


def page() -> None:
    linked_registered()
    found = trainings()
    if not found:
        st.info("No trained models in this project yet. Train one on the Train page.")
        return
    job = training_choice(found)
    result = _result(job)
    assert result is not None  # trainings() keeps only those with a leaderboard
    model_id = model_choice(result)
    st.query_params.from_dict({"job": str(job.id), "model": model_id})
    with session() as db:
        ref = read_or_stop(
            lambda: explain.model_ref(
                session=db, actor=current_actor(), job_id=job.id, model_id=model_id
            )
        )
    if ref.registered:
        st.caption(
            plain(
                f"Registered as {ref.registered}. The figures here are of the model as trained "
                "on the training rows and judged on the holdout; the registered version may have "
                "been refit on all rows after that."
            )
        )
    insights_section(ref)


page()
