"""Celery tasks of the search app: take an id, re-fetch, call a service."""

from __future__ import annotations

from celery import shared_task
from django.db import InterfaceError, OperationalError
from elastic_transport import ConnectionError as ESConnectionError
from elastic_transport import ConnectionTimeout as ESConnectionTimeout

from . import services

RETRYABLE = (OperationalError, InterfaceError, ESConnectionError, ESConnectionTimeout)


@shared_task(
    name="search.index_case",
    acks_late=True,
    autoretry_for=RETRYABLE,
    retry_backoff=True,
    retry_backoff_max=300,
    retry_jitter=True,
    max_retries=8,
    soft_time_limit=60,
    time_limit=120,
)
def index_case(case_id: int) -> str:
    """Index a published case, or remove an unpublished/deleted one (safe to repeat)."""
    return services.index_case(case_id)


@shared_task(
    name="search.index_diagnosis_cases",
    acks_late=True,
    autoretry_for=RETRYABLE,
    retry_backoff=True,
    retry_backoff_max=300,
    retry_jitter=True,
    max_retries=8,
    soft_time_limit=600,
    time_limit=900,
)
def index_diagnosis_cases(diagnosis_id: int) -> int:
    """Re-index the published cases of a diagnosis whose names changed (safe to repeat)."""
    return services.index_diagnosis_cases(diagnosis_id)
