# Django's Vietnamese formats, with thousands grouped (3.321) so `intcomma` and `floatformat:"g"` read well.
from django.conf.locale.vi.formats import *  # noqa: F403

NUMBER_GROUPING = 3
SHORT_DATE_FORMAT = "d/m/Y"
SHORT_DATETIME_FORMAT = "H:i d/m/Y"
