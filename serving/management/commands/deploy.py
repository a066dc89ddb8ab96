"""`manage.py deploy MODEL DEPLOYMENT VERSION --user NAME --reason TEXT [--override]`: the CLI
face of `deployment_deploy` (the gate and the override terms are the service's)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from accounts.cli import command_actor
from core.errors import ServiceError
from serving.deploy import deployment_deploy


class Command(BaseCommand):
    help = "Deploy a model version to a deployment (100% of its traffic)."

    def add_arguments(self, parser):
        parser.add_argument("model")
        parser.add_argument("deployment")
        parser.add_argument("version", type=int)
        parser.add_argument("--user", default=None, help="username recorded as the actor")
        parser.add_argument("--reason", default="", help="why; required with --override")
        parser.add_argument(
            "--override",
            action="store_true",
            help="deploy without a passed validation run (admins only, written reason)",
        )

    def handle(self, *args, **options):
        try:
            event = deployment_deploy(
                model_name=options["model"],
                deployment_name=options["deployment"],
                version_number=options["version"],
                actor=command_actor(options["user"]),
                reason=options["reason"],
                override=options["override"],
            )
        except ServiceError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(
            f"Deployed {options['model']} v{options['version']} to {options['deployment']} "
            f"(event #{event.pk}{', override' if event.override else ''})."
        )
