from django.urls import path

from reports import api, form_api, regime_api

urlpatterns = [
    path("reports/daily/", api.DailyReportListView.as_view(), name="daily-report-list"),
    path("reports/daily/batch/", api.DailyReportBatchView.as_view(), name="daily-report-batch"),
    path("reports/daily/<str:locality>/<str:date>/", api.DailyReportDetailView.as_view(), name="daily-report-detail"),
    path(
        "reports/daily/<str:locality>/<str:date>/explanations/",
        regime_api.ExplanationView.as_view(),
        name="daily-report-explanations",
    ),
    path("reports/quality/", regime_api.QualityQueueView.as_view(), name="quality-queue"),
    path("reports/approvals/", regime_api.ApprovalView.as_view(), name="report-approvals"),
    path("reports/approvals/withdraw/", regime_api.ApprovalWithdrawView.as_view(), name="report-approval-withdraw"),
    path("reports/form/", form_api.ReportFormView.as_view(), name="report-form"),
    path("reports/completeness/", api.CompletenessView.as_view(), name="report-completeness"),
]
