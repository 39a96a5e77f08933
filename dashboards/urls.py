from django.urls import path

from dashboards import views

app_name = "dashboard"
urlpatterns = [
    path("", views.national, name="national"),
    path("phases/", views.phases, name="phases"),
    path("provinces/", views.provinces, name="provinces"),
    path("provinces/<str:code>/", views.province, name="province"),
    path("communes/<str:code>/", views.commune, name="commune"),
    path("agencies/", views.agencies, name="agencies"),
    path("agencies/<str:code>/", views.agency, name="agency"),
    path("targets/", views.target_list, name="targets"),
    path("targets/<slug:code>/", views.target_detail, name="target"),
    path("meetings/", views.meeting_list, name="meetings"),
    path("meetings/<int:pk>/", views.meeting_detail, name="meeting"),
    path("meetings/<int:pk>/changes/", views.meeting_compare, name="meeting_changes"),
]
