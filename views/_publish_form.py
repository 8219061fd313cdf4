"""Publishing from the page: a model of the project, a version to pin or an alias to follow, an
optional image; the publish job with its progress and Cancel (kept in the link, `?job=ID`, so a
refresh shows it again), then the publication it made."""

import streamlit as st

from services import jobs, publish
from services.errors import KaizenError
from services.models import JobPublic
from services.registry import RegisteredModelPublic
from services.serving_models import PublicationPublic
from views._job_widgets import live_job, outcome
from views._publish_common import (
    Reference,
    model_picker,
    published_reference,
    reference_choice,
)
from views._publish_details import publication_details, suggested_tag
from views._runtime import current_actor, plain, session, settings, show_error


def publish_section(
    models: list[RegisteredModelPublic], publications: list[PublicationPublic]
) -> None:
    """The choice and the Publish button, then the publish job of the link."""
    published = {p.model_name: p for p in publications}
    model = model_picker(models, key="publish-model", wanted=st.query_params.get("model"))
    st.query_params["model"] = model.name  # a refresh or a shared link opens this model again
    current = published.get(model.name)
    if current is not None:
        how = f"following '{current.alias}'" if current.alias else "pinned"
        st.caption(
            plain(
                f"{model.name} is published now: v{current.version}, {how}. Publishing again "
                "replaces it."
            )
        )
    reference = reference_choice(
        model,
        key="publish-ref",
        label="Version to pin, or alias to follow",
        default=published_reference(current),
    )
    st.caption(
        "A pinned version is served until someone publishes again. An alias is followed: when "
        "an admin moves it, the server serves the new holder after its next reload."
    )
    image = _image_choice(model, reference)
    if st.button("Publish", type="primary", icon=":material/rocket_launch:", key="publish-go"):
        _start(model.name, reference, image)
    linked_job()


def _image_choice(model: RegisteredModelPublic, reference: Reference) -> str | None:
    build = st.checkbox(
        "Also build the API image",
        key="publish-build",
        help="With Docker or Podman on this server; it takes a few minutes. Without it the "
        "bundle is written and served by `kaizen serve`.",
    )
    if not build:
        return None
    version, alias = reference
    tag = st.text_input(
        "Image tag",
        value=suggested_tag(model.name, alias or f"v{version}"),
        key=f"publish-tag-{model.name}",
    )
    return tag.strip() or None


def _start(name: str, reference: Reference, image: str | None) -> None:
    version, alias = reference
    try:
        with session() as db:
            job = publish.start_publishing(
                session=db,
                settings=settings(),
                actor=current_actor(),
                name=name,
                version=version,
                alias=alias,
                image=image,
            )
    except Exception as error:
        show_error(error)
        return
    st.query_params["job"] = str(job.id)
    st.rerun()


def linked_job() -> None:
    """The publish job in the link: its progress while it runs, then how it ended and the
    publication it made."""
    job = _job()
    if job is None:
        return
    st.divider()
    st.subheader(f"Publish job #{job.id}", anchor=False)
    if not job.state.finished:
        live_job(job.id)
        return
    outcome(job)
    made = publish.publication_result(job)
    if made is not None:
        st.markdown(plain(f"Published {made.model_name} v{made.version}."))
        publication_details(made, image_note=made.image_note, docker_run=made.docker_run)


def _job() -> JobPublic | None:
    wanted = st.query_params.get("job")
    if not wanted or not wanted.isdigit():
        return None
    try:
        with session() as db:
            job = jobs.get_job(session=db, actor=current_actor(), job_id=int(wanted))
    except KaizenError:
        return None  # a stale or foreign link: nothing to follow
    return job if job.kind == publish.KIND else None
