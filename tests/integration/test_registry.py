"""The registry on really trained models in a real MLflow store: what each person sees, the
promotion workflow (request, four-eyes approval, rejection, withdrawal), direct promotion,
rollback, the comparison before a promotion, and the audit trail of every step."""

import pytest
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, select

from services import audit, registry
from services.access import Actor
from services.automl import tracking
from services.config import Settings
from services.errors import Conflict, Forbidden, InvalidInput, NotFound, Unavailable
from services.models import AliasHolder, AliasMove, Job, PromotionState, Role
from services.registry.compare import _worse
from tests.support.actors import OPERATOR, PROJECT
from tests.support.registry import TrainedHome, copy_home, person


@pytest.fixture
def engine(settings: Settings, trained: TrainedHome) -> Engine:
    return copy_home(trained, settings)


@pytest.fixture
def people(session: Session) -> dict[str, Actor]:
    """Two admins, an analyst and a viewer of the first project, an analyst of none."""
    return {
        "bob": person(session, "bob", Role.admin),
        "carol": person(session, "carol", Role.admin),
        "ana": person(session, "ana", Role.analyst, PROJECT),
        "vic": person(session, "vic", Role.viewer, PROJECT),
        "olga": person(session, "olga", Role.analyst),
    }


def _mlflow_alias(settings: Settings, name: str, alias: str) -> int | None:
    from mlflow.exceptions import MlflowException

    try:
        found = tracking.client(settings).get_model_version_by_alias(name, alias)
    except MlflowException:
        return None
    return int(found.version)


def _recorded(session: Session, name: str, alias: str) -> tuple[int | None, int]:
    session.expire_all()
    row = session.exec(
        select(AliasHolder).where(AliasHolder.model_name == name, AliasHolder.alias == alias)
    ).first()
    return (row.version, row.revision) if row else (None, 0)


def _events(session: Session, action: str) -> list[audit.AuditEventPublic]:
    return audit.list_events(session=session, actor=OPERATOR, action=action)


def test_each_person_sees_the_models_of_their_projects_with_their_lineage(
    session: Session, settings: Settings, trained: TrainedHome, people: dict[str, Actor]
) -> None:
    models = registry.list_models(session=session, settings=settings, actor=OPERATOR)
    assert [m.name for m in models] == [trained.name, trained.other]
    cancer = models[0]
    assert [v.version for v in cancer.versions] == sorted(trained.versions.values(), reverse=True)
    assert cancer.project_id == PROJECT and cancer.aliases == {} and cancer.alias_warnings == []
    for version in cancer.versions:
        assert version.model_id in trained.versions
        assert trained.versions[version.model_id] == version.version
        assert (version.author, version.metric, version.target) == ("tester", "AUC", "target")
        assert version.dataset_name == "cancer" and version.dataset_version == 1
        assert 0.8 < (version.holdout_score or 0) <= 1 and version.finalized is True
        assert version.job_id and version.run_id and version.sha256
        assert version.aliases == [] and version.publications == []
    assert models[1].project_id == trained.other_project

    for name in ("ana", "vic"):
        seen = registry.list_models(session=session, settings=settings, actor=people[name])
        assert [m.name for m in seen] == [trained.name]
    assert registry.list_models(session=session, settings=settings, actor=people["olga"]) == []
    hidden = "There is no registered model named '{}' that you can see."
    for name in (trained.other, "no-such-model"):
        with pytest.raises(NotFound) as refused:
            registry.get_model(session=session, settings=settings, actor=people["ana"], name=name)
        assert str(refused.value) == hidden.format(name)


def test_a_version_without_its_project_tag_belongs_to_its_training_jobs_project(
    session: Session, settings: Settings, trained: TrainedHome, people: dict[str, Actor]
) -> None:
    client = tracking.client(settings)
    for found in client.search_model_versions(f"name = '{trained.name}'"):
        assert found.tags["kaizen.project_id"] == str(PROJECT)
        client.delete_model_version_tag(trained.name, found.version, "kaizen.project_id")
    model = registry.get_model(
        session=session, settings=settings, actor=people["ana"], name=trained.name
    )
    assert model.project_id == PROJECT and len(model.versions) == 2
    with pytest.raises(NotFound):
        registry.get_model(
            session=session, settings=settings, actor=people["olga"], name=trained.name
        )


