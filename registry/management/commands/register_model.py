"""`manage.py register_model PATH --name NAME ...`: the CLI face of `version_register`."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from accounts.cli import command_actor
from core.errors import ServiceError
from registry.archives import pack_directory
from registry.services import dataset_create, version_register
from registry.storage import discard_stored_files_on_error, work_dir


class Command(BaseCommand):
    help = "Register a model version from a .keras file, a SavedModel archive or directory."

    def add_arguments(self, parser):
        parser.add_argument("path", help=".keras file, .zip/.tar.gz/.tgz archive or directory")
        parser.add_argument("--name", required=True, help="model name")
        parser.add_argument("--env", default=None, help="environment spec name")
        parser.add_argument("--reference", default=None, help="reference dataset file")
        parser.add_argument("--holdout", default=None, help="hold-out dataset file")
        parser.add_argument("--label-column", default=None)
        parser.add_argument("--tag", action="append", default=[], dest="tags")
        parser.add_argument("--source-commit", default="")
        parser.add_argument("--run-url", default="")
        parser.add_argument("--user", default=None, help="username recorded as the actor")
        parser.add_argument(
            "--approve-host-ops",
            default="",
            metavar="REASON",
            help="admin --user only: register a SavedModel whose graph reaches the host "
            "(files, network, Python), recording REASON in the audit log",
        )

    def handle(self, *args, **options):
        path = Path(options["path"])
        if not path.exists():
            raise CommandError(f"{path} does not exist")
        actor = command_actor(options["user"])
        try:
            # One unit: a dataset stored for a registration that then fails is removed too.
            with (
                work_dir(settings.FILE_UPLOAD_TEMP_DIR) as work,
                discard_stored_files_on_error(),
                transaction.atomic(),
            ):
                if path.is_dir():
                    packed = work / f"{path.name or 'savedmodel'}.tar.gz"
                    pack_directory(path, packed)
                    path = packed
                datasets = {
                    role: self._dataset(options[role], options["label_column"], actor)
                    for role in ("reference", "holdout")
                }
                version = version_register(
                    model_name=options["name"],
                    upload=path,
                    filename=path.name,
                    actor=actor,
                    environment=options["env"],
                    holdout_dataset=datasets["holdout"],
                    reference_dataset=datasets["reference"],
                    tags=options["tags"],
                    source_commit=options["source_commit"],
                    run_url=options["run_url"],
                    approve_host_ops=bool(options["approve_host_ops"]),
                    approval_reason=options["approve_host_ops"],
                )
        except ServiceError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(
            f"Registered {version.model.name} v{version.number} "
            f"(sha256 {version.artifact.sha256[:12]})"
        )

    def _dataset(self, file, label_column, actor):
        if not file:
            return None
        file = Path(file)
        if not file.is_file():
            raise CommandError(f"dataset file {file} does not exist")
        return dataset_create(
            name=file.name, upload=file, filename=file.name, label_column=label_column, actor=actor
        )
