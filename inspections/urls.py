from django.urls import path, register_converter

from inspections import views


class ReportFormat:
    regex = "xlsx|pdf"

    def to_python(self, value):
        return value

    def to_url(self, value):
        return value


register_converter(ReportFormat, "report_format")

app_name = "inspections"
urlpatterns = [
    path("", views.inspections, name="list"),
    path("new/", views.inspection_create_view, name="create"),
    path("<int:pk>/", views.inspection_detail, name="detail"),
    path("<int:pk>/findings/new/", views.finding_create_view, name="finding_create"),
    path("<int:pk>/report.<report_format:fmt>", views.inspection_report, name="report"),
    path("followups/<int:pk>/", views.followup_detail, name="followup"),
    path("followups/evidence/<int:pk>/", views.followup_evidence, name="followup_evidence"),
]