def test_an_approved_request_moves_the_alias_in_mlflow_and_the_record(
    session: Session, settings: Settings, trained: TrainedHome, people: dict[str, Actor]
) -> None:
    lr = trained.versions["lr"]
    request = registry.request_promotion(
        session=session,
        settings=settings,
        actor=people["ana"],
        name=trained.name,
        version=lr,
        alias="production",
        reason="best AUC on the holdout",
    )
    assert (request.state, request.requested_by, request.expected_revision) == (
        PromotionState.pending,
        "ana",
        0,
    )
    waiting = registry.pending_requests(session=session, settings=settings, actor=people["bob"])
    assert [r.id for r in waiting] == [request.id]
    comparison = waiting[0].comparison
    assert comparison is not None and comparison.current is None and not comparison.worse
    assert registry.pending_requests(session=session, settings=settings, actor=people["ana"])
    assert registry.pending_requests(session=session, settings=settings, actor=people["olga"]) == []

    change = registry.approve(
        session=session, settings=settings, actor=people["bob"], request_id=request.id, note="ok"
    )
    assert (change.from_version, change.to_version, change.revision, change.by) == (
        None,
        lr,
        1,
        "bob",
    )
    assert change.request_id == request.id and change.kind.value == "approved"
    assert _mlflow_alias(settings, trained.name, "production") == lr
    assert _recorded(session, trained.name, "production") == (lr, 1)
    model = registry.get_model(
        session=session, settings=settings, actor=people["vic"], name=trained.name
    )
    assert model.aliases == {"production": lr} and model.alias_revisions == {"production": 1}
    assert [v.aliases for v in model.versions if v.version == lr] == [["production"]]
    assert registry.pending_requests(session=session, settings=settings, actor=people["bob"]) == []

    asked, approved = (
        _events(session, "model.promotion_requested"),
        _events(session, "model.promotion_approved"),
    )
    assert [(e.actor, e.subject, e.reason) for e in asked] == [
        ("ana", f"{trained.name}@production", "best AUC on the holdout")
    ]
    assert asked[0].after == {"version": lr, "request_id": request.id}
    assert approved[0].actor == "bob"
    assert approved[0].before == {"version": None, "revision": 0}
    assert approved[0].after == {
        "version": lr,
        "revision": 1,
        "request_id": request.id,
        "note": "ok",
    }
    history = registry.history(
        session=session, settings=settings, actor=people["vic"], name=trained.name
    )
    assert [(e.to_version, e.by, e.request_id) for e in history] == [(lr, "bob", request.id)]


def test_the_requester_cannot_approve_their_own_request_unless_single_admin(
    session: Session, settings: Settings, trained: TrainedHome, people: dict[str, Actor]
) -> None:
    asked = [
        registry.request_promotion(
            session=session,
            settings=settings,
            actor=people["bob"],
            name=trained.name,
            version=trained.versions[model],
            alias=alias,
            reason="bob's own choice",
        )
        for model, alias in (("lr", "staging"), ("dt", "champion"))
    ]
    with pytest.raises(Forbidden, match="another admin must approve it"):
        registry.approve(
            session=session, settings=settings, actor=people["bob"], request_id=asked[0].id
        )
    assert _recorded(session, trained.name, "staging") == (None, 0)
    registry.approve(
        session=session, settings=settings, actor=people["carol"], request_id=asked[0].id
    )
    assert _mlflow_alias(settings, trained.name, "staging") == trained.versions["lr"]

    alone = settings.model_copy(update={"single_admin": True})
    change = registry.approve(
        session=session, settings=alone, actor=people["bob"], request_id=asked[1].id
    )
    assert (
        change.by == "bob"
        and _mlflow_alias(settings, trained.name, "champion") == change.to_version
    )


