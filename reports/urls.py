from django.urls import path

from reports import regime_views, views

app_name = "reports"
urlpatterns = [
    path("", views.report_list, name="list"),
    path("mine/", views.my_reports, name="mine"),
    path("submit/", views.report_submit, name="submit"),
    path("submit/sw.js", views.report_service_worker, name="service_worker"),
    path("upload/", views.report_upload, name="upload"),
    path("upload/template.<fmt>", views.upload_template, name="upload_template"),
    path("province/", views.province_page, name="province"),
    path("province/exceptions/", views.grant_exception, name="grant_exception"),
    path("keys/", views.api_keys, name="keys"),
    path("keys/<int:pk>/revoke/", views.api_key_revoke, name="key_revoke"),
    path("quality/", regime_views.quality_page, name="quality"),
    path("quality/<int:pk>/<str:action>/", regime_views.quality_review, name="quality_review"),
    path("approvals/", regime_views.approvals_page, name="approvals"),
    path("approvals/submit/", regime_views.approvals_submit, name="approvals_submit"),
    path("<str:locality>/<str:date>/", views.report_detail, name="detail"),
    path("<str:locality>/<str:date>/explain/", regime_views.report_explain, name="explain"),
    path("<str:locality>/<str:date>/correct/", views.report_correct, name="correct"),
]
