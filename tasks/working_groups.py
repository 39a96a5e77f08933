"""The steering committee's working groups (DESIGN.md §13): a group follows some task groups, and its members
land on their group's view of the phases, the tasks and the meetings — the same pages filtered to those task
groups, with a switch to every group. They still read everything: the filter is a view, not a scope.

One query parameter carries the view, `?working_group=N` (the group's number), on the pages and in the API
(tasks.filters); an empty value is the view of every group. A member who opens such a page without the
parameter is sent to the same page with their group's number (`landing_url`), so that the page, and the caches
keyed by its query string, say which view it shows.
"""

from dataclasses import dataclass, field
from typing import Any

from django.http import QueryDict
from django.utils.translation import gettext as _

from tasks.models import Task, WorkingGroup
from tasks.roles import Scope

PARAM = "working_group"


@dataclass
class View:
    """The working group a page shows (None: every group), the task groups it follows, and the refusal of a bad
    parameter (the page then shows every group, saying why)."""

    group: WorkingGroup | None = None
    task_groups: frozenset[int] | None = None
    error: str = ""
    choices: list[WorkingGroup] = field(default_factory=list)


def landing_url(*, path: str, query: QueryDict, scope: Scope) -> str | None:
    """Where a working group's member lands when the page was opened without the parameter; None otherwise."""
    if scope.working_group is None or PARAM in query:
        return None
    landing = query.copy()
    landing[PARAM] = str(scope.working_group)
    return f"{path}?{landing.urlencode()}"


def view_of(value: str | None) -> View:
    """The view named by the parameter's value (2 queries: the groups and the task groups they follow)."""
    groups = list(WorkingGroup.objects.prefetch_related("task_groups"))
    if not value:
        return View(choices=groups)
    chosen = next((g for g in groups if str(g.number) == value.strip()), None)
    if chosen is None:
        numbers = ", ".join(str(g.number) for g in groups)
        return View(
            error=_("working_group: %(value)r is not a working group (expected one of %(numbers)s, or empty for all)")
            % {"value": value[:20], "numbers": numbers},
            choices=groups,
        )
    return View(group=chosen, task_groups=frozenset(g.number for g in chosen.task_groups.all()), choices=groups)


def switch_links(*, path: str, query: QueryDict, view: View, scope: Scope) -> dict[str, Any]:
    """The switch shown above a page: the view shown, the member's own group, and a link to each view."""

    def url(value: str) -> str:
        other = query.copy()
        other[PARAM] = value
        other.pop("page", None)
        return f"{path}?{other.urlencode()}"

    return {
        "current": view.group,
        "mine": scope.working_group,
        "error": view.error,
        "all_url": url(""),
        "links": [(g, url(str(g.number))) for g in view.choices],
    }


def task_codes(view: View) -> frozenset[str] | None:
    """The codes of the tasks a view shows (1 query); None for the view of every group."""
    if view.task_groups is None:
        return None
    return frozenset(Task.objects.filter(group__number__in=view.task_groups).values_list("code", flat=True))
