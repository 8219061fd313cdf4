"""Train page: choose a dataset, a target and a preset, read what training will do, start the
job and follow its leaderboard as it fills."""

from typing import Any

import streamlit as st

from services import datasets
from services.access import Actor
from services.automl.options import (
    MAX_BUDGET_SECONDS,
    MIN_BUDGET_SECONDS,
    PRESETS,
    Preset,
    Task,
    TrainingOptions,
    catalog,
    default_metric,
    metrics_for,
)
from services.automl.plan import TrainingPlan, plan_training
from services.automl.training import start_training
from services.models import ColumnRole, DatasetPublic
from views._leaderboard import linked_training, training_section
from views._pickers import version_picker
from views._runtime import (
    current_actor,
    current_project,
    plain,
    session,
    settings,
    show_error,
    shown_errors,
)

AUTOMATIC = "automatic"
TASKS = {
    AUTOMATIC: "Automatic (inferred)",
    Task.binary.value: "binary classification",
    Task.multiclass.value: "multiclass classification",
    Task.regression.value: "regression",
}
LISTED = 20  # names shown in a line of the plan before "and N more"


def target_choice(dataset: DatasetPublic) -> str | None:
    """The column to predict: the one marked target on the Datasets page, or the user's pick."""
    marked = next((c.name for c in dataset.column_infos if c.role == ColumnRole.target), None)
    key = f"train-target-{dataset.id}"
    st.session_state.setdefault(key, marked)
    return st.selectbox(
        "Target",
        [c.name for c in dataset.column_infos],
        index=None,
        key=key,
        placeholder="Choose the column to predict",
        help="The column the model learns to predict.",
    )


def task_choice(dataset: DatasetPublic) -> Task | None:
    """The task the user asks for; None lets training infer it from the target."""
    chosen = st.selectbox(
        "Task",
        list(TASKS),
        format_func=lambda t: TASKS[t],
        key=f"train-task-{dataset.id}",
        help="Automatic reads it from the target: two values are binary, a few are "
        "multiclass, many numbers are regression.",
    )
    return None if chosen in (None, AUTOMATIC) else Task(chosen)


def preset_and_budget() -> tuple[Preset, float]:
    left, right = st.columns([3, 1])
    preset = (
        left.radio(
            "Preset", list(Preset), format_func=lambda p: PRESETS[p].label, key="train-preset"
        )
        or Preset.fast
    )
    minutes = right.number_input(
        "Time budget (minutes)",
        min_value=MIN_BUDGET_SECONDS / 60,
        max_value=MAX_BUDGET_SECONDS / 60,
        value=PRESETS[preset].budget_seconds / 60,
        step=0.5,
        format="%.1f",
        key=f"train-budget-{preset.value}",
        help="Training stops when the time is up and keeps the best model it has.",
    )
    return preset, round(minutes * 60)


def general_options(preset: Preset) -> dict[str, Any]:
    """Advanced options that do not depend on the task."""
    left, middle, right = st.columns(3)
    folds = left.number_input(
        "Cross-validation folds",
        min_value=2,
        max_value=20,
        value=PRESETS[preset].folds,
        step=1,
        key=f"train-folds-{preset.value}",
    )
    seed = middle.number_input(
        "Random seed",
        min_value=0,
        max_value=2**31 - 1,
        value=int(TrainingOptions.model_fields["seed"].default),
        step=1,
        key="train-seed",
        help="The same seed, data and options give the same split and models.",
    )
    selection = right.checkbox(
        "Feature selection",
        key="train-feature-selection",
        help="Keep only the most useful features.",
    )
    return {"folds": int(folds), "seed": int(seed), "feature_selection": selection}


def task_options(task: Task) -> dict[str, Any]:
    """Advanced options offered for the planned task: models, metric, class balancing."""
    offered = catalog(task)
    include = st.multiselect(
        "Models to compare",
        list(offered),
        format_func=lambda m: offered[m],
        key=f"train-include-{task.value}",
        placeholder="The preset's models",
    )
    exclude = st.multiselect(
        "Models to leave out",
        list(offered),
        format_func=lambda m: offered[m],
        key=f"train-exclude-{task.value}",
        placeholder="None",
    )
    metrics = list(metrics_for(task))
    metric = st.selectbox(
        "Optimization metric",
        metrics,
        index=metrics.index(default_metric(task)),
        key=f"train-metric-{task.value}",
        help="Models are ranked and the best one chosen by this score.",
    )
    imbalance = task.is_classification and st.checkbox(
        "Fix class imbalance",
        key="train-imbalance",
        help="Adds synthetic rows of the rarer classes (SMOTE) to the training rows.",
    )
    return {
        "include_models": include,
        "exclude_models": exclude,
        "metric": None if metric == default_metric(task) else metric,  # None: the default
        "fix_imbalance": imbalance,
    }


