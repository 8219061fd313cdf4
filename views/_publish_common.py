"""What the Publish page's sections share: the project's registered models, the choice of one of
them and of a version or an alias, and one change with its message after the rerun."""

from collections.abc import Callable

import streamlit as st

from services import registry
from services.registry import ModelVersionPublic, RegisteredModelPublic
from services.serving_models import PublicationPublic
from views._runtime import current_actor, current_project, plain, session, settings, show_error

FLASH = "publish-flash"
# What to serve or score with: (version, None) pinned, or (None, alias) the alias's holder.
Reference = tuple[int | None, str | None]


def visible_models() -> list[RegisteredModelPublic]:
    """Every registered model the user may see, by name."""
    with session() as db:
        return registry.list_models(session=db, settings=settings(), actor=current_actor())


def of_project(models: list[RegisteredModelPublic]) -> list[RegisteredModelPublic]:
    """Those of the project chosen in the sidebar."""
    project = current_project()
    return [m for m in models if m.project_id == project]


def change(work: Callable[[], str], *, key: str = FLASH) -> None:
    """Runs one change; its success message shows after the rerun (where `flash(key)` is
    called), a refusal at once."""
    try:
        message = work()
    except Exception as error:
        show_error(error)
        return
    st.session_state[key] = message
    st.rerun()


def flash(key: str = FLASH) -> None:
    """The message of the change the last run made, once."""
    if message := st.session_state.pop(key, None):
        st.success(plain(message), icon=":material/check_circle:")


def model_picker(
    models: list[RegisteredModelPublic], *, key: str, wanted: str | None = None
) -> RegisteredModelPublic:
    """One of `models` by name (`wanted` first, when it is one of them)."""
    by_name = {m.name: m for m in models}
    names = list(by_name)
    index = names.index(wanted) if wanted in by_name else 0
    return by_name[st.selectbox("Model", names, index=index, key=key)]


def reference_choice(
    model: RegisteredModelPublic, *, key: str, label: str, default: Reference | None = None
) -> Reference:
    """A version to pin, or an alias to follow (aliases held now come first)."""
    tokens = [f"@{alias}" for alias in sorted(model.aliases)]
    tokens += [f"v{v.version}" for v in model.versions]
    versions = {v.version: v for v in model.versions}

    def label_of(token: str) -> str:
        if token.startswith("@"):
            alias = token[1:]
            return f"follow '{alias}' (now v{model.aliases[alias]})"
        return _version_label(versions[int(token[1:])])

    wanted = _token(default) if default is not None else None
    index = tokens.index(wanted) if wanted in tokens else 0
    chosen = st.selectbox(
        label, tokens, index=index, format_func=label_of, key=f"{key}-{model.name}"
    )
    return (None, chosen[1:]) if chosen.startswith("@") else (int(chosen[1:]), None)


def published_reference(publication: PublicationPublic | None) -> Reference | None:
    if publication is None:
        return None
    return (None, publication.alias) if publication.alias else (publication.version, None)


def described(name: str, reference: Reference) -> str:
    """`name v3` or `name@production`, as the CLI writes them."""
    version, alias = reference
    return f"{name}@{alias}" if alias else f"{name}:{version}"


def _token(reference: Reference) -> str:
    version, alias = reference
    return f"@{alias}" if alias else f"v{version}"


def _version_label(version: ModelVersionPublic) -> str:
    parts = [f"v{version.version}"]
    if version.model_id:
        parts.append(version.model_id)
    if version.metric and version.holdout_score is not None:
        parts.append(f"holdout {version.metric} {version.holdout_score:.4f}")
    if version.aliases:
        parts.append("holds " + ", ".join(version.aliases))
    return " · ".join(parts)
