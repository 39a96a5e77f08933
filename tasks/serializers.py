from rest_framework import serializers

from tasks.models import Agency, Phase, Task, TaskGroup


class TaskGroupSerializer(serializers.ModelSerializer):
    class Meta:
        model = TaskGroup
        fields = ["number", "name_vi", "name_en", "is_pillar"]


class PhaseSerializer(serializers.ModelSerializer):
    class Meta:
        model = Phase
        fields = ["code", "name_vi", "name_en", "starts_on", "deadline"]


class AgencySerializer(serializers.ModelSerializer):
    class Meta:
        model = Agency
        fields = ["code", "name_vi", "name_en", "short_name", "kind"]


class TaskSerializer(serializers.ModelSerializer):
    group = serializers.SlugRelatedField(slug_field="number", read_only=True)
    phase = serializers.SlugRelatedField(slug_field="code", read_only=True)
    lead_agency = serializers.SlugRelatedField(slug_field="code", read_only=True)
    coordinating_agencies = serializers.SlugRelatedField(slug_field="code", many=True, read_only=True)

    class Meta:
        model = Task
        fields = [
            "code",
            "title_vi",
            "title_en",
            "description",
            "group",
            "phase",
            "deadline",
            "level",
            "lead_agency",
            "coordinating_agencies",
            "expected_product",
            "is_official",
        ]
