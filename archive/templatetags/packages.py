"""``{% if case|exportable_by:request.user %}``: may this user export the case as a package?
(The privacy policy decides.)"""

from django import template

from archive import privacy

register = template.Library()


@register.filter
def exportable_by(case, user) -> bool:
    return privacy.can_export_case(user, case)
