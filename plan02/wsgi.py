import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "plan02.settings")
application = get_wsgi_application()

# The single-report POST of an API key, the portal's hottest request, answered in front of the full stack.
from reports.fastpath import wrap  # noqa: E402 - after Django is set up by get_wsgi_application()

application = wrap(application)
