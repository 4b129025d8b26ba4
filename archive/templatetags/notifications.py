"""``{% unread_comment_count %}``: comments by others on the user's cases not read yet (the
count beside "My cases")."""

from django import template

from archive.services.comments import unread_comments

register = template.Library()


@register.simple_tag(takes_context=True)
def unread_comment_count(context) -> int:
    request = context.get("request")
    if request is None or not request.user.is_authenticated:
        return 0
    return unread_comments(user=request.user).count()
