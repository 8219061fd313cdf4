"""The Registry page and the Admin page's promotions with AppTest, on really trained models:
what a viewer sees, an analyst's request after the comparison, an admin's approval and
rejection, the four-eyes rule, a move made meanwhile, and a rollback from the history."""

from collections.abc import Iterable
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select
from streamlit.testing.v1 import AppTest

from services import registry
from services.access import Actor
from services.config import Settings
from services.models import PromotionRequest, PromotionState
from tests.support.registry import TrainedHome, copy_home
from tests.support.signin import app_as, literal

CHANGED_MEANWHILE = "changed meanwhile"
NEW_ACTIONS = [
    "model.promotion_requested",
    "model.promotion_approved",
    "model.promotion_rejected",
    "model.promotion_withdrawn",
    "model.promoted",
    "model.rolled_back",
]


@pytest.fixture
def engine(settings: Settings, trained: TrainedHome) -> Engine:
    return copy_home(trained, settings)


def registry_page(actor: Actor) -> AppTest:
    at = app_as(actor, "views/registry.py")
    assert not at.exception
    assert at.title[0].value == "Registry"
    return at


def admin_promotions(actor: Actor) -> AppTest:
    at = app_as(actor, "views/admin.py")
    assert not at.exception
    assert [t.label for t in at.tabs] == [
        "Users",
        "Projects",
        "Promotions",
        "Share links",
        "Audit log",
    ]
    return at


def promote(
    session: Session, settings: Settings, by: Actor, name: str, version: int, alias: str
) -> None:
    registry.promote(
        session=session,
        settings=settings,
        actor=by,
        name=name,
        version=version,
        alias=alias,
        reason="set up by the test",
    )


def ask(session: Session, settings: Settings, by: Actor, name: str, version: int) -> int:
    made = registry.request_promotion(
        session=session,
        settings=settings,
        actor=by,
        name=name,
        version=version,
        alias="production",
        reason="best holdout AUC",
    )
    return made.id


def table(at: AppTest, column: str) -> list[dict[str, Any]]:
    """The rows of the first data frame that has `column`."""
    frame = next(f.value for f in at.dataframe if column in f.value.columns)
    return [{str(k): v for k, v in row.items()} for row in frame.to_dict("records")]


def press(at: AppTest, label: str, key: str | None = None) -> AppTest:
    button = at.button(key=key) if key else next(b for b in at.button if b.label == label)
    button.click()
    at.run()
    assert not at.exception
    return at


def texts(elements: Iterable[Any]) -> list[str]:
    """What the user reads in each of `elements` (markdown escapes undone)."""
    return [literal(e) for e in elements]


def choose(at: AppTest, name: str, version: int, alias: str) -> AppTest:
    at.selectbox(key=f"promote-version-{name}").set_value(version)
    at.selectbox(key=f"promote-alias-{name}").set_value(alias)
    at.run()
    assert not at.exception
    return at


def pending(session: Session) -> list[tuple[str, int, str, PromotionState]]:
    session.expire_all()
    found = session.exec(select(PromotionRequest).order_by(col(PromotionRequest.id)))
    return [(r.requested_by, r.version, r.alias, r.state) for r in found]


def test_a_viewer_sees_models_versions_aliases_and_history_but_no_forms(
    session: Session, settings: Settings, trained: TrainedHome, people: dict[str, Actor]
) -> None:
    dt, lr = trained.versions["dt"], trained.versions["lr"]
    promote(session, settings, people["boss"], trained.name, lr, "production")
    at = registry_page(people["vic"])
    assert [row["model"] for row in table(at, "model")] == [trained.name]  # not "elsewhere"'s
    assert table(at, "model")[0]["aliases"] == f"production: v{lr}"
    assert {m.label: m.value for m in at.metric} == {
        "production": f"v{lr}",
        "staging": "—",
        "champion": "—",
        "challenger": "—",
    }
    assert [t.label for t in at.tabs] == ["Versions", "History"]
    rows = table(at, "algorithm")
    assert [row["version"] for row in rows] == sorted((dt, lr), reverse=True)
    by_algorithm = {row["algorithm"]: row for row in rows}
    assert by_algorithm["lr"]["aliases"] == "production" and by_algorithm["dt"]["aliases"] == ""
    for model_id, row in by_algorithm.items():
        assert row["version"] == trained.versions[model_id]
        assert (row["author"], row["metric"], row["dataset"]) == ("tester", "AUC", "cancer v1")
        assert row["published"] == "not published" and row["finalized"] is True
        assert 0.8 < row["holdout score"] <= 1
        assert len(row["run"]) == 32 and row["job"] > 0
    links = {literal(link): link.proto for link in at.page_link}
    assert set(links) == {
        f"Version {v} ({m}): metrics and explanations" for m, v in trained.versions.items()
    }
    for link in links.values():
        assert link.page == "models"
        version = link.label.split()[1]
        assert link.query_string == f"registered={trained.name}&version={version}"
    moves = table(at, "how")
    assert [(m["alias"], m["from"], m["to"], m["how"], m["by"]) for m in moves] == [
        ("production", "none", f"v{lr}", "promoted", "boss")
    ]
    labels = [b.label for b in at.button]
    for absent in ("Request promotion", "Promote now", "Roll back", "Withdraw"):
        assert absent not in labels
    assert not at.text_area

    other = registry_page(people["boss"])  # admins see every project: one at a time
    other.session_state["project_id"] = trained.other_project
    other.run()
    assert [row["model"] for row in table(other, "model")] == [trained.other]


