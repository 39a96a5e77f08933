from django.urls import path

from support import views

app_name = "support"

urlpatterns = [
    path("", views.board, name="board"),
    path("board/", views.board_panel, name="board_panel"),
    path("incidents/", views.incident_list, name="list"),
    path("incidents/new/", views.incident_new, name="new"),
    path("incidents/export.<str:fmt>", views.incident_export, name="export"),
    path("incidents/<int:pk>/", views.incident_detail, name="incident"),
    path("incidents/<int:pk>/<str:action>/", views.incident_action, name="action"),
    path("files/<int:pk>/", views.attachment, name="attachment"),
    path("teams/", views.team_list, name="teams"),
    path("communes/", views.commune_ranking, name="communes"),
    path("communes/export.<str:fmt>", views.commune_ranking_export, name="communes_export"),
]
