"""The rules of a value several apps take (core.validators) and the `q` search box (core.filters)."""

import pytest
from django.core.exceptions import ValidationError

from core.validators import WEB_LINK_MAX, validate_web_link


@pytest.mark.parametrize(
    "link",
    ["https://example.org/evidence.pdf", "http://example.org/" + "a" * (WEB_LINK_MAX - len("http://example.org/"))],
)
def test_an_http_link_of_at_most_500_characters_is_evidence(link):
    validate_web_link(link)


@pytest.mark.parametrize(
    "link",
    ["ftp://example.org/x", "javascript:alert(1)", "example.org", "https://example.org/" + "a" * WEB_LINK_MAX],
)
def test_anything_else_is_refused_with_one_message_and_code(link):
    with pytest.raises(ValidationError) as refused:
        validate_web_link(link)
    assert refused.value.code == "invalid"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("query", "expected"),
    [("bca", ["BCA"]), ("Bộ Công an", ["BCA"]), ("công AN", ["BCA"]), ("BC", [])],
)
def test_the_search_box_finds_a_whole_code_or_part_of_a_name(query, expected):
    from tasks.filters import AgencyFilterSet
    from tasks.models import Agency

    found = AgencyFilterSet({"q": query}, queryset=Agency.objects.all()).qs
    assert [a.code for a in found if a.code == "BCA"] == expected