def test_an_admin_rejects_with_a_reason_and_a_requester_withdraws_their_own(
    session: Session, settings: Settings, trained: TrainedHome, people: dict[str, Actor]
) -> None:
    def ask() -> registry.PromotionRequestPublic:
        return registry.request_promotion(
            session=session,
            settings=settings,
            actor=people["ana"],
            name=trained.name,
            version=trained.versions["dt"],
            alias="production",
            reason="simpler to explain",
        )

    first = ask()
    with pytest.raises(InvalidInput, match="Say why the request is rejected"):
        registry.reject(session=session, actor=people["bob"], request_id=first.id, note="  ")
    rejected = registry.reject(
        session=session, actor=people["bob"], request_id=first.id, note="worse AUC"
    )
    assert (rejected.state, rejected.decided_by, rejected.decision_note) == (
        PromotionState.rejected,
        "bob",
        "worse AUC",
    )
    with pytest.raises(Conflict, match=f"Request {first.id} was already rejected by bob"):
        registry.approve(
            session=session, settings=settings, actor=people["carol"], request_id=first.id
        )

    second = ask()  # a decided request does not block a new one
    with pytest.raises(Forbidden, match="Only ana, who asked for it, can withdraw"):
        registry.withdraw(session=session, actor=people["bob"], request_id=second.id)
    withdrawn = registry.withdraw(session=session, actor=people["ana"], request_id=second.id)
    assert withdrawn.state is PromotionState.withdrawn
    assert _recorded(session, trained.name, "production") == (None, 0)
    assert _mlflow_alias(settings, trained.name, "production") is None
    ends = [
        (e.action, e.actor, e.after["state"])
        for e in audit.list_events(session=session, actor=OPERATOR)
        if e.after and "state" in e.after
    ]
    assert ends == [
        ("model.promotion_withdrawn", "ana", "withdrawn"),
        ("model.promotion_rejected", "bob", "rejected"),
    ]


def test_a_request_is_refused_when_it_cannot_be_decided_well(
    session: Session, settings: Settings, trained: TrainedHome, people: dict[str, Actor]
) -> None:
    def ask(**changes: object) -> registry.PromotionRequestPublic:
        values: dict[str, object] = {
            "name": trained.name,
            "version": trained.versions["lr"],
            "alias": "staging",
            "reason": "better",
        }
        return registry.request_promotion(
            session=session,
            settings=settings,
            actor=people["ana"],
            **(values | changes),  # type: ignore[arg-type]
        )

    with pytest.raises(InvalidInput, match="Say why this version should be promoted"):
        ask(reason=" \n")
    with pytest.raises(InvalidInput, match="'qa' is not one of the aliases"):
        ask(alias="qa")
    with pytest.raises(NotFound, match="has no version 99"):
        ask(version=99)
    with pytest.raises(NotFound):
        ask(name=trained.other)  # another project's model
    first = ask()
    with pytest.raises(
        InvalidInput, match=f"already a pending request \\(number {first.id}, by ana\\)"
    ):
        ask()
    registry.promote(
        session=session,
        settings=settings,
        actor=people["bob"],
        name=trained.name,
        version=trained.versions["dt"],
        alias="production",
        reason="first",
    )
    with pytest.raises(InvalidInput, match="already holds 'production'"):
        ask(version=trained.versions["dt"], alias="production")


def test_each_role_may_do_only_its_part(
    session: Session, settings: Settings, trained: TrainedHome, people: dict[str, Actor]
) -> None:
    vic, ana = people["vic"], people["ana"]
    assert registry.list_models(session=session, settings=settings, actor=vic)
    with pytest.raises(Forbidden, match=r"Your role \(viewer\) cannot request promotions"):
        registry.request_promotion(
            session=session,
            settings=settings,
            actor=vic,
            name=trained.name,
            version=trained.versions["lr"],
            alias="staging",
            reason="r",
        )
    with pytest.raises(Forbidden, match=r"Your role \(viewer\) cannot request promotions"):
        registry.pending_requests(session=session, settings=settings, actor=vic)
    request = registry.request_promotion(
        session=session,
        settings=settings,
        actor=ana,
        name=trained.name,
        version=trained.versions["lr"],
        alias="staging",
        reason="r",
    )
    refusals = {
        "approve": lambda: registry.approve(
            session=session, settings=settings, actor=ana, request_id=request.id
        ),
        "reject": lambda: registry.reject(
            session=session, actor=ana, request_id=request.id, note="no"
        ),
        "promote": lambda: registry.promote(
            session=session,
            settings=settings,
            actor=ana,
            name=trained.name,
            version=trained.versions["lr"],
            alias="staging",
            reason="r",
        ),
        "rollback": lambda: registry.rollback(
            session=session,
            settings=settings,
            actor=ana,
            name=trained.name,
            alias="staging",
            reason="r",
        ),
    }
    for action, call in refusals.items():
        with pytest.raises(Forbidden, match=r"Your role \(analyst\) cannot"):
            call()
            pytest.fail(f"an analyst could {action}")
    assert _recorded(session, trained.name, "staging") == (None, 0)


