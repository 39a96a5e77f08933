from django.urls import path

from dashboards.api import NationalDashboard, PhasesDashboard, ProvincesDashboard

urlpatterns = [
    path("national/", NationalDashboard.as_view(), name="api-dashboard-national"),
    path("provinces/", ProvincesDashboard.as_view(), name="api-dashboard-provinces"),
    path("phases/", PhasesDashboard.as_view(), name="api-dashboard-phases"),
]
