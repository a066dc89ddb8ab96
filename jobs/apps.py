from django.apps import AppConfig


class JobsConfig(AppConfig):
    """Work for the gpu-queue workers: the validation suite and its runs, batch jobs, worker
    heartbeats and the one lifecycle they share. Sits above serving (it loads runtimes and
    reads deployments) and below monitoring."""

    name = "jobs"

    def ready(self) -> None:
        # The services queue their Celery task through the lifecycle, which jobs.tasks wires up;
        # a web process never autodiscovers tasks, so it is loaded here.
        from jobs import tasks  # noqa: F401
