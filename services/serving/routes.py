"""The API's routes: health and readiness (open), the models and their schemas, a typed predict
route per loaded model, admin reload, and catch-alls that answer 401 before 404 under /v1."""

import logging
import time
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import numpy as np
import orjson
from fastapi import APIRouter, Depends, FastAPI, HTTPException, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ValidationError
from starlette.concurrency import run_in_threadpool

from services.serving.auth import requires_key
from services.serving.loaded import (
    LoadedModel,
    explain,
    frame_of,
    predict,
    row_columns,
    warnings,
)
from services.serving.problems import INTERNAL, ColumnProblem, Problem, ValidationProblems
from services.serving.schema import Cell, Label, ModelSchema

if TYPE_CHECKING:
    from services.serving.app import Server

log = logging.getLogger("kaizen.serving")
# scikit-learn's words when a (validated, finite) number overflows float32 inside the pipeline.
OVERFLOW = "infinity or a value too large"
INLINE_ROWS = 100  # smaller requests run on the event loop: a thread hop costs more than them
JSON_OPTIONS = orjson.OPT_SERIALIZE_NUMPY
ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": Problem, "description": "No API key, or an unknown or revoked one"},
    403: {"model": Problem, "description": "The key may not call this model"},
    404: {"model": Problem, "description": "No such model is served"},
    422: {"model": ValidationProblems, "description": "The rows do not fit the model"},
    500: {"model": Problem, "description": "Internal error (details in the server log)"},
}


class ServedModel(BaseModel):
    """A model being served."""

    name: str
    version: int
    alias: str | None  # followed on reload
    task: str
    loaded_at: datetime


class Readiness(BaseModel):
    """Whether every published model is loaded."""

    ready: bool
    loading: bool  # the first load has not ended yet
    models: list[str]  # loaded
    not_loaded: dict[str, str]  # name -> why (a model still served at its previous version
    # is in both: it failed to move to the new one)


class Reloaded(BaseModel):
    """What a reload changed."""

    changed: list[str]  # models loaded anew or dropped
    not_loaded: dict[str, str]


class Contribution(BaseModel):
    """One column's part in a row's prediction."""

    name: str
    value: Cell
    contribution: float  # SHAP value, in the model's output space


class InputWarning(BaseModel):
    """Values used, but unlike the training's."""

    column: str
    problem: str
    rows: list[int]  # the first rows concerned (0-based)


class Predictions(BaseModel):
    """A predict answer."""

    model: str
    version: int
    predictions: list[Label | None]
    probabilities: list[list[float]] | None  # per row, in the order of `classes`
    classes: list[Label] | None
    warnings: list[InputWarning]
    explanations: list[list[Contribution]] | None = None  # with ?explain=true


