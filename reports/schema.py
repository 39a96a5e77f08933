"""OpenAPI extensions (drf-spectacular), imported by ReportsConfig.ready()."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "reports.auth.ApiKeyAuthentication"
    name = "ApiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Token <key>`: a key issued for one commune or one province "
            "(`manage.py issue_key`, the admin, or a province officer).",
        }
