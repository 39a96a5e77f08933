from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, render

from tasks.filters import TaskFilterSet
from tasks.models import Task


def task_list(request):
    queryset = Task.objects.select_related("group", "phase", "lead_agency").prefetch_related("coordinating_agencies")
    filterset = TaskFilterSet(request.GET, queryset=queryset)
    page = Paginator(filterset.qs, 50).get_page(request.GET.get("page"))
    return render(request, "tasks/task_list.html", {"filter": filterset, "page": page})


def task_detail(request, code):
    task = get_object_or_404(
        Task.objects.select_related("group", "phase", "lead_agency").prefetch_related("coordinating_agencies"),
        code=code,
    )
    return render(request, "tasks/task_detail.html", {"task": task})
