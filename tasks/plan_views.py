"""Pages of local plans and their sub-tasks (DESIGN.md §13). Thin, like tasks.views: 404 for what one may not
see, 403 for what one may not do (LocalPlan.objects.editable_by, SubTask.objects.updatable_by)."""

from pathlib import Path

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from tasks.filters import SubTaskFilterSet
from tasks.forms import AssignmentUpdateForm, LocalPlanForm, SubTaskForm, submit_update_form
from tasks.models import Assignment, Level
from tasks.plans import PlanNotAllowed, plan_save, plan_unit, subtask_save, weighted_rollups
from tasks.scoping import scope_for_user
from tasks.selectors import plan_list, subtask_history, subtask_list, visible_subtask_update
from tasks.services import subtask_update

PAGE_SIZE = 50


def plans(request):
    scope = scope_for_user(request.user)
    page = Paginator(plan_list(scope=scope), PAGE_SIZE).get_page(request.GET.get("page"))
    try:
        plan_unit(scope)
        may_create = True
    except PlanNotAllowed:
        may_create = False
    return render(request, "tasks/plan_list.html", {"page": page, "may_create": may_create})


def _plan(request, pk):
    return get_object_or_404(plan_list(scope=scope_for_user(request.user)), pk=pk)


def _parents(plan):
    """The assignments a plan's sub-tasks may be part of: the plan's unit's own."""
    if plan.province_id:
        qs = Assignment.objects.filter(level=Level.PROVINCE, province_id=plan.province_id)
    else:
        qs = Assignment.objects.filter(level=Level.CENTRAL, agency_id=plan.agency_id)
    return list(qs.select_related("task").order_by("task__code"))


def plan_detail(request, pk):
    plan, today = _plan(request, pk), timezone.localdate()
    scope = scope_for_user(request.user)
    rows = list(
        subtask_list(scope=scope, today=today).filter(plan=plan).order_by("parent__task__code", "deadline", "pk")
    )
    rollups = weighted_rollups(sorted({s.parent_id for s in rows}))
    groups: dict = {}
    for subtask in rows:
        groups.setdefault(
            subtask.parent_id, {"parent": subtask.parent, "rollup": rollups.get(subtask.parent_id), "rows": []}
        )
        groups[subtask.parent_id]["rows"].append(subtask)
    return render(request, "tasks/plan_detail.html", {"plan": plan, "groups": list(groups.values()), "today": today})


@require_http_methods(["GET", "POST"])
def plan_edit(request, pk=None):
    """Record a plan of one's own unit (pk None) or change one."""
    scope = scope_for_user(request.user)
    plan = _plan(request, pk) if pk is not None else None
    if plan is not None and not plan.may_edit:
        raise PermissionDenied(_("Only the plan's own unit changes it."))
    try:
        plan_unit(scope)
    except PlanNotAllowed:
        raise PermissionDenied(_("Only a province's or an agency's officers record its plans."))
    initial = (
        {"number": plan.number, "date": plan.issued_on, "title": plan.title, "document_url": plan.document_url}
        if plan
        else None
    )
    form = LocalPlanForm(request.POST or None, request.FILES or None, initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                saved = plan_save(
                    scope=scope,
                    actor=request.user,
                    number=data["number"],
                    issued_on=data["date"],
                    title=data["title"],
                    document_url=data["document_url"],
                    document=data.get("document"),
                    instance=plan,
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, _("Plan saved."))
                return redirect("tasks:plan", saved.pk)
        status = 400
    return render(request, "tasks/plan_form.html", {"form": form, "plan": plan}, status=status)


def plan_document(request, pk):
    plan = _plan(request, pk)
    if not plan.document:
        raise Http404(_("This plan has no document file."))
    response = FileResponse(plan.document.open("rb"), as_attachment=True, filename=Path(plan.document.name).name)
    response["X-Content-Type-Options"] = "nosniff"
    return response


@require_http_methods(["GET", "POST"])
def subtask_edit(request, plan_pk=None, pk=None):
    """Add a sub-task to a plan (plan_pk) or change one's definition (pk)."""
    scope, today = scope_for_user(request.user), timezone.localdate()
    subtask = get_object_or_404(subtask_list(scope=scope, today=today), pk=pk) if pk is not None else None
    plan = _plan(request, subtask.plan_id if subtask else plan_pk)
    if not plan.may_edit:
        raise PermissionDenied(_("Only the plan's own unit adds or changes its sub-tasks."))
    initial = None
    if subtask is not None:
        initial = {
            "parent": str(subtask.parent_id),
            "title": subtask.title,
            "department": subtask.department,
            "commune": subtask.commune_id or "",
            "deadline": subtask.deadline,
            "weight": subtask.weight,
        }
    form = SubTaskForm(request.POST or None, initial=initial, parents=_parents(plan))
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                saved = subtask_save(scope=scope, plan=plan, instance=subtask, **form.service_kwargs())
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, _("Sub-task saved."))
                return redirect("tasks:subtask", saved.pk)
        status = 400
    return render(request, "tasks/subtask_form.html", {"form": form, "plan": plan, "subtask": subtask}, status=status)


def _subtask(request, pk):
    return get_object_or_404(subtask_list(scope=scope_for_user(request.user), today=timezone.localdate()), pk=pk)


def subtask_detail(request, pk):
    subtask = _subtask(request, pk)
    history = Paginator(subtask_history(subtask=subtask), PAGE_SIZE).get_page(request.GET.get("hpage"))
    form = AssignmentUpdateForm(assignment=subtask) if subtask.may_update else None
    return render(
        request,
        "tasks/subtask_detail.html",
        {"subtask": subtask, "history": history, "form": form, "today": timezone.localdate()},
    )


@require_http_methods(["GET", "POST"])
def subtask_update_view(request, pk):
    """The update form of a sub-task: the assignment's form, the same service (tasks.services.workflow_update)."""
    subtask = _subtask(request, pk)
    if not subtask.may_update:
        raise PermissionDenied(_("You may not update this assignment."))
    here = reverse("tasks:subtask", args=[subtask.pk])
    context = {"subtask": subtask, "stale": None, "next": here, "today": timezone.localdate()}
    status = 200
    if request.method == "POST":
        submitted = submit_update_form(
            request,
            subtask,
            update=lambda **values: subtask_update(subtask=subtask, actor=request.user, **values),
            reload=lambda: _subtask(request, pk),
        )
        form, status = submitted.form, submitted.status
        context |= {"subtask": submitted.item, "stale": submitted.stale}
        if status == 200:
            messages.success(request, _("Sub-task updated."))
            return redirect(here)
    else:
        form = AssignmentUpdateForm(assignment=subtask)
    context["form"] = form
    return render(request, "tasks/subtask_update.html", context, status=status)


def subtask_evidence(request, pk):
    update = visible_subtask_update(scope=scope_for_user(request.user), pk=pk)
    if update is None or not update.evidence_file:
        raise Http404(_("No such evidence file."))
    response = FileResponse(
        update.evidence_file.open("rb"), as_attachment=True, filename=Path(update.evidence_file.name).name
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


def my_subtasks(request):
    """The sub-tasks the user may update (the API's `?mine=true`), for the "My tasks" page's section."""
    scope = scope_for_user(request.user)
    qs = subtask_list(scope=scope, today=timezone.localdate())
    return SubTaskFilterSet({"mine": "true"}, queryset=qs, request=request).qs
