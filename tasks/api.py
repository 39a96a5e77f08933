from rest_framework import viewsets

from tasks.filters import AgencyFilterSet, PhaseFilterSet, TaskFilterSet, TaskGroupFilterSet
from tasks.models import Agency, Phase, Task, TaskGroup
from tasks.serializers import AgencySerializer, PhaseSerializer, TaskGroupSerializer, TaskSerializer


class TaskGroupViewSet(viewsets.ReadOnlyModelViewSet):
    """The eight groups of tasks; `is_pillar` marks the six pillars."""

    queryset = TaskGroup.objects.all()
    serializer_class = TaskGroupSerializer
    filterset_class = TaskGroupFilterSet
    lookup_field = "number"


class PhaseViewSet(viewsets.ReadOnlyModelViewSet):
    """The plan's phases and their deadlines."""

    queryset = Phase.objects.all()
    serializer_class = PhaseSerializer
    filterset_class = PhaseFilterSet
    lookup_field = "code"


class AgencyViewSet(viewsets.ReadOnlyModelViewSet):
    """Central agencies that preside over or coordinate tasks."""

    queryset = Agency.objects.all()
    serializer_class = AgencySerializer
    filterset_class = AgencyFilterSet
    lookup_field = "code"


class TaskViewSet(viewsets.ReadOnlyModelViewSet):
    """The task catalogue (`is_official=false` marks the demo catalogue)."""

    queryset = Task.objects.select_related("group", "phase", "lead_agency").prefetch_related("coordinating_agencies")
    serializer_class = TaskSerializer
    filterset_class = TaskFilterSet
    lookup_field = "code"
    ordering_fields = ["code", "deadline"]
