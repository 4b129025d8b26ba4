from django.apps import AppConfig


class ArchiveConfig(AppConfig):
    name = "archive"
    verbose_name = "Teaching archive"

    def ready(self) -> None:
        from . import checks, signals  # noqa: F401  (register system checks, worker-ready hook)
