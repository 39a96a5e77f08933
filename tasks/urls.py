from django.urls import path, register_converter

from tasks import plan_views, views


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
    # Local plans and their sub-tasks (DESIGN.md §13).
    path("plans/", plan_views.plans, name="plans"),
    path("plans/new/", plan_views.plan_edit, name="plan_create"),
    path("plans/<int:pk>/", plan_views.plan_detail, name="plan"),
    path("plans/<int:pk>/edit/", plan_views.plan_edit, name="plan_edit"),
    path("plans/<int:pk>/document/", plan_views.plan_document, name="plan_document"),
    path("plans/<int:plan_pk>/subtasks/new/", plan_views.subtask_edit, name="subtask_create"),
    path("subtasks/export.xlsx", views.subtask_export, name="subtask_export"),
    path("subtasks/bulk/", views.subtask_bulk_update, name="subtask_bulk"),
    path("subtasks/<int:pk>/", plan_views.subtask_detail, name="subtask"),
    path("subtasks/<int:pk>/edit/", plan_views.subtask_edit, name="subtask_edit"),
    path("subtasks/<int:pk>/update/", plan_views.subtask_update_view, name="subtask_update"),
    path("subtasks/evidence/<int:pk>/", plan_views.subtask_evidence, name="subtask_evidence"),
    # Last: task codes are free text.
    path("<str:code>/", views.task_detail, name="detail"),
]