def training_request(dataset: DatasetPublic) -> tuple[TrainingOptions, TrainingPlan] | None:
    """The user's choices and the checked plan for them; None (with a message) if unusable."""
    left, right = st.columns(2)
    with left:
        target = target_choice(dataset)
    with right:
        task = task_choice(dataset)
    preset, budget = preset_and_budget()
    advanced = st.expander("Advanced options", icon=":material/tune:")
    with advanced:
        general = general_options(preset)
    if target is None:
        st.info("Choose the column to predict to see what training will do.")
        return None
    base = TrainingOptions.model_validate(
        {"dataset_id": dataset.id, "target": target, "task": task, "preset": preset}
        | {"budget_seconds": budget}
        | general
    )
    first = checked_plan(dataset, base)
    if first is None:
        return None
    with advanced:
        options = TrainingOptions.model_validate(base.model_dump() | task_options(first.task))
    plan = first if options == base else checked_plan(dataset, options)
    return None if plan is None else (options, plan)


def checked_plan(dataset: DatasetPublic, options: TrainingOptions) -> TrainingPlan | None:
    """The plan for `options`, or None after showing what to fix."""
    roles = ",".join(f"{c.name}={c.role.value}" for c in dataset.column_infos)
    try:
        key = options.model_dump_json()
        return _plan(current_actor(), str(settings().home), dataset.id, dataset.sha256, roles, key)
    except Exception as error:
        show_error(error)
        return None


# Planning reads the whole table: once per user, version, column roles and options. The
# actor is part of the key (a plan is only ever shown to whom the service allowed it); the
# home and the content hash too, so a reused id never shows another table's plan.
@st.cache_data(max_entries=64, show_spinner="Checking the target and the columns...")
def _plan(
    actor: Actor, home: str, dataset_id: int, sha256: str, roles: str, options: str
) -> TrainingPlan:
    request = TrainingOptions.model_validate_json(options)
    with session() as db:
        return plan_training(session=db, settings=settings(), actor=actor, options=request)


def plan_section(plan: TrainingPlan) -> None:
    """What training will do, in words, before anything runs."""
    st.subheader("What training will do", anchor=False)
    cells = st.columns(4)
    how = "inferred" if plan.task_inferred else "chosen"
    cells[0].metric(f"Task ({how})", plan.task.value)
    cells[1].metric("Rows", f"{plan.rows:,}")
    cells[2].metric("Training rows", f"{plan.train_rows:,}")
    cells[3].metric("Holdout rows", f"{plan.holdout_rows:,}")
    better = "higher" if metrics_for(plan.task)[plan.metric] else "lower"
    facts = [
        f"**Target**: {plain(plan.target)}",
        f"**Features used** ({len(plan.features):,}): {_listed(plan.features)}",
    ]
    if plan.excluded:
        left_out = [f"{name} ({why})" for name, why in plan.excluded.items()]
        facts.append(f"**Columns left out** ({len(left_out):,}): {_listed(left_out)}")
    if plan.classes:
        counts = [f"{name} ({rows:,} rows)" for name, rows in plan.classes.items()]
        facts.append(f"**Classes** ({len(counts):,}): {_listed(counts)}")
    facts += [
        f"**Models compared** ({len(plan.models)}): {_listed(list(plan.models.values()))}",
        f"**Optimization metric**: {plain(plan.metric)} ({better} is better), "
        f"{plan.folds}-fold cross-validation",
        f"**Time budget**: {_minutes(plan.budget_seconds)}",
    ]
    st.markdown("\n".join(f"- {fact}" for fact in facts))
    st.markdown("**Steps**\n\n" + "\n".join(f"1. {plain(step)}" for step in plan.steps))
    for note in plan.notes:
        st.info(plain(note), icon=":material/info:")


def start(options: TrainingOptions) -> None:
    try:
        with session() as db:
            job = start_training(
                session=db, settings=settings(), actor=current_actor(), options=options
            )
    except Exception as error:
        show_error(error)
        return
    st.query_params["job"] = str(job.id)
    st.rerun()


def follow_link() -> None:
    """A refresh at `?job=ID` opens that training's dataset version, target, task and preset."""
    linked = linked_training()
    if linked is not None:
        dataset, asked = linked
        st.session_state["selected_name"] = dataset.name
        st.session_state[f"version-{dataset.name}"] = dataset.version
        st.session_state[f"train-target-{dataset.id}"] = asked.target
        st.session_state[f"train-task-{dataset.id}"] = asked.task.value if asked.task else AUTOMATIC
        st.session_state["train-preset"] = asked.preset


def _listed(names: list[str]) -> str:
    shown = ", ".join(plain(name) for name in names[:LISTED])
    more = len(names) - LISTED
    return shown + (f" and {more:,} more" if more > 0 else "")


def _minutes(seconds: float) -> str:
    minutes, rest = divmod(round(seconds), 60)
    if not minutes:
        return f"{rest} s"
    return f"{minutes} min {rest} s" if rest else f"{minutes} min"


st.title("Train")
with session() as db:
    found = datasets.list_datasets(session=db, actor=current_actor(), project_id=current_project())
    names = [s.name for s in found]
if not names:
    st.info("No datasets yet. Add one on the Datasets page first.")
    st.stop()
follow_link()
dataset = version_picker(names)
with shown_errors():
    request = training_request(dataset)
    if request is not None:
        options, plan = request
        plan_section(plan)
        if st.button("Start training", type="primary", icon=":material/model_training:"):
            start(options)
with shown_errors():
    training_section(dataset)
