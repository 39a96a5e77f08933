"""Task pages. Thin: parse the request, call a selector or a service, render. Scoping: 404 for what one may not
see, 403 for what one may not do (the querysets' visible_to and updatable_by)."""

from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.core import signing
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from core.dates import BadDay, view_day
from core.text import echo
from localities.models import Province
from tasks import bulk, exports, working_groups
from tasks.filters import AssignmentFilterSet, SubTaskFilterSet, TaskFilterSet
from tasks.forms import AssignmentUpdateForm, BulkUploadForm, submit_update_form
from tasks.models import Level, Role, Task
from tasks.plan_views import my_subtasks
from tasks.plans import weighted_rollup
from tasks.scoping import scope_for_user
from tasks.selectors import (
    assignment_history,
    assignment_list,
    commune_green_shares,
    communes_not_done,
    province_commune_assignments,
    province_commune_summary,
    shown_as_of,
    subtask_list,
    task_history,
    task_rollup,
    task_rollups,
    visible_status_update,
)
from tasks.services import BulkRowError, assignment_update, items_bulk_update

PAGE_SIZE = 50
HISTORY_PAGE_SIZE = 20
# Row layouts: with the task column ("My tasks"), without it (a task's page), or a province's communes.
LAYOUTS = {"full", "unit", "communes"}

TASK_JOINS = ("group", "phase", "lead_agency")


def _task_queryset():
    return Task.objects.select_related(*TASK_JOINS).prefetch_related("coordinating_agencies")


def _as_of(request):
    """The `date` of an as-of view (None: now) and the error shown when it is refused (core.dates.view_day);
    today is what the page shows without it."""
    raw = request.GET.get("date")
    if not raw:
        return None, None
    try:
        day = view_day(raw)
    except BadDay as exc:
        return None, _("date: %(value)s — %(error)s") % {"value": echo(raw), "error": exc}
    return (day if day < timezone.localdate() else None), None


def _paged(rows, request, param, as_of):
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get(param))
    if as_of is not None:
        page.object_list = shown_as_of(page.object_list)
    return page


def task_list(request):
    """The catalogue with each task's rollup; a working group's member lands on the group's view."""
    scope, today = scope_for_user(request.user), timezone.localdate()
    landing = working_groups.landing_url(path=request.path, query=request.GET, scope=scope)
    if landing is not None:
        return redirect(landing)
    view = working_groups.view_of(request.GET.get(working_groups.PARAM))
    as_of, error = _as_of(request)
    filterset = TaskFilterSet(request.GET, queryset=_task_queryset())
    page = Paginator(filterset.qs, PAGE_SIZE).get_page(request.GET.get("page"))
    rollups = task_rollups(scope=scope, task_ids=[t.pk for t in page], today=today, as_of=as_of)
    rows = [(task, rollups.get(task.pk)) for task in page]
    context = {
        "filter": filterset,
        "page": page,
        "rows": rows,
        "as_of": as_of,
        "date_error": error,
        "working_group": working_groups.switch_links(path=request.path, query=request.GET, view=view, scope=scope),
    }
    return render(request, "tasks/task_list.html", context)


def task_detail(request, code):
    """A task, its rollup, its assignments and history; `?date=D` shows them as they were at the end of D."""
    scope, today = scope_for_user(request.user), timezone.localdate()
    as_of, error = _as_of(request)
    task = get_object_or_404(_task_queryset(), code=code)
    context = {
        "task": task,
        "today": as_of or today,
        "as_of": as_of,
        "date_error": error,
        "rollup": task_rollup(scope=scope, task=task, today=today, as_of=as_of),
        "layout": "unit",
        "history": Paginator(task_history(scope=scope, task=task, as_of=as_of), HISTORY_PAGE_SIZE).get_page(
            request.GET.get("hpage")
        ),
    }
    if task.level == Level.COMMUNE:
        nation, provinces = commune_green_shares(scope=scope, task=task, today=today, as_of=as_of)
        province = None
        if request.GET.get("province"):
            province = next((p for p in provinces if p.code == request.GET["province"]), None)
            if province is None:
                raise Http404(_("No such province among the ones you may see."))
        not_done = communes_not_done(
            scope=scope, task=task, today=today, province=province and province.code, as_of=as_of
        )
        context |= {
            "nation": nation,
            "provinces": provinces,
            "province": province,
            "page": _paged(not_done, request, "page", as_of),
        }
    else:
        assignments = assignment_list(scope=scope, today=today, as_of=as_of).filter(task=task)
        context["page"] = _paged(assignments, request, "page", as_of)
    return render(request, "tasks/task_detail.html", context)


def _assignment_list_page(request, data, *, mine, extra=None):
    scope, today = scope_for_user(request.user), timezone.localdate()
    filterset = AssignmentFilterSet(data, queryset=assignment_list(scope=scope, today=today), request=request)
    page = Paginator(filterset.qs, PAGE_SIZE).get_page(request.GET.get("page"))
    query = data.copy()
    query.pop("page", None)
    return render(
        request,
        "tasks/assignment_list.html",
        {
            "filter": filterset,
            "page": page,
            "mine": mine,
            "today": today,
            "layout": "full",
            "export_query": query.urlencode(),
            "bulk_form": BulkUploadForm() if mine else None,
            **(extra or {}),
        },
    )


