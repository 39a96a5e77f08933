"""Fixtures of the integrations tests: a national key, and the events the services wrote."""

import pytest

from reports.models import ApiClient
from reports.services import api_client_issue


@pytest.fixture
def national_key(db):
    """A key of kind `national` (the national monitoring system): (ApiClient, key)."""
    return api_client_issue(name="Hệ thống giám sát quốc gia", kind=ApiClient.Kind.NATIONAL)
