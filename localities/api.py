from django.db.models import Count
from rest_framework import viewsets

from localities.filters import CommuneFilterSet, ProvinceFilterSet
from localities.models import Commune, Province
from localities.serializers import CommuneSerializer, ProvinceSerializer


class ProvinceViewSet(viewsets.ReadOnlyModelViewSet):
    """The 34 provinces (2-digit codes), with their number of communes."""

    queryset = Province.objects.annotate(commune_count=Count("communes")).order_by("code")
    serializer_class = ProvinceSerializer
    filterset_class = ProvinceFilterSet
    ordering_fields = ["code", "name"]


class CommuneViewSet(viewsets.ReadOnlyModelViewSet):
    """The 3,321 communes, wards and special zones (5-digit codes)."""

    queryset = Commune.objects.order_by("code")
    serializer_class = CommuneSerializer
    filterset_class = CommuneFilterSet
    ordering_fields = ["code", "name", "province"]
