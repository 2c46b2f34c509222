from django.apps import AppConfig


class TrendsConfig(AppConfig):
    name = "apps.trends"
    verbose_name = "Trends"

    def ready(self) -> None:
        from apps.trends import run_metrics  # noqa: F401 - connects the PipelineRun metrics
        from apps.trends.embeddings import model_spec

        model_spec()  # an unknown EMBEDDING_MODEL stops start-up with the choices, not the first pipeline run
