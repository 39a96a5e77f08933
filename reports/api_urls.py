from django.urls import path

from reports import api

urlpatterns = [
    path("reports/daily/", api.DailyReportListView.as_view(), name="daily-report-list"),
    path("reports/daily/batch/", api.DailyReportBatchView.as_view(), name="daily-report-batch"),
    path("reports/daily/<str:locality>/<str:date>/", api.DailyReportDetailView.as_view(), name="daily-report-detail"),
    path("reports/completeness/", api.CompletenessView.as_view(), name="report-completeness"),
]
