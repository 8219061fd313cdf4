"""`kaizen explain NAME[@ALIAS|:VERSION]`: which features drive a registered model, by SHAP;
computed by an insights job the first time, read from the model's MLflow run afterwards."""

import argparse
from typing import Any

from services import explain
from services.cli.common import Context, Parser, wait_for_job
from services.db import session_scope
from services.errors import InvalidInput, KaizenError
from services.models import JobState


class ExplainFailed(KaizenError):
    """The insights job failed or was cancelled; the message says why."""


def register(groups: Any, common: Parser) -> None:
    command = groups.add_parser(
        "explain",
        parents=[common],
        help="the features that drive a registered model (SHAP), computed once and kept",
    )
    command.add_argument(
        "model",
        metavar="NAME[@ALIAS|:VERSION]",
        help="a registered model (default: newest version)",
    )
    command.set_defaults(handler=_explain)


def model_spec(text: str) -> tuple[str, str | None]:
    """`name`, `name:3` or `name@production` as (name, version or "@alias" or None)."""
    for mark, keep in ((":", ""), ("@", "@")):
        name, found, rest = text.partition(mark)
        if found:
            if not name or not rest:
                raise InvalidInput(f"'{text}' is not NAME, NAME:VERSION or NAME@ALIAS.")
            return name, keep + rest
    return text, None


def _explain(args: argparse.Namespace, ctx: Context) -> tuple[Any, str]:
    name, version = model_spec(args.model)
    with session_scope(ctx.engine) as session:
        ref = explain.registered_ref(
            session=session, settings=ctx.settings, actor=ctx.actor, name=name, version=version
        )
        insights = explain.cached_insights(settings=ctx.settings, ref=ref)
        if insights is None:
            job = explain.start_explaining(
                session=session, settings=ctx.settings, actor=ctx.actor, ref=ref
            )
            job = wait_for_job(session, ctx, job)
            if job.state != JobState.succeeded:
                reason = job.error or f"the insights job was {job.state.value}"
                raise ExplainFailed(" ".join(f"Job {job.id}: {reason}".split()))
            insights = explain.cached_insights(settings=ctx.settings, ref=ref)
    if insights is None:
        raise RuntimeError(f"insights job for {ref.name} succeeded without storing insights")
    document = {"model": ref.registered or ref.name, **insights.headline()}
    if insights.shap is not None:
        document |= {"output": insights.shap.explainer_label, "rows": insights.shap.sample_rows}
    lines = [f"{document['model']}: {document['explainer'] or 'no SHAP values'}"]
    lines += [f"  {f['name']}: {f['mean_abs_shap']:.4g}" for f in document["features"]]
    return document, "\n".join(lines)
