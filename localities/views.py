from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, render

from localities.filters import CommuneFilterSet
from localities.models import Province


def province_list(request):
    provinces = Province.objects.annotate(
        commune_count=Count("communes"),
        ward_count=Count("communes", filter=Q(communes__division_type="phường")),
    )
    return render(request, "localities/province_list.html", {"provinces": provinces})


def province_detail(request, code):
    province = get_object_or_404(Province, code=code)
    filterset = CommuneFilterSet(request.GET, queryset=province.communes.all())
    page = Paginator(filterset.qs, 100).get_page(request.GET.get("page"))
    return render(request, "localities/province_detail.html", {"province": province, "filter": filterset, "page": page})
