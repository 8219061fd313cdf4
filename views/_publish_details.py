"""A publication as the Publish page shows it: the version served, the alias followed, the bundle
and the image (or why there is none), and the exact lines that run it and call it; the
project's publications with Unpublish and share links to their demos."""

import json
import re
import shlex
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pandas as pd
import streamlit as st

from services import publish
from services.serving.bundle import SCHEMA_FILE
from services.serving.image import PORT
from services.serving.schema import ModelSchema
from services.serving_models import PublicationPublic
from views._publish_common import change, described, published_reference
from views._publish_share import share_section
from views._runtime import current_actor, current_project, plain, session, settings

HOST = "127.0.0.1"  # where `kaizen serve` listens by default, and the container's port maps to
NO_IMAGE = (
    "No API image was built for this publication. Tick *Also build the API image* and publish "
    "again on a server with Docker or Podman, or build it with the first line below there."
)


def publication_details(
    publication: PublicationPublic, *, image_note: str | None = None, docker_run: str | None = None
) -> None:
    """What is served and how to run and call it (`image_note` and `docker_run`: what the
    publish job said about the image it was asked to build)."""
    name = publication.model_name
    cells = st.columns(3)
    cells[0].metric("Version served", f"v{publication.version}")
    cells[1].metric("Alias followed", publication.alias or "none: pinned")
    cells[2].metric("API image", publication.image or "not built")
    st.markdown(f"**Bundle**: {plain(publication.bundle_dir)}")
    if publication.image is None:
        st.info(plain(image_note) if image_note else NO_IMAGE, icon=":material/info:")
    reference = described(name, published_reference(publication) or (publication.version, None))
    st.markdown("**Run it in a container**")
    st.code(docker_lines(publication, reference, docker_run), language="bash", wrap_lines=True)
    st.markdown("**Or serve it from this installation**")
    st.code(serve_line(), language="bash", wrap_lines=True)
    extra = settings().database_url or _mlflow_server()
    st.caption(
        "`kaizen serve` serves every publication of this installation; one already running "
        "picks up a change on reload (`POST /v1/admin/reload` with an admin key, or SIGHUP)."
        + (" Run it with this app's KAIZEN_DATABASE_URL and MLflow settings." if extra else "")
    )
    st.markdown("**Call it**")
    st.code(curl_line(publication), language="bash", wrap_lines=True)
    st.caption(
        "Replace `<your key>` with an API key (admins create them on this page). A container "
        "knows the keys that existed when the model was published: publish it again after "
        "creating or revoking one. The example row is a typical row of the training data."
    )


def docker_lines(publication: PublicationPublic, reference: str, docker_run: str | None) -> str:
    """The exact command that runs the built image; without one, how to build it first."""
    if publication.image:
        return docker_run or _docker_run(publication.model_name, publication.image)
    tag = suggested_tag(publication.model_name, publication.alias or f"v{publication.version}")
    build = f"kaizen publish {shlex.quote(reference)} --image {tag}"
    return f"{build}\n{_docker_run(publication.model_name, tag)}"


def serve_line() -> str:
    home = shlex.quote(str(settings().home.resolve()))
    return f"KAIZEN_HOME={home} kaizen serve --host {HOST} --port {PORT}"


def curl_line(publication: PublicationPublic) -> str:
    """A ready-to-copy call of the model's predict route with a typical row."""
    body = json.dumps({"rows": [example_row(publication)]}, separators=(",", ":"))
    quoted = "'" + body.replace("'", "'\\''") + "'"  # the body as one shell word
    url = f"http://{HOST}:{PORT}/v1/models/{quote(publication.model_name, safe='')}/predict"
    return (
        'curl -H "Authorization: Bearer <your key>" -H "Content-Type: application/json" '
        f"-d {quoted} {url}"
    )


def example_row(publication: PublicationPublic) -> dict[str, Any]:
    """A typical row from the bundle's schema (each column's median or most frequent value)."""
    try:
        text = (Path(publication.bundle_dir) / SCHEMA_FILE).read_text()
        return ModelSchema.model_validate_json(text).example_row()
    except (OSError, ValueError):
        return {"column": "value"}  # the bundle is gone: the shape of a row, at least


def suggested_tag(name: str, label: str) -> str:
    """An image tag for `name` (`kaizen/<name>:<label>`), as Docker takes it."""
    path = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "model"
    return f"kaizen/{path}:{re.sub(r'[^A-Za-z0-9_.-]+', '-', label)[:128]}"


def publications_section(publications: list[PublicationPublic]) -> None:
    """The project's publications, one of them in detail, and Unpublish."""
    project = current_project()
    shown = [p for p in publications if p.project_id == project]
    if not shown:
        st.info("Nothing of this project is published yet.", icon=":material/info:")
        return
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "model": p.model_name,
                    "version": p.version,
                    "alias": p.alias or "",
                    "image": p.image or "",
                    "bundle": p.bundle_dir,
                    "updated": p.updated_at,
                    "first published by": p.created_by,
                }
                for p in shown
            ]
        ),
        hide_index=True,
        width="stretch",
        column_config={"updated": st.column_config.DatetimeColumn(format="distance")},
    )
    by_name = {p.model_name: p for p in shown}
    name = st.selectbox("Publication", list(by_name), key="publication-choice")
    chosen = by_name[name]
    publication_details(chosen)
    if st.button("Unpublish", key=f"unpublish-{name}", icon=":material/unpublished:"):
        change(lambda: _unpublish(chosen))
    st.divider()
    share_section(name)


def list_publications() -> list[PublicationPublic]:
    with session() as db:
        return publish.list_publications(session=db, actor=current_actor())


def _unpublish(publication: PublicationPublic) -> str:
    with session() as db:
        removed = publish.unpublish(session=db, actor=current_actor(), name=publication.model_name)
    return (
        f"{removed.model_name} is no longer published: kaizen serve stops serving it on its "
        f"next reload. Its bundle stays in {removed.bundle_dir}."
    )


def _docker_run(name: str, tag: str) -> str:
    return f"docker run -d --name kaizen-{_slug(name)} -p {PORT}:{PORT} {tag}"


def _slug(name: str) -> str:
    """As publishing names the container (lower case, letters, digits, '.', '_', '-')."""
    return re.sub(r"[^a-z0-9._-]+", "-", name.lower()).strip("-.") or "model"


def _mlflow_server() -> bool:
    return bool(settings().mlflow_tracking_uri)
