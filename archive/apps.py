from django.apps import AppConfig


class ArchiveConfig(AppConfig):
    name = "archive"
    verbose_name = "Teaching archive"

    def ready(self) -> None:
        from archive.services.policy import load_pixel_cleaner

        # Fail closed: no web or worker process starts without the burned-in text cleaner.
        load_pixel_cleaner()
        from . import checks, signals  # noqa: F401  (system checks; worker start-up hooks)
