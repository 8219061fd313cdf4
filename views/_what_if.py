"""Single predictions on the Models page: pick a holdout row, see the prediction explained
(SHAP waterfall and the top reasons in words), then change a few values and see it move."""

from typing import Any

import pandas as pd
import streamlit as st

from services import explain
from services.explain import ModelRef
from services.insights.compute import ModelInsights
from services.insights.features import FeatureInfo
from services.insights.local import LoadedModel, RowOutcome, holdout_row, outcome, values_row
from views import _shap_charts as shap_charts
from views._runtime import current_actor, plain, session, settings, show_error

WHAT_IF_FEATURES = 6  # the most important features offered for editing


@st.cache_resource(max_entries=4, ttl=3600, show_spinner="Loading the model")
def _loaded(ref_json: str) -> LoadedModel:
    """One loaded model per ref, shared by sessions (access is checked before every use)."""
    return explain.open_model(settings=settings(), ref=ModelRef.model_validate_json(ref_json))


def single_rows(ref: ModelRef, insights: ModelInsights) -> None:
    try:
        with session() as db:  # checks the user may still see this model
            ref = explain.model_ref(
                session=db, actor=current_actor(), job_id=ref.job_id, model_id=ref.model_id
            )
        model = _loaded(ref.model_dump_json())
    except Exception as error:
        show_error(error)
        return
    count = len(model.holdout)
    position = st.number_input(
        f"Holdout row (1 to {count:,})", min_value=1, max_value=count, value=1, step=1
    )
    row = holdout_row(model, int(position) - 1)
    with st.expander("The row's values"):
        st.dataframe(row, hide_index=True)
    base = _explained(model, row)
    if base is None:
        return
    show_outcome(base, insights)
    what_if(model, insights, row, base)


def _explained(model: LoadedModel, row: pd.DataFrame) -> RowOutcome | None:
    try:
        with st.spinner("Explaining this prediction"):
            return outcome(model, row)
    except Exception as error:
        show_error(error)
        return None


def show_outcome(result: RowOutcome, insights: ModelInsights) -> None:
    st.metric("Prediction", _predicted(result, insights))
    if result.probabilities:
        chances = pd.DataFrame(
            {"class": list(result.probabilities), "chance": list(result.probabilities.values())}
        )
        st.dataframe(
            chances,
            hide_index=True,
            column_config={"chance": st.column_config.ProgressColumn(min_value=0, max_value=1)},
        )
    st.markdown(plain(result.reasons))
    if result.explanation is not None and result.output is not None:
        st.plotly_chart(shap_charts.waterfall_figure(result.explanation, result.output, 0))


def what_if(
    model: LoadedModel, insights: ModelInsights, row: pd.DataFrame, base: RowOutcome
) -> None:
    st.subheader("What if", anchor=False)
    st.caption("Change a few values of this row and see how the prediction moves.")
    ranked = [name for name, _ in insights.importance()] or list(row.columns)
    features = {f.name: f for f in insights.features}
    values: dict[str, Any] = {str(k): v for k, v in row.iloc[0].items()}
    with st.form("what-if"):
        columns = st.columns(3)
        for position, name in enumerate(ranked[:WHAT_IF_FEATURES]):
            with columns[position % 3]:
                values[name] = _editor(features[name], values.get(name))
        changed = st.form_submit_button("See the prediction", icon=":material/tune:")
    if not changed:
        return
    try:
        edited = values_row(model, values)
        result = outcome(model, edited)
    except Exception as error:
        show_error(error)
        return
    before, after = _predicted(base, insights), _predicted(result, insights)
    st.metric("Prediction after the change", after, delta=_delta(base, result, insights))
    st.caption(plain(f"Before the change: {before}."))
    show_outcome(result, insights)


def _editor(feature: FeatureInfo, value: Any) -> Any:
    label, key = feature.name, f"what-if-{feature.name}"
    if feature.kind == "category":
        options = (
            list(dict.fromkeys([str(value), *feature.categories]))
            if value is not None
            else feature.categories
        )
        return st.selectbox(label, options, key=key)
    if feature.kind == "boolean":
        return st.checkbox(label, value=bool(value), key=key)
    if feature.kind in ("number", "integer"):
        current = float(value) if value is not None and pd.notna(value) else feature.median
        return st.number_input(label, value=current, key=key, help=_range(feature))
    return st.text_input(label, value="" if value is None else str(value), key=key)


def _range(feature: FeatureInfo) -> str:
    if feature.low is None or feature.high is None:
        return ""
    return f"Most training rows lie between {feature.low:,.4g} and {feature.high:,.4g}."


def _predicted(result: RowOutcome, insights: ModelInsights) -> str:
    if result.probabilities:
        chance = result.probabilities.get(str(result.prediction))
        return (
            f"{result.prediction} ({chance:.0%})" if chance is not None else str(result.prediction)
        )
    return f"{float(result.prediction):,.4g}"


def _delta(base: RowOutcome, after: RowOutcome, insights: ModelInsights) -> str | None:
    if insights.task.is_classification and base.output is not None:
        moved = after.probabilities.get(base.output, 0.0) - base.probabilities.get(base.output, 0.0)
        return f"{moved * 100:+.1f} points chance of {base.output}"
    if isinstance(base.prediction, float) and isinstance(after.prediction, float):
        return f"{after.prediction - base.prediction:+,.4g}"
    return None
