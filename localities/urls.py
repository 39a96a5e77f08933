from django.urls import path

from localities import views

app_name = "localities"
urlpatterns = [
    path("provinces/", views.province_list, name="provinces"),
    path("provinces/<str:code>/", views.province_detail, name="province"),
]