def add_fixed_routes(app: FastAPI, server: "Server") -> None:
    """Every route but the models' predict routes; the catch-alls go last."""
    anyone = Depends(requires_key(server.keys))

    @app.get("/health", tags=["health"])
    async def health() -> dict[str, str]:
        """Liveness: the process answers."""
        return {"status": "ok"}

    @app.get(
        "/ready", tags=["health"], response_model=Readiness, responses={503: {"model": Readiness}}
    )
    async def ready() -> JSONResponse:
        """Readiness: 200 once every published model is loaded, else 503 naming the others."""
        state = server.models.state
        missing = {n: why for n, why in state.failed.items() if n not in state.loaded}
        ok = not server.loading and not missing
        body = Readiness(
            ready=ok, loading=server.loading, models=sorted(state.loaded), not_loaded=state.failed
        )
        return JSONResponse(body.model_dump(), status_code=200 if ok else 503)

    @app.get("/v1/models", tags=["models"], responses=_errors(401, 500))
    async def models(key: Annotated[Any, anyone]) -> list[ServedModel]:
        """The models this key may call."""
        from services.serving.keys import key_allows

        loaded = server.models.state.loaded.values()
        return [_served(m) for m in sorted(loaded, key=lambda m: m.name) if key_allows(key, m.name)]

    @app.get("/v1/models/{name}/schema", tags=["models"], responses=_errors(401, 403, 404, 500))
    async def schema(name: str, key: Annotated[Any, anyone]) -> ModelSchema:
        """A model's columns: kind, whether required, values and ranges seen in training."""
        return _allowed(server, name, key).schema

    @app.post("/v1/admin/reload", tags=["admin"], responses=_errors(401, 403, 500))
    def reload(_key: Annotated[Any, Depends(requires_key(server.keys, admin=True))]) -> Reloaded:
        """Loads the publications again: an alias-following one moves to the alias's current
        version, loaded before it replaces the old (requests keep being answered)."""
        return Reloaded.model_validate(server.reload())

    async def not_served(_key: Annotated[Any, anyone]) -> None:
        raise HTTPException(404, "There is no such model or route; see GET /v1/models.")

    # After the models' own routes: a name no model has, and any other /v1 path, answer 401
    # without a valid key and 404 with one.
    for path, methods in (
        ("/v1/models/{name}/predict", ["POST"]),
        ("/v1/{path:path}", ["GET", "POST", "PUT", "PATCH", "DELETE"]),
    ):
        app.add_api_route(path, not_served, methods=methods, include_in_schema=False)
    app.state.catch_all = app.router.routes[-2]


def model_routes(server: "Server", models: list[LoadedModel]) -> tuple[list[Any], dict[str, Any]]:
    """A POST /v1/models/<name>/predict route per model, and the OpenAPI schemas of their
    bodies (the generated request models), which `openapi_with_bodies` adds to the document."""
    router = APIRouter()
    schemas: dict[str, Any] = {}
    for model in sorted(models, key=lambda m: m.name):
        body = model.body.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas |= body.pop("$defs", {}) | {model.body.__name__: body}
        reference = {"$ref": f"#/components/schemas/{model.body.__name__}"}
        router.add_api_route(
            f"/v1/models/{model.name}/predict",
            _endpoint(server, model),
            methods=["POST"],
            response_model=Predictions,
            responses=_errors(401, 403, 422, 500),
            tags=["predict"],
            summary=f"Predict with {model.name} (version {model.version})",
            description=_about(model),
            operation_id=f"predict_{model.name}",
            openapi_extra={
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": reference}},
                }
            },
        )
    return list(router.routes), schemas


