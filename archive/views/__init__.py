"""Views by audience: ``cases`` (teachers' editor and the case page), ``images`` (frames and
downloads)."""