def my_tasks(request):
    """The assignments the officer or clerk may update (the API's `?mine=true`). A province officer starts
    with the province's own assignments; its communes' are one filter away and on "My communes"."""
    scope = scope_for_user(request.user)
    if not scope.has_unit:
        return redirect("tasks:assignments")
    data = request.GET.copy()
    data["mine"] = "true"
    if scope.role == Role.PROVINCE_OFFICER and "level" not in data:
        data["level"] = Level.PROVINCE
    # The sub-tasks of local plans the user carries out: a clerk's commune's, a province officer's or an agency
    # officer's departments' (its communes' are theirs, followed on the plan's page).
    subtasks = my_subtasks(request)
    if not scope.is_commune:
        subtasks = subtasks.filter(commune__isnull=True)
    return _assignment_list_page(
        request, data, mine=True, extra={"subtasks": subtasks.order_by("deadline", "pk")[:PAGE_SIZE]}
    )


def assignments(request):
    """Every assignment the user may see, with the same filters as the API."""
    return _assignment_list_page(request, request.GET, mine=False)


def assignment_export(request, fmt):
    scope, today = scope_for_user(request.user), timezone.localdate()
    filterset = AssignmentFilterSet(request.GET, queryset=assignment_list(scope=scope, today=today), request=request)
    if not filterset.is_valid():
        return HttpResponse(filterset.errors.as_text(), status=400, content_type="text/plain; charset=utf-8")
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    if fmt == "xlsx":
        body = exports.export_xlsx(filterset.qs, today=today)
        content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    else:
        body = exports.export_csv(filterset.qs, today=today)
        content_type = "text/csv; charset=utf-8"
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="plan02-assignments-{stamp}.{fmt}"'
    return response


def _visible_assignment(request, pk):
    scope, today = scope_for_user(request.user), timezone.localdate()
    return get_object_or_404(assignment_list(scope=scope, today=today), pk=pk)


def assignment_detail(request, pk):
    assignment = _visible_assignment(request, pk)
    history = Paginator(assignment_history(assignment=assignment), PAGE_SIZE).get_page(request.GET.get("hpage"))
    form = AssignmentUpdateForm(assignment=assignment) if assignment.may_update else None
    # Its sub-tasks in local plans, and the weighted roll-up of all of them (the same for every reader).
    scope = scope_for_user(request.user)
    subtasks = list(
        subtask_list(scope=scope, today=timezone.localdate()).filter(parent=assignment).order_by("deadline", "pk")
    )
    rollup = weighted_rollup(subtasks) if subtasks else None
    return render(
        request,
        "tasks/assignment_detail.html",
        {
            "assignment": assignment,
            "history": history,
            "form": form,
            "today": timezone.localdate(),
            "layout": "full",
            "subtasks": subtasks,
            "rollup": rollup,
        },
    )


def _next_url(request, assignment):
    target = request.POST.get("next") or request.GET.get("next")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return reverse("tasks:assignment", args=[assignment.pk])


@require_http_methods(["GET", "POST"])
def assignment_update_view(request, pk):
    """The update form: a fragment for HTMX (inline in a list), a page without JavaScript. 404 when the
    assignment is not visible, 403 when it is visible but not the user's to change."""
    assignment = _visible_assignment(request, pk)
    if not assignment.may_update:
        raise PermissionDenied(_("You may not update this assignment."))
    layout = request.POST.get("layout") or request.GET.get("layout")
    layout = layout if layout in LAYOUTS else "full"
    context = {
        "assignment": assignment,
        "layout": layout,
        "next": _next_url(request, assignment),
        "stale": None,
        "today": timezone.localdate(),
    }
    status = 200
    if request.method == "POST":
        submitted = submit_update_form(
            request,
            assignment,
            update=lambda **values: assignment_update(assignment=assignment, actor=request.user, **values),
            reload=lambda: _visible_assignment(request, pk),
        )
        form, status = submitted.form, submitted.status
        context |= {"assignment": submitted.item, "stale": submitted.stale}
        if status == 200:
            current = _visible_assignment(request, pk)
            if request.htmx:
                return render(
                    request,
                    "tasks/_update_saved.html",
                    {"assignment": current, "layout": layout, "today": timezone.localdate()},
                )
            messages.success(
                request,
                _("Saved: %(assignment)s is now “%(status)s”, %(progress)s%% (version %(version)s).")
                % {
                    "assignment": str(current),
                    "status": current.get_status_display(),
                    "progress": current.progress,
                    "version": current.version,
                },
            )
            return redirect(context["next"])
    else:
        form = AssignmentUpdateForm(assignment=assignment)
    context["form"] = form
    template = "tasks/_update_form.html" if request.htmx else "tasks/assignment_update.html"
    return render(request, template, context, status=status)