def test_rollback_moves_the_alias_back_one_step_at_a_time(
    session: Session, settings: Settings, trained: TrainedHome
) -> None:
    dt, lr = trained.versions["dt"], trained.versions["lr"]

    def promote(version: int, reason: str) -> registry.AliasChange:
        return registry.promote(
            session=session,
            settings=settings,
            actor=OPERATOR,
            name=trained.name,
            version=version,
            alias="production",
            reason=reason,
        )

    def roll_back() -> registry.AliasChange:
        return registry.rollback(
            session=session,
            settings=settings,
            actor=OPERATOR,
            name=trained.name,
            alias="production",
            reason="bad in production",
        )

    def targets() -> dict[str, int]:
        return registry.rollback_targets(
            session=session, settings=settings, actor=OPERATOR, name=trained.name
        )

    with pytest.raises(InvalidInput, match="nothing to roll back to"):
        roll_back()
    promote(dt, "first model")
    promote(lr, "better model")
    assert targets() == {"production": dt}
    back = roll_back()
    assert (back.from_version, back.to_version, back.revision, back.kind.value) == (
        lr,
        dt,
        3,
        "rolled_back",
    )
    assert _mlflow_alias(settings, trained.name, "production") == dt
    assert _recorded(session, trained.name, "production") == (dt, 3)
    with pytest.raises(InvalidInput, match="nothing to roll back to"):
        roll_back()  # dt was the first to hold it
    assert targets() == {}

    history = registry.history(
        session=session, settings=settings, actor=OPERATOR, name=trained.name
    )
    assert [(e.kind.value, e.from_version, e.to_version, e.reason) for e in history] == [
        ("rolled_back", lr, dt, "bad in production"),
        ("promoted", dt, lr, "better model"),
        ("promoted", None, dt, "first model"),
    ]
    rolled = _events(session, "model.rolled_back")
    assert [(e.before, e.after, e.reason) for e in rolled] == [
        ({"version": lr, "revision": 2}, {"version": dt, "revision": 3}, "bad in production")
    ]
    assert len(_events(session, "model.promoted")) == 2


def test_the_comparison_warns_when_the_candidate_is_worse_on_the_same_holdout(
    session: Session, settings: Settings, trained: TrainedHome, people: dict[str, Actor]
) -> None:
    dt, lr = trained.versions["dt"], trained.versions["lr"]
    registry.promote(
        session=session,
        settings=settings,
        actor=OPERATOR,
        name=trained.name,
        version=lr,
        alias="production",
        reason="best",
    )
    worse = registry.compare(
        session=session,
        settings=settings,
        actor=people["vic"],
        name=trained.name,
        version=dt,
        alias="production",
    )
    assert (worse.metric, worse.greater_is_better, worse.same_holdout) == ("AUC", True, True)
    assert worse.current is not None and worse.current.version == lr
    assert worse.worse and worse.candidate.score is not None and worse.current.score is not None
    assert worse.candidate.score < worse.current.score
    assert worse.candidate.source == worse.current.source == "leaderboard"
    assert worse.warning == (
        f"Version {dt} scores worse than version {lr}, which holds 'production' now: holdout "
        f"AUC {worse.candidate.score:.4f} against {worse.current.score:.4f} (higher is better)."
    )
    assert worse.current_revision == 1

    # Without the job's record, the scores come from the version's MLflow runs, and whether
    # the holdout rows were the same is unknown (the seed is not in MLflow).
    job = session.get(
        Job,
        registry.get_version(
            session=session, settings=settings, actor=OPERATOR, name=trained.name, version=dt
        ).job_id,
    )
    assert job is not None
    job.result, job.params = None, {}
    session.add(job)
    session.commit()
    again = registry.compare(
        session=session,
        settings=settings,
        actor=OPERATOR,
        name=trained.name,
        version=dt,
        alias="production",
    )
    assert again.candidate.source == "run" and again.candidate.holdout == worse.candidate.holdout
    assert not again.same_holdout
    assert again.warning and again.warning.endswith("so compare with care.")

    better = registry.compare(
        session=session,
        settings=settings,
        actor=OPERATOR,
        name=trained.name,
        version=lr,
        alias="staging",
    )
    assert better.current is None and not better.worse and better.warning is None


