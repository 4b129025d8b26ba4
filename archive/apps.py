from django.apps import AppConfig


class ArchiveConfig(AppConfig):
    name = "archive"
    verbose_name = "Teaching archive"

    def ready(self) -> None:
        from archive.services.policy import effective_profile, load_pixel_cleaner

        # Fail closed: no web or worker process starts without the burned-in text cleaner,
        # or with a de-identification profile that is not what the settings say it is.
        load_pixel_cleaner()
        effective_profile()
        from . import checks, signals  # noqa: F401  (system checks; worker start-up hooks)
