"""Insights kept as an artifact of the model's MLflow run, so a page opens them at once."""

import json
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from services.automl import tracking
from services.config import Settings

if TYPE_CHECKING:
    from services.insights.compute import ModelInsights

INSIGHTS_DIR, INSIGHTS_FILE = "insights", "insights.json"
FORMAT = 1  # bumped when ModelInsights changes shape: older files are computed again


def write(settings: Settings, run_id: str, insights: "ModelInsights") -> None:
    """Stores `insights` in the run (the run has ended: MLflow still takes artifacts)."""
    document = {"format": FORMAT, "insights": insights.model_dump(mode="json")}
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / INSIGHTS_FILE
        path.write_text(json.dumps(document))
        tracking.client(settings).log_artifact(run_id, str(path), INSIGHTS_DIR)


def read(settings: Settings, run_id: str) -> "ModelInsights | None":
    """The stored insights of the run, or None if there are none of the current format."""
    import mlflow

    from services.insights.compute import ModelInsights

    tracking.use_tracking(settings)
    stored = [f.path for f in tracking.client(settings).list_artifacts(run_id, INSIGHTS_DIR)]
    if f"{INSIGHTS_DIR}/{INSIGHTS_FILE}" not in stored:
        return None
    with tempfile.TemporaryDirectory() as scratch:
        local = mlflow.artifacts.download_artifacts(
            run_id=run_id, artifact_path=f"{INSIGHTS_DIR}/{INSIGHTS_FILE}", dst_path=scratch
        )
        document = json.loads(Path(local).read_text())
    if document.get("format") != FORMAT:
        return None
    return ModelInsights.model_validate(document["insights"])
