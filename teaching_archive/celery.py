"""Celery application.

The broker is whatever ``CELERY_BROKER_URL`` says: Redis in production and CI, and an embedded
SQLAlchemy transport on the local SQLite file for ``make run`` so a laptop needs no broker server.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "teaching_archive.settings")

app = Celery("teaching_archive")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
