from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

from audit.api import AuditTrailView
from integrations import sso
from plan02 import views

api_v1 = [
    path("", include("localities.api_urls")),
    path("", include("tasks.api_urls")),
    path("", include("reports.api_urls")),
    path("dashboard/", include("dashboards.api_urls")),
    path("", include("dashboards.steering_api_urls")),
    path("audit/", AuditTrailView.as_view(), name="api-audit"),
    path("", include("alerts.api_urls")),
    path("", include("support.api_urls")),
    path("", include("inspections.api_urls")),
    path("", include("integrations.api_urls")),
]

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("accounts/login/", sso.PortalLoginView.as_view(), name="login"),
    path("accounts/sso/login/", sso.LoginView.as_view(), name="sso_login"),
    path("accounts/sso/callback/", sso.CallbackView.as_view(), name="sso_callback"),
    path("accounts/sso/refused/", sso.refused, name="sso_refused"),
    # Before django.contrib.auth's own: a wrong old password counts as a failed login (plan02.views).
    path("accounts/password_change/", views.PasswordChangeView.as_view(), name="password_change"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/login/", sso.admin_login),
    path("admin/password_change/", admin.site.admin_view(views.admin_password_change, cacheable=True)),
    path("admin/", admin.site.urls),
    path("localities/", include("localities.urls")),
    path("tasks/", include("tasks.urls")),
    path("reports/", include("reports.urls")),
    path("dashboard/", include("dashboards.urls")),
    path("audit/", include("audit.urls")),
    path("alerts/", include("alerts.urls")),
    path("operations/", include("support.urls")),
    path("inspections/", include("inspections.urls")),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", views.ApiDocsView.as_view(url_name="api-schema"), name="api-docs"),
]

# Media (evidence files) is never served by URL, not even with DEBUG on: /media/ would bypass scoping. Evidence
# is downloaded through tasks:evidence, which checks the caller's scope.

handler404 = "plan02.views.not_found"
handler500 = "plan02.views.server_error"
