"""Strings of Django's admin that its own Czech catalogue (Django 5.2) does not translate: the
admin's index table headers read by screen readers. Listed here so ``make messages`` keeps
their Czech in locale/cs (a project catalogue is searched before Django's)."""

from django.utils.translation import gettext_noop

DJANGO_ADMIN = (
    gettext_noop("Add link"),
    gettext_noop("Change or view list link"),
    gettext_noop("Model name"),
)
