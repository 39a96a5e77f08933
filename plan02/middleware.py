from django.conf import settings
from django.contrib.auth.middleware import LoginRequiredMiddleware


class PortalLoginRequiredMiddleware(LoginRequiredMiddleware):
    """Every page needs a session, except the paths in LOGIN_EXEMPT_PREFIXES.

    The API is exempt here because it answers 401/403 in JSON itself (session or API key), instead of
    redirecting a provincial system to an HTML login page.
    """

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.path_info.startswith(settings.LOGIN_EXEMPT_PREFIXES):
            return None
        return super().process_view(request, view_func, view_args, view_kwargs)