def test_an_analyst_requests_a_promotion_after_the_comparison_then_withdraws_it(
    session: Session, settings: Settings, trained: TrainedHome, people: dict[str, Actor]
) -> None:
    dt, lr = trained.versions["dt"], trained.versions["lr"]
    promote(session, settings, people["boss"], trained.name, lr, "production")
    at = choose(registry_page(people["ana"]), trained.name, dt, "production")
    assert [t.label for t in at.tabs] == ["Versions", "Promote", "History"]
    scores = table(at, "candidate")
    assert list(scores[0].values()) == ["version", str(dt), str(lr)]
    assert scores[1][""] == "algorithm" and scores[3][""] == "holdout AUC"
    assert "Both were scored on the very same holdout rows" in " ".join(texts(at.caption))
    assert texts(at.warning)[0].startswith(
        f"Version {dt} scores worse than version {lr}, which holds 'production' now"
    )
    assert [m.label for m in at.metric][-1] == f"Holdout AUC of version {dt}"
    assert "Promote now" not in [b.label for b in at.button]  # analysts ask; admins move

    press(at, "Request promotion")  # no reason
    assert texts(at.error) == [
        "Say why this version should be promoted; it is kept in the audit log."
    ]
    assert pending(session) == []
    at.text_area(key=f"promote-reason-{trained.name}").input("simpler to explain")
    press(at, "Request promotion")
    assert not at.error
    assert texts(at.success)[0].startswith(
        f"Asked for version {dt} of {trained.name} to become 'production' (request "
    )
    assert pending(session) == [("ana", dt, "production", PromotionState.pending)]
    assert at.text_area(key=f"promote-reason-{trained.name}").value == ""
    assert any(f"Version {dt} → 'production'" in m for m in texts(at.markdown))

    press(at, "Withdraw")
    assert texts(at.success)[0].startswith("Withdrew request ")
    assert pending(session) == [("ana", dt, "production", PromotionState.withdrawn)]
    assert "You have no pending promotion requests for this model." in texts(at.caption)


def test_an_admin_approves_one_request_and_rejects_another_in_the_admin_page(
    session: Session, settings: Settings, trained: TrainedHome, people: dict[str, Actor]
) -> None:
    dt, lr = trained.versions["dt"], trained.versions["lr"]
    first = ask(session, settings, people["ana"], trained.name, lr)
    second = registry.request_promotion(
        session=session,
        settings=settings,
        actor=people["ana"],
        name=trained.name,
        version=dt,
        alias="staging",
        reason="to try it",
    ).id
    at = admin_promotions(people["boss"])
    headings = [m.split(", asked by ana on ")[0] for m in texts(at.markdown) if m[:3] == "**#"]
    assert headings == [
        f"**#{first}: version {lr} of {trained.name} → 'production'**",
        f"**#{second}: version {dt} of {trained.name} → 'staging'**",
    ]
    assert "Reason: best holdout AUC" in texts(at.markdown)
    assert "No version holds 'production' yet: version " + str(lr) + " would be the first." in (
        texts(at.info)
    )

    press(at, "", key=f"decide-{second}-reject")  # no note
    assert texts(at.error) == ["Say why the request is rejected; it is kept in the audit log."]
    at.text_input(key=f"decide-{second}-note").input("not ready")
    press(at, "", key=f"decide-{second}-reject")
    assert texts(at.success) == [f"Rejected request {second} (version {dt} → 'staging')."]
    at.text_input(key=f"decide-{first}-note").input("agreed")
    press(at, "", key=f"decide-{first}-approve")
    assert texts(at.success) == [
        f"Approved request {first}: 'production' of {trained.name} is now version {lr}."
    ]
    assert "No promotion requests are waiting." in texts(at.caption)
    decided = table(at, "asked by")
    assert [(d["request"], d["state"], d["by"], d["note"]) for d in decided] == [
        (f"#{first}", "approved", "boss", "agreed"),
        (f"#{second}", "rejected", "boss", "not ready"),
    ]
    options = at.selectbox(key="audit-action").options
    assert all(action in options for action in NEW_ACTIONS)
    at.selectbox(key="audit-action").set_value("model.promotion_approved").run()
    audited = table(at, "action")
    assert [(e["who"], e["subject"], e["reason"]) for e in audited] == [
        ("boss", f"{trained.name}@production", "best holdout AUC")
    ]

    shown = registry_page(people["vic"])
    assert {m.label: m.value for m in shown.metric}["production"] == f"v{lr}"
    assert table(shown, "how")[0]["request"] == f"#{first}"