def openapi_with_bodies(app: FastAPI) -> None:
    """The OpenAPI document with the models' request bodies among its schemas."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        document = generate()
        components = document.setdefault("components", {}).setdefault("schemas", {})
        components.update(getattr(app.state, "body_schemas", {}))
        return document

    app.openapi = openapi  # type: ignore[method-assign]


def _endpoint(server: "Server", model: LoadedModel) -> Any:
    """The route's function. The body is validated here, from its bytes, by the model's
    generated request model (pydantic's JSON parser: 10,000 rows in a third of the time
    FastAPI's json.loads and validation take); the key is checked before, as a dependency."""
    key = Depends(requires_key(server.keys, model.name))
    explain_query = Query(
        description=(
            f"Add each row's top SHAP contributions (at most {server.serving.max_explain_rows} "
            "rows; slower)"
        )
    )

    async def predict_rows(
        request: Request,
        key: Annotated[Any, key],
        explain: Annotated[bool, explain_query] = False,
    ) -> Response:
        try:
            body: Any = model.body.model_validate_json(await request.body())
        except ValidationError as error:
            found = [{**e, "loc": ("body", *e["loc"])} for e in error.errors(include_url=False)]
            raise RequestValidationError(found) from None
        return await _answer(server, model, body.rows, explain, key)

    return predict_rows


async def _answer(
    server: "Server", model: LoadedModel, rows: list[dict[str, Any]], explained: bool, key: Any
) -> Response:
    started = time.perf_counter()
    refused = _explain_refused(server, model, len(rows)) if explained else None
    if refused is not None:
        problem = ColumnProblem(problem=refused).model_dump()
        return JSONResponse({"detail": [problem]}, status_code=422)
    columns = row_columns(model.schema, rows)
    try:
        if explained or len(rows) > INLINE_ROWS:
            document = await run_in_threadpool(_document, model, columns, explained)
        else:
            document = _document(model, columns, explained)
        content = orjson.dumps(document, option=JSON_OPTIONS)
    except Exception as error:  # logged in full; the client gets no traceback
        if isinstance(error, ValueError) and OVERFLOW in str(error):
            return JSONResponse({"detail": _too_large(model, columns)}, status_code=422)
        log.exception("predicting with %s v%s failed", model.name, model.version)
        return JSONResponse(INTERNAL, status_code=500)
    if server.log is not None:
        milliseconds = (time.perf_counter() - started) * 1000
        server.log.write(model.schema, rows, document, milliseconds, getattr(key, "id", None))
    return Response(content, media_type="application/json")


def _explain_refused(server: "Server", model: LoadedModel, rows: int) -> str | None:
    limit = server.serving.max_explain_rows
    if rows > limit:
        return f"explain=true answers at most {limit} rows; send fewer or leave explain out"
    if model.background is None:
        return (
            "explanations need the training rows, which this deployment does not have; "
            "leave explain out, or ask the installation's server"
        )
    return None


def _too_large(model: LoadedModel, columns: dict[str, Any]) -> list[dict[str, Any]]:
    """The out-of-range values behind an overflow in the pipeline, as 422 problems."""
    return [
        ColumnProblem(
            column=found["column"],
            row=found["rows"][0],
            problem="is so far outside the training range that the model's arithmetic "
            "overflows; check the value and its unit",
        ).model_dump()
        for found in warnings(model.schema, columns)
    ] or [ColumnProblem(problem="a value is too large for the model's arithmetic").model_dump()]


def _document(model: LoadedModel, columns: dict[str, Any], explained: bool) -> dict[str, Any]:
    predictions, probabilities = predict(model, columns)
    document = {
        "model": model.name,
        "version": model.version,
        # numpy numbers go to orjson as they are; labels of other types as Python values
        "predictions": predictions if predictions.dtype.kind in "iufb" else predictions.tolist(),
        "probabilities": None if probabilities is None else np.ascontiguousarray(probabilities),
        "classes": model.schema.classes,
        "warnings": warnings(model.schema, columns),
    }
    if explained:
        document["explanations"] = explain(model, frame_of(columns), predictions)
    return document


def _allowed(server: "Server", name: str, key: Any) -> LoadedModel:
    from services.serving.keys import key_allows

    model = server.models.state.loaded.get(name)
    if model is None:
        raise HTTPException(404, f"No model named '{name}' is served; see GET /v1/models.")
    if not key_allows(key, name):
        raise HTTPException(403, f"This API key may not call the model '{name}'.")
    return model


def _served(model: LoadedModel) -> ServedModel:
    return ServedModel(
        name=model.name,
        version=model.version,
        alias=model.alias,
        task=model.schema.task,
        loaded_at=model.loaded_at,
    )


def _about(model: LoadedModel) -> str:
    schema = model.schema
    answer = "the predicted value" if schema.task == "regression" else "the predicted class"
    columns = ", ".join(f"`{c.name}` ({c.kind})" for c in schema.columns[:20])
    more = f" and {len(schema.columns) - 20} more" if len(schema.columns) > 20 else ""
    return (
        f"Predicts `{schema.target}` ({schema.task}): {answer} per row"
        + (", with each class's probability" if schema.classes else "")
        + f". Columns: {columns}{more}. Values outside what training saw are used, with a "
        "warning in the answer."
    )


def _errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    return {code: ERRORS[code] for code in codes}
