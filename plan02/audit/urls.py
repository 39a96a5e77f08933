from django.urls import path

from plan02.audit import views

app_name = "audit"

urlpatterns = [
    path("", views.trail_page, name="trail"),
]
