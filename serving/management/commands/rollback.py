"""`manage.py rollback MODEL DEPLOYMENT --user NAME --reason TEXT [--to-event N]`: the CLI face
of `deployment_rollback` (step back, or restore the state event N left; serving/history.py)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from accounts.cli import command_actor
from core.errors import ServiceError
from serving.deploy import deployment_rollback


class Command(BaseCommand):
    help = "Step a deployment back to its previous state, or restore an event's state."

    def add_arguments(self, parser):
        parser.add_argument("model")
        parser.add_argument("deployment")
        parser.add_argument("--user", default=None, help="username recorded as the actor")
        parser.add_argument("--reason", required=True)
        parser.add_argument("--to-event", type=int, default=None, dest="to_event")

    def handle(self, *args, **options):
        try:
            event = deployment_rollback(
                model_name=options["model"],
                deployment_name=options["deployment"],
                actor=command_actor(options["user"]),
                reason=options["reason"],
                to_event_id=options["to_event"],
            )
        except ServiceError as exc:
            raise CommandError(exc.message) from None
        serving = ", ".join(f"v{s['version']} {s['weight']}%" for s in event.after)
        self.stdout.write(
            f"{options['model']}/{options['deployment']} now serves {serving} "
            f"(the state of #{event.restored_event_id}; event #{event.pk})."
        )
