"""Names shared by every app: roles, API-key scopes and the key format."""

from __future__ import annotations

import re

from django.db import models


class Role(models.TextChoices):
    VIEWER = "viewer", "Viewer"
    DEPLOYER = "deployer", "Deployer"
    ADMIN = "admin", "Admin"


class Scope(models.TextChoices):
    PREDICT = "predict", "Predict (any model)"
    READ = "read", "Read"
    DEPLOY = "deploy", "Deploy"
    ADMIN = "admin", "Admin"
    # Create, rotate, revoke and change keys; `read` alone only reads them.
    KEYS = "keys", "Manage API keys"


# A per-model predict scope: `predict:<model slug>`.
MODEL_PREDICT_SCOPE_RE = re.compile(r"^predict:[a-z0-9][a-z0-9_-]{0,99}$")
# Every per-model scope a key may hold: `predict:<model>` or `deploy:<model>` (deploy, roll back,
# split traffic, validate, run batch jobs, change policies of that model only).
MODEL_SCOPE_RE = re.compile(r"^(predict|deploy):[a-z0-9][a-z0-9_-]{0,99}$")

# The scopes each role may hold (or grant to its keys); a key never exceeds its owner.
# Every role manages its own keys, so every role may hand that right to a key.
ROLE_SCOPES: dict[str, frozenset[str]] = {
    Role.VIEWER: frozenset({Scope.READ, Scope.PREDICT, Scope.KEYS}),
    Role.DEPLOYER: frozenset({Scope.READ, Scope.PREDICT, Scope.DEPLOY, Scope.KEYS}),
    Role.ADMIN: frozenset({Scope.READ, Scope.PREDICT, Scope.DEPLOY, Scope.ADMIN, Scope.KEYS}),
}

# Key format: mg_live_<prefix>_<secret><checksum>.
KEY_PREFIX = "mg_live_"
KEY_ID_LENGTH = 12
KEY_SECRET_LENGTH = 32
KEY_CHECKSUM_LENGTH = 6

AUDIT_LIST_PAGE_SIZE = 50
