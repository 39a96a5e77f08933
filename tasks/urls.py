from django.urls import path, register_converter

from tasks import views


class ExportFormat:
    regex = "xlsx|csv"

    def to_python(self, value):
        return value

    def to_url(self, value):
        return value


register_converter(ExportFormat, "export_format")

app_name = "tasks"
urlpatterns = [
    path("", views.task_list, name="list"),
    path("mine/", views.my_tasks, name="mine"),
    path("communes/", views.province_communes, name="province_communes"),
    path("assignments/", views.assignments, name="assignments"),
    path("assignments/export.<export_format:fmt>", views.assignment_export, name="export"),
    path("assignments/bulk/", views.bulk_update, name="bulk_update"),
    path("assignments/<int:pk>/", views.assignment_detail, name="assignment"),
    path("assignments/<int:pk>/update/", views.assignment_update_view, name="assignment_update"),
    path("evidence/<int:pk>/", views.evidence_download, name="evidence"),
    # Last: task codes are free text.
    path("<str:code>/", views.task_detail, name="detail"),
]
