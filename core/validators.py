"""Rules of a value that several apps take, in one place. A foundation module: it imports no app."""

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.utils.translation import gettext_lazy as _

# The width of the evidence links' columns (URLField(max_length=500)).
WEB_LINK_MAX = 500
_WEB = URLValidator(schemes=["http", "https"])


def validate_web_link(value: str) -> None:
    """An evidence link (an assignment update's, a target value's): an http:// or https:// address of at most
    WEB_LINK_MAX characters. Raises ValidationError with code `invalid`."""
    try:
        _WEB(value)
        valid = len(value) <= WEB_LINK_MAX
    except ValidationError:
        valid = False
    if not valid:
        raise ValidationError(
            _("Enter a web address starting with http:// or https:// (at most 500 characters)."), code="invalid"
        )
