from django.urls import path

from dashboards import steering_api

urlpatterns = [
    path("targets/", steering_api.TargetsView.as_view(), name="api-targets"),
    path("meetings/", steering_api.MeetingListView.as_view(), name="api-meetings"),
    path("meetings/<int:pk>/", steering_api.MeetingDetailView.as_view(), name="api-meeting"),
    path("meetings/<int:pk>/changes/", steering_api.MeetingChangesView.as_view(), name="api-meeting-changes"),
]
