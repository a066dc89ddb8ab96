"""Record each service's environment (deploy/environments/*.json) as a registry EnvironmentSpec,
so the parity check compares a version's expected runtime with what the images really run."""

from __future__ import annotations

import json
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from core.errors import ServiceError
from registry.models import EnvironmentSpec
from registry.services import environment_create

DEFAULT_DIR = Path(settings.BASE_DIR) / "deploy" / "environments"
FIELDS = (
    "python",
    "tensorflow",
    "cuda",
    "cudnn",
    "base_image",
    "env_vars",
    "cpu_limit",
    "memory_limit",
    "gpu_count",
    "extra_packages",
)
REQUIRED = ("python", "tensorflow", "base_image")


def _differences(spec: EnvironmentSpec, wanted: dict) -> list[str]:
    defaults = {  # the model's own defaults for the fields a file may leave out
        name: EnvironmentSpec._meta.get_field(name).get_default()
        for name in FIELDS
        if name not in REQUIRED
    }
    wanted = {**defaults, **wanted}
    if wanted["cpu_limit"] is not None:
        wanted["cpu_limit"] = float(wanted["cpu_limit"])
    return [name for name in FIELDS if getattr(spec, name) != wanted[name]]


class Command(BaseCommand):
    help = "Create the environment specs in deploy/environments (existing identical ones are kept)."

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="*", help="JSON files (default: deploy/environments)")
        parser.add_argument("--user", help="record the specs as created by this user")

    def handle(self, *args, paths, user, **options):
        files = [Path(p) for p in paths] or sorted(DEFAULT_DIR.glob("*.json"))
        if not files:
            raise CommandError(f"no environment specs found in {DEFAULT_DIR}")
        actor = None
        if user:
            actor = get_user_model().objects.filter(username=user).first()
            if actor is None:
                raise CommandError(f"no user named {user!r}")
        documents = [(path, self._read(path)) for path in files]
        with transaction.atomic():  # all the specs or none: a bad file leaves nothing behind
            for path, doc in documents:
                self._load(path, doc, actor)

    def _load(self, path: Path, doc: dict, actor) -> None:
        existing = EnvironmentSpec.objects.filter(name=doc.get("name", "")).first()
        if existing is not None:
            changed = _differences(existing, doc)
            if changed:
                # A spec is a record versions point at: a changed runtime gets a new name.
                raise CommandError(
                    f"{path.name}: environment {existing.name!r} exists with different "
                    f"{', '.join(changed)}; give the changed runtime a new name"
                )
            self.stdout.write(f"{existing.name}: already recorded")
            return
        try:
            spec = environment_create(actor=actor, **doc)
        except ServiceError as exc:
            raise CommandError(f"{path.name}: {exc.message}") from None
        self.stdout.write(self.style.SUCCESS(f"{spec.name}: created"))

    @staticmethod
    def _read(path: Path) -> dict:
        try:
            doc = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            raise CommandError(f"{path}: {exc}") from None
        unknown = set(doc) - {"name", *FIELDS} if isinstance(doc, dict) else {"<not an object>"}
        if unknown:
            raise CommandError(f"{path.name}: unknown field(s) {sorted(unknown)}")
        return doc