def test_the_requester_cannot_approve_their_own_request(
    session: Session, settings: Settings, trained: TrainedHome, people: dict[str, Actor]
) -> None:
    lr = trained.versions["lr"]
    at = choose(registry_page(people["boss"]), trained.name, lr, "production")
    at.text_area(key=f"promote-reason-{trained.name}").input("four eyes, please")
    press(at, "Request promotion")  # an admin may ask too, and then another admin decides
    assert pending(session) == [("boss", lr, "production", PromotionState.pending)]
    (request,) = registry.pending_requests(session=session, settings=settings, actor=people["boss"])

    at = admin_promotions(people["boss"])
    press(at, "", key=f"decide-{request.id}-approve")
    assert texts(at.error) == [
        "You asked for this promotion yourself, so another admin must approve it (four-eyes rule)."
    ]
    assert pending(session)[0][3] is PromotionState.pending
    other = admin_promotions(people["carol"])
    press(other, "", key=f"decide-{request.id}-approve")
    assert not other.error and pending(session)[0][3] is PromotionState.approved


def test_a_promotion_made_meanwhile_is_refused_as_changed_meanwhile(
    session: Session, settings: Settings, trained: TrainedHome, people: dict[str, Actor]
) -> None:
    dt, lr = trained.versions["dt"], trained.versions["lr"]
    at = choose(registry_page(people["boss"]), trained.name, dt, "production")
    assert "No version holds 'production' yet" in " ".join(texts(at.info))
    promote(session, settings, people["carol"], trained.name, lr, "production")  # meanwhile
    at.text_area(key=f"promote-reason-{trained.name}").input("simpler")
    press(at, "Promote now")
    (error,) = texts(at.error)
    assert CHANGED_MEANWHILE in error and f"now version {lr} by carol" in error
    assert registry.get_model(
        session=session, settings=settings, actor=people["boss"], name=trained.name
    ).aliases == {"production": lr}
    # The page now shows carol's move in the comparison, and the reason typed is kept.
    assert texts(at.warning)[0].startswith(f"Version {dt} scores worse than version {lr}")
    press(at, "Promote now")  # decided on what the page shows now
    assert texts(at.success) == [f"'production' of {trained.name} is now version {dt}."]

    # An approval decided on a comparison that has changed meanwhile is refused the same way.
    request = ask(session, settings, people["ana"], trained.name, lr)
    admin = admin_promotions(people["boss"])
    promote(session, settings, people["carol"], trained.name, lr, "production")
    press(admin, "", key=f"decide-{request}-approve")
    assert CHANGED_MEANWHILE in texts(admin.error)[0]
    assert pending(session)[-1][3] is PromotionState.pending


def test_an_admin_rolls_an_alias_back_from_the_history(
    session: Session, settings: Settings, trained: TrainedHome, people: dict[str, Actor]
) -> None:
    dt, lr = trained.versions["dt"], trained.versions["lr"]
    promote(session, settings, people["boss"], trained.name, dt, "production")
    promote(session, settings, people["carol"], trained.name, lr, "production")
    at = registry_page(people["boss"])
    assert f"**production**: version {lr} now; rolling back moves it to version {dt}." in texts(
        at.markdown
    )
    key = f"rollback-{trained.name}-production"
    press(at, "", key=key)
    assert texts(at.error) == ["Give a reason; it is kept in the audit log."]
    at.text_input(key=f"{key}-reason").input("worse in production")
    press(at, "", key=key)
    assert texts(at.success) == [
        f"Rolled 'production' of {trained.name} back from version {lr} to version {dt}."
    ]
    moves = table(at, "how")
    assert [(m["from"], m["to"], m["how"], m["by"], m["reason"]) for m in moves] == [
        (f"v{lr}", f"v{dt}", "rolled back", "boss", "worse in production"),
        (f"v{dt}", f"v{lr}", "promoted", "carol", "set up by the test"),
        ("none", f"v{dt}", "promoted", "boss", "set up by the test"),
    ]
    assert {m.label: m.value for m in at.metric}["production"] == f"v{dt}"
    assert "No alias has an earlier version to roll back to." in texts(at.caption)
