"""A model's computed insights, read from MLflow once per session: the Models page reruns on
every click (the threshold slider, the tabs' widgets), and insights never change once written."""

import streamlit as st

from services import explain
from services.explain import ModelRef
from services.insights.compute import ModelInsights
from views._runtime import settings


def stored_insights(ref: ModelRef) -> ModelInsights | None:
    """The insights of `ref` (checked by `explain.model_ref` before), or None if not computed
    yet (asked again on the next run, so a finished job shows at once)."""
    key = f"insights-{ref.run_id}"
    if key not in st.session_state:
        found = explain.cached_insights(settings=settings(), ref=ref)
        if found is None:
            return None
        st.session_state[key] = found
    insights: ModelInsights = st.session_state[key]
    return insights
