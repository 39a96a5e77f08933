from rest_framework import serializers

from localities.models import Commune, Province


class ProvinceSerializer(serializers.ModelSerializer):
    commune_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Province
        fields = ["code", "name", "codename", "division_type", "phone_code", "commune_count", "data_version"]


class CommuneSerializer(serializers.ModelSerializer):
    province = serializers.CharField(source="province_id", read_only=True)

    class Meta:
        model = Commune
        fields = ["code", "name", "codename", "division_type", "province", "data_version"]
