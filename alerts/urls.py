from django.urls import path

from alerts import views

app_name = "alerts"
urlpatterns = [
    path("", views.alert_list, name="list"),
    path("notifications/", views.notification_list, name="notifications"),
    path("notifications/<int:pk>/read/", views.notification_read, name="notification_read"),
    path("notifications/read-all/", views.notifications_read_all, name="notifications_read_all"),
    path("blockers/", views.blocker_list, name="blockers"),
    path("support/", views.support_list, name="support"),
    path("support/<int:pk>/", views.support_request, name="support_request"),
    path("missing/", views.missing_reports, name="missing"),
    path("preferences/", views.preferences, name="preferences"),
]