def province_communes(request):
    """A province officer's communes: each commune-level task with the share of green communes, then one
    task's communes with their status and the clerks' last updates (paginated). Read-all roles pick a province."""
    scope, today = scope_for_user(request.user), timezone.localdate()
    if scope.role == Role.PROVINCE_OFFICER:
        province = get_object_or_404(Province, pk=scope.province_id)
    elif scope.reads_all:
        if not request.GET.get("province"):
            return render(request, "tasks/province_pick.html", {"provinces": Province.objects.all()})
        province = get_object_or_404(Province, pk=request.GET["province"])
    else:
        raise PermissionDenied(_("This page is for province officers."))
    summaries = province_commune_summary(scope=scope, province=province, today=today)
    selected = next((s for s in summaries if s.task.code == request.GET.get("task")), None)
    if request.GET.get("task") and selected is None:
        raise Http404(_("No such commune-level task."))
    selected = selected or (summaries[0] if summaries else None)
    page, show = None, request.GET.get("show", "all")
    if selected is not None:
        rows = province_commune_assignments(scope=scope, province=province, task=selected.task, today=today)
        if show == "not_done":
            rows = rows.exclude(status="completed")
        elif show == "overdue":
            rows = rows.filter(display_status="overdue")
        elif show == "green":
            rows = rows.filter(status="completed")
        else:
            show = "all"
        page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "tasks/province_communes.html",
        {
            "province": province,
            "summaries": summaries,
            "selected": selected,
            "page": page,
            "show": show,
            "show_choices": [
                ("all", _("all")),
                ("not_done", _("not done")),
                ("overdue", _("overdue")),
                ("green", _("green")),
            ],
            "today": today,
            "layout": "communes",
        },
    )


@require_http_methods(["GET", "POST"])
def bulk_update(request):
    """Upload an edited export: a dry run row by row, then apply the accepted rows in one transaction."""
    return _bulk_page(request, "assignments")


@require_http_methods(["GET", "POST"])
def subtask_bulk_update(request):
    """The same round trip for the sub-tasks of local plans (the same workflow service)."""
    return _bulk_page(request, "subtasks")


def _bulk_page(request, kind):
    scope = scope_for_user(request.user)
    if not scope.has_unit:
        raise PermissionDenied(_("Only officers and clerks update assignments."))
    here = "tasks:bulk_update" if kind == "assignments" else "tasks:subtask_bulk"
    context = {"form": BulkUploadForm(), "plan": None, "kind": kind}
    status = 200
    if request.method == "POST" and "token" in request.POST:
        try:
            rows = bulk.unsign_plan(request.POST["token"], actor=request.user, kind=kind)
        except signing.BadSignature:
            messages.error(request, _("This dry run has expired or is not yours: upload the file again."))
            return redirect(here)
        try:
            updates = items_bulk_update(bulk.KINDS[kind][1], actor=request.user, rows=rows)
        except BulkRowError as exc:
            row = rows[exc.index]["row"]
            messages.error(
                request,
                _(
                    "Nothing was saved: row %(row)s changed or became invalid since the dry run. "
                    "Upload the file again to see the current state."
                )
                % {"row": row},
            )
            return redirect(here)
        messages.success(request, _("%(count)s assignments updated, one history row each.") % {"count": len(updates)})
        return redirect("tasks:mine")
    if request.method == "POST":
        form = BulkUploadForm(request.POST, request.FILES)
        context["form"] = form
        if form.is_valid():
            try:
                plan = bulk.bulk_plan(actor=request.user, upload=form.cleaned_data["file"], kind=kind)
            except bulk.BulkFileError as exc:
                form.add_error("file", str(exc))
                status = 400
            else:
                token = bulk.sign_plan(plan, actor=request.user, kind=kind) if plan.to_apply else ""
                context |= {"plan": plan, "token": token}
        else:
            status = 400
    return render(request, "tasks/bulk_update.html", context, status=status)


def subtask_export(request):
    """The sub-tasks one may see, filtered like the API's, as the XLSX the bulk update reads back."""
    scope, today = scope_for_user(request.user), timezone.localdate()
    filterset = SubTaskFilterSet(request.GET, queryset=subtask_list(scope=scope, today=today), request=request)
    if not filterset.is_valid():
        return HttpResponse(filterset.errors.as_text(), status=400, content_type="text/plain; charset=utf-8")
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response = HttpResponse(
        exports.export_subtasks_xlsx(filterset.qs.order_by("deadline", "pk"), today=today),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = f'attachment; filename="plan02-subtasks-{stamp}.xlsx"'
    return response


def evidence_download(request, pk):
    """An evidence file, for those who may see its assignment; always as a download (never rendered inline)."""
    update = visible_status_update(scope=scope_for_user(request.user), pk=pk)
    if update is None or not update.evidence_file:
        raise Http404(_("No such evidence file."))
    name = Path(update.evidence_file.name).name
    # Only the accepted evidence types keep their content type; anything else (a file stored before the
    # checks, a renamed one) is plain bytes, so a browser never renders it as HTML or SVG.
    known = Path(name).suffix.lower().lstrip(".") in settings.EVIDENCE_EXTENSIONS
    response = FileResponse(
        update.evidence_file.open("rb"),
        as_attachment=True,
        filename=name,
        content_type=None if known else "application/octet-stream",
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response
