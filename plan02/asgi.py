import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "plan02.settings")
# No single-report fast path here (plan02/wsgi.py has one, reports.fastpath): the portal is served by
# gunicorn's WSGI workers (Procfile, `make serve`), and under an ASGI server Django runs the synchronous views
# and the database in a thread anyway, so a fast path would save little. The full stack answers the same
# bodies with the same rules (authentication, throttle, body limit and decoding are the same functions).
application = get_asgi_application()
