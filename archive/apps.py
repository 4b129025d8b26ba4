from django.apps import AppConfig


class ArchiveConfig(AppConfig):
    name = "archive"
    verbose_name = "Teaching archive"

    def ready(self) -> None:
        from . import signals  # noqa: F401  (registers the worker-ready recovery hook)
