"""OpenAPI extensions (drf-spectacular), imported by TasksConfig.ready().

The assignment API uses one choice set under several field names (`status`, `old_status`, `new_status`).
drf-spectacular would name an enum after each field and warn; instead each such field names its enum
component itself, which also keeps these names stable whatever enum fields other apps add."""

from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.plumbing import ResolvedComponent
from rest_framework import serializers


class NamedChoiceField(serializers.ChoiceField):
    """A ChoiceField documented as the enum component `enum_name`."""

    def __init__(self, *args, enum_name, **kwargs):
        self.enum_name = enum_name
        super().__init__(*args, **kwargs)


class NamedChoiceFieldExtension(OpenApiSerializerFieldExtension):
    target_class = NamedChoiceField

    def map_serializer_field(self, auto_schema, direction):
        field = self.target
        component = ResolvedComponent(
            name=field.enum_name,
            type=ResolvedComponent.SCHEMA,
            object=field.enum_name,
            schema={
                "type": "string",
                "enum": list(field.choices),
                "description": "\n".join(f"* `{value}` - {label}" for value, label in field.choices.items()),
            },
        )
        auto_schema.registry.register_on_missing(component)
        return component.ref
