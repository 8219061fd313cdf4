"""The model registry: registered models with their lineage and aliases, promotion with
approval, rollback, history and the comparison before a promotion. MLflow keeps the models
and their aliases; the app database keeps who may move an alias, and how it moved."""

from services.registry.catalog import aliases, get_model, get_version, list_models
from services.registry.compare import compare
from services.registry.moves import history, promote, rollback, rollback_targets
from services.registry.promotions import (
    approve,
    decided_requests,
    pending_requests,
    reject,
    request_promotion,
    withdraw,
)
from services.registry.shapes import (
    AliasChange,
    AliasEvent,
    Comparison,
    ModelVersionPublic,
    PromotionRequestPublic,
    RegisteredModelPublic,
    VersionScores,
)

__all__ = [
    "AliasChange",
    "AliasEvent",
    "Comparison",
    "ModelVersionPublic",
    "PromotionRequestPublic",
    "RegisteredModelPublic",
    "VersionScores",
    "aliases",
    "approve",
    "compare",
    "decided_requests",
    "get_model",
    "get_version",
    "history",
    "list_models",
    "pending_requests",
    "promote",
    "reject",
    "request_promotion",
    "rollback",
    "rollback_targets",
    "withdraw",
]
