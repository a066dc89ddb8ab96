from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    name = "monitoring"

    def ready(self) -> None:
        # Serving applies each deployment's payload sample rate; the rates live here.
        from monitoring.services import payload_sample_rates
        from serving import sampling

        sampling.register_reader(payload_sample_rates)
