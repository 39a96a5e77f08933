from django.urls import path

from integrations.api import ChangesView

urlpatterns = [
    path("changes/", ChangesView.as_view(), name="api-changes"),
]