@pytest.mark.parametrize(
    ("ours", "theirs", "greater_is_better", "worse"),
    [
        (0.9, 0.95, True, True),
        (0.95, 0.9, True, False),
        (12.0, 10.0, False, True),
        (8.0, 10.0, False, False),
        (None, 10.0, False, False),
    ],
)
def test_worse_respects_the_metrics_direction(
    ours: float | None, theirs: float, greater_is_better: bool, worse: bool
) -> None:
    assert _worse(ours, theirs, greater_is_better) is worse


def test_a_failing_mlflow_leaves_the_record_and_the_request_as_they_were(
    session: Session,
    settings: Settings,
    trained: TrainedHome,
    people: dict[str, Actor],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    dt, lr = trained.versions["dt"], trained.versions["lr"]
    registry.promote(
        session=session,
        settings=settings,
        actor=OPERATOR,
        name=trained.name,
        version=dt,
        alias="production",
        reason="first",
    )
    request = registry.request_promotion(
        session=session,
        settings=settings,
        actor=people["ana"],
        name=trained.name,
        version=lr,
        alias="production",
        reason="better",
    )

    def unreachable(*_: object) -> None:
        raise MlflowException("API request to http://mlflow:5000 failed: connection refused")

    with monkeypatch.context() as patch:
        patch.setattr(MlflowClient, "set_registered_model_alias", unreachable)
        with pytest.raises(
            Unavailable,
            match=r"MLflow could not move the alias 'production' .* so nothing was changed",
        ):
            registry.approve(
                session=session, settings=settings, actor=people["bob"], request_id=request.id
            )
        with pytest.raises(Unavailable):
            registry.promote(
                session=session,
                settings=settings,
                actor=OPERATOR,
                name=trained.name,
                version=lr,
                alias="production",
                reason="direct",
            )

    assert _recorded(session, trained.name, "production") == (dt, 1)
    assert _mlflow_alias(settings, trained.name, "production") == dt
    assert [
        r.state
        for r in registry.pending_requests(session=session, settings=settings, actor=people["bob"])
    ] == [PromotionState.pending]
    assert len(session.exec(select(AliasMove)).all()) == 1
    assert (
        _events(session, "model.promotion_approved") == []
        and len(_events(session, "model.promoted")) == 1
    )
    change = registry.approve(
        session=session, settings=settings, actor=people["bob"], request_id=request.id
    )
    assert change.to_version == lr and _mlflow_alias(settings, trained.name, "production") == lr


def test_a_failed_save_after_mlflow_moved_the_alias_moves_it_back(
    session: Session, settings: Settings, trained: TrainedHome, monkeypatch: pytest.MonkeyPatch
) -> None:
    dt, lr = trained.versions["dt"], trained.versions["lr"]
    registry.promote(
        session=session,
        settings=settings,
        actor=OPERATOR,
        name=trained.name,
        version=dt,
        alias="production",
        reason="first",
    )

    def lost(*_: object) -> None:
        raise OperationalError("COMMIT", {}, Exception("server closed the connection"))

    with monkeypatch.context() as patch:
        patch.setattr(session, "commit", lost)
        with pytest.raises(OperationalError):
            registry.promote(
                session=session,
                settings=settings,
                actor=OPERATOR,
                name=trained.name,
                version=lr,
                alias="production",
                reason="second",
            )
    session.rollback()
    assert _mlflow_alias(settings, trained.name, "production") == dt
    assert _recorded(session, trained.name, "production") == (dt, 1)


def test_an_alias_changed_in_mlflow_directly_is_reported_and_the_record_counts(
    session: Session, settings: Settings, trained: TrainedHome
) -> None:
    dt, lr = trained.versions["dt"], trained.versions["lr"]
    registry.promote(
        session=session,
        settings=settings,
        actor=OPERATOR,
        name=trained.name,
        version=dt,
        alias="production",
        reason="first",
    )
    tracking.client(settings).set_registered_model_alias(trained.name, "production", str(lr))
    model = registry.get_model(
        session=session, settings=settings, actor=OPERATOR, name=trained.name
    )
    assert model.aliases == {"production": dt}
    assert model.alias_warnings == [
        f"MLflow shows the alias 'production' on version {lr}, but Kaizen's record says version "
        f"{dt}; it was changed outside Kaizen. Kaizen's record counts: the alias's next "
        "promotion or rollback sets MLflow to match."
    ]
