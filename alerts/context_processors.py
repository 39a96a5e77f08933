from django.utils.functional import SimpleLazyObject

from alerts.selectors import unread_count


def bell(request):
    """The unread count of the header's bell, for logged-in users: one COUNT, only when a template shows it."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"unread_notifications": SimpleLazyObject(lambda: unread_count(user=user))}
