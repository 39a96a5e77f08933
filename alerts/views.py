"""Early-warning pages. Thin: parse the request, call a selector or a service, render (or export through
core.exports). Scoping is the querysets' (alerts.selectors): 404 for what one may not see, 403 for what one
may not do. Every page works without JavaScript; HTMX only saves a reload when marking notifications read."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from alerts import exports, selectors, specs
from alerts.display import alert_title, alert_url, notified, subject
from alerts.facts import Thresholds
from alerts.filters import AlertFilterSet, BlockerFilterSet, NotificationFilterSet, SupportRequestFilterSet
from alerts.forms import PreferenceForm, SupportCloseForm
from alerts.models import Language, Preference
from alerts.services import notifications, support
from localities.models import Province
from tasks.scoping import scope_for_user

PAGE_SIZE = 50
EXPORTS = {"xlsx", "csv"}


def _query_without_page(request):
    query = request.GET.copy()
    query.pop("page", None)
    query.pop("export", None)
    return query.urlencode()


def _bad_filter(filterset) -> HttpResponse:
    return HttpResponse(filterset.errors.as_text(), status=400, content_type="text/plain; charset=utf-8")


@require_GET
def alert_list(request):
    """The alerts of the caller's scope; open ones unless the filter says otherwise."""
    scope = scope_for_user(request.user)
    data = request.GET.copy()
    data.setdefault("open", "true")
    filterset = AlertFilterSet(data, queryset=selectors.alert_list(scope=scope))
    if request.GET.get("export") in EXPORTS:
        if not filterset.is_valid():
            return _bad_filter(filterset)
        return exports.alerts_export(filterset.qs, fmt=request.GET["export"])
    page = Paginator(filterset.qs, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [
        {
            "alert": a,
            "title": alert_title(a),
            "url": alert_url(a),
            "subject": subject(a),
            "notified": notified(a, scope, staff=request.user.is_staff),
        }
        for a in page
    ]
    counts = selectors.open_counts(scope=scope)
    return render(
        request,
        "alerts/alert_list.html",
        {
            "filter": filterset,
            "page": page,
            "rows": rows,
            "counts": [(rule, label, counts.get(rule, 0)) for rule, label in specs.rule_choices()],
            "export_query": _query_without_page(request),
            "section": "alerts",
        },
    )


@require_GET
def notification_list(request):
    scope = scope_for_user(request.user)
    filterset = NotificationFilterSet(request.GET, queryset=selectors.notification_list(scope=scope))
    page = Paginator(filterset.qs, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [{"notification": n, "title": alert_title(n.alert), "url": alert_url(n.alert)} for n in page]
    return render(
        request,
        "alerts/notifications.html",
        {"filter": filterset, "page": page, "rows": rows, "section": "notifications", "next": request.get_full_path()},
    )


def _back(request, default: str) -> str:
    target = request.POST.get("next")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return default


@require_POST
def notification_read(request, pk):
    scope = scope_for_user(request.user)
    notification = get_object_or_404(selectors.notification_list(scope=scope), pk=pk)
    notifications.notification_mark_read(notification=notification, user=request.user)
    if request.htmx:
        row = {
            "notification": notification,
            "title": alert_title(notification.alert),
            "url": alert_url(notification.alert),
        }
        return render(
            request,
            "alerts/_notification_row.html",
            {"row": row, "oob_bell": True, "unread_notifications": selectors.unread_count(user=request.user)},
        )
    return redirect(_back(request, reverse("alerts:notifications")))


@require_POST
def notifications_read_all(request):
    count = notifications.notifications_mark_all_read(user=request.user)
    messages.success(request, _("%(count)s notifications marked read.") % {"count": count})
    return redirect(_back(request, reverse("alerts:notifications")))


@require_GET
def blocker_list(request):
    """The blocker register: who blocks whom, since when, days waiting."""
    scope, today = scope_for_user(request.user), timezone.localdate()
    filterset = BlockerFilterSet(request.GET, queryset=selectors.blocker_list(scope=scope))
    if request.GET.get("export") in EXPORTS:
        if not filterset.is_valid():
            return _bad_filter(filterset)
        return exports.blockers_export(filterset.qs, today=today, fmt=request.GET["export"])
    page = Paginator(filterset.qs, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [exports.blocker_row(a, today=today) for a in page]
    return render(
        request,
        "alerts/blockers.html",
        {
            "filter": filterset,
            "page": page,
            "rows": rows,
            "export_query": _query_without_page(request),
            "section": "blockers",
        },
    )


@require_GET
def support_list(request):
    scope = scope_for_user(request.user)
    data = request.GET.copy()
    data.setdefault("open", "true")
    filterset = SupportRequestFilterSet(data, queryset=selectors.support_request_list(scope=scope))
    page = Paginator(filterset.qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "alerts/support_list.html",
        {
            "filter": filterset,
            "page": page,
            "section": "support",
            "may_close": scope.is_province and not scope.is_api_client,
        },
    )


@require_http_methods(["GET", "POST"])
def support_request(request, pk):
    """One support request; its province's officers close it here with a resolution, the clerk reads it."""
    scope = scope_for_user(request.user)
    report = get_object_or_404(selectors.support_request_list(scope=scope), pk=pk)
    may_close = scope.is_province and report.province_id == scope.province_id
    closure = getattr(report, "support_resolution", None)
    form = SupportCloseForm(request.POST or None) if may_close and closure is None else None
    status = 200
    if request.method == "POST":
        if form is None:
            if closure is not None:
                messages.warning(request, _("This request is already closed."))
                return redirect("alerts:support_request", pk=report.pk)
            return HttpResponse(_("Only the province's officers close its support requests."), status=403)
        if form.is_valid():
            try:
                support.support_request_close(
                    report=report, user=request.user, resolution=form.cleaned_data["resolution"]
                )
            except support.SupportAlreadyClosed:
                messages.warning(request, _("This request is already closed."))
            except ValidationError as exc:
                for message in exc.message_dict.get("resolution", []):
                    form.add_error("resolution", message)
                status = 400
            else:
                messages.success(request, _("The request is closed; the commune sees the resolution."))
                return redirect("alerts:support_request", pk=report.pk)
            if status == 200:
                return redirect("alerts:support_request", pk=report.pk)
        else:
            status = 400
    return render(
        request,
        "alerts/support_detail.html",
        {"report": report, "closure": closure, "form": form, "section": "support"},
        status=status,
    )


@require_GET
def missing_reports(request):
    """Communes whose reports are missing several days in a row, longest streak first: for a province, and
    nationally (per province, then one province's communes)."""
    scope = scope_for_user(request.user)
    ladder = Thresholds.from_settings().missing
    province = None
    if scope.is_province:
        province = get_object_or_404(Province, pk=scope.province_id)
    elif request.GET.get("province"):
        province = Province.objects.followed_by(scope).filter(pk=request.GET["province"]).first()
        if province is None:
            raise Http404(_("No such province among the ones you may see."))
    latest, streaks = selectors.missing_streaks(scope=scope, province_id=province.pk if province else None)
    summary = selectors.streak_summary(streaks, ladder) if province is None and scope.reads_all else None
    page = Paginator(streaks, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "alerts/missing.html",
        {
            "province": province,
            "latest": latest,
            "page": page,
            "summary": summary,
            "ladder": ladder,
            "total": len(streaks),
            "section": "missing",
        },
    )


@require_http_methods(["GET", "POST"])
def preferences(request):
    current = Preference.objects.filter(user=request.user).first()
    initial = {
        "language": current.language if current else Language.VI,
        "email_on": [r for r in specs.codes() if not current or r not in current.email_off],
    }
    form = PreferenceForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            notifications.preference_update(
                user=request.user, language=form.cleaned_data["language"], email_off=form.email_off()
            )
            messages.success(request, _("Your preferences are saved."))
            return redirect("alerts:preferences")
        status = 400
    return render(
        request,
        "alerts/preferences.html",
        {"form": form, "section": "preferences", "has_email": bool(request.user.email)},
        status=status,
    )
