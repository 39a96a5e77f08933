"""One spec per rule (alerts.specs): a rule that lacks a part, or clashes with another, is refused when it is
registered, not when a run first meets it; a rule another app registers is run, told, listed, filtered and
titled like the app's own, without alerts knowing it."""

import pytest

from alerts import specs, subjects
from alerts.models import Alert, Notification
from alerts.rules import RULES, Rule
from alerts.specs import AlertRule, Audience, Condition, SpecError

# Titles are gettext messages with named placeholders; the second has a typo a run would meet too late.
WATCH = "On watch: %(subject)s"
TYPO = "On watch: %(subjects)s"


class Outside(AlertRule):
    """What an app above alerts (support, inspections) registers from its ready(): here, Ba Đình's commune on
    watch, told to its clerks."""

    code = "test_outside"
    label = "watched commune"
    subject = subjects.COMMUNE
    audiences = (Audience("users", "commune"),)

    def detect(self, evaluation):
        yield Condition(
            self.code,
            "commune:00004",
            0,
            evaluation.today,
            kind="commune",
            since=evaluation.today,
            commune_id="00004",
            province_id="01",
        )

    def title(self, *, threshold, subject, day, since):
        return WATCH % {"subject": subject}


@pytest.fixture
def outside():
    spec = Outside()
    specs.register(spec)
    yield spec
    specs.unregister(spec.code)


def test_the_apps_own_rules_are_registered_in_order():
    # The alerts app's own rules first; its regime rules and the apps above it (support) register theirs after.
    assert specs.codes()[: len(Rule)] == [str(rule) for rule in Rule]
    assert {"unapproved_3d", "unexplained_warning_2d"} <= set(specs.codes()[len(Rule) :])
    assert [spec.code for spec in RULES] == list(Rule)
    assert {kind for kind, _label in specs.subject_choices()} >= {
        "assignment",
        "commune",
        "report",
        "province",
        "warnings",
    }


def test_a_rule_without_a_title_cannot_even_be_made():
    class NoTitle(AlertRule):
        code = "no_title"
        label = "no title"
        subject = subjects.COMMUNE
        audiences = (Audience("users", "commune"),)

        def detect(self, evaluation):
            return []

    with pytest.raises(TypeError, match="title"):
        NoTitle()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"audiences": ()}, "audiences must be a non-empty tuple"),
        ({"escalation": [Audience("head", "agency")]}, "escalation must be a non-empty tuple"),
        ({"code": "overdue"}, "'overdue' is registered already"),
        ({"code": "a_code_longer_than_thirty_characters"}, "at most 30"),
        ({"code": "Bad-Code"}, "lower-case letters"),
        ({"label": ""}, "label is missing"),
        ({"subject": "commune"}, "subject is not"),
        ({"title": lambda self, **kw: TYPO % {"subject": kw["subject"]}}, "render"),
        ({"title": lambda self, **kw: "On watch"}, "does not name its subject"),
    ],
)
def test_an_incomplete_or_clashing_rule_is_refused_at_registration(changes, message):
    broken = type("Broken", (Outside,), changes)()
    with pytest.raises(SpecError, match=message):
        specs.register(broken)
    assert broken.code not in specs.codes() or broken.code == "overdue"
    assert specs.rule("overdue") in RULES


def test_an_unknown_audience_is_refused_where_it_is_written():
    with pytest.raises(SpecError, match="unit one of"):
        Audience("users", "ministry")


def test_a_subject_kind_code_is_owned_once():
    class Impostor(subjects.CommuneSubject):
        pass

    clash = type("Clash", (Outside,), {"code": "test_clash", "subject": Impostor()})()
    with pytest.raises(SpecError, match="subject kind 'commune' is registered already"):
        specs.register(clash)


def test_escalation_tells_others_past_the_first_step():
    assert [(a.who, a.unit) for a in specs.rule("blocked").audiences_for(0)] == [("users", "agency")]
    assert [(a.who, a.unit) for a in specs.rule("blocked").audiences_for(7)] == [("head", "agency")]
    assert specs.rule("deadline_7d").audiences_for(7) == specs.rule("deadline_7d").audiences_for(1)


@pytest.mark.django_db
def test_a_rule_registered_by_another_app_is_run_told_listed_and_titled(
    outside, run, quiet, commune_clerk, steering, api_for
):
    result = run(rules=["test_outside"])
    assert result.raised == 1
    alert = Alert.objects.get(rule="test_outside")
    assert (alert.subject_kind, alert.commune_id, alert.get_rule_display()) == ("commune", "00004", "watched commune")
    assert list(Notification.objects.filter(alert=alert).values_list("user__username", flat=True)) == [
        commune_clerk.username
    ]
    rows = api_for(user=steering).get("/api/v1/alerts/", {"rule": "test_outside"}).json()["results"]
    assert [(r["rule"], r["subject"]["code"]) for r in rows] == [("test_outside", "00004")]
    notes = api_for(user=commune_clerk).get("/api/v1/notifications/", {"rule": "test_outside"}).json()["results"]
    assert [n["title"] for n in notes] == ["On watch: Phường Ba Đình (00004)"]
    # a run's default is every registered rule; a second run raises nothing twice
    again = run()
    assert "test_outside" in again.run.rules
    assert Alert.objects.filter(rule="test_outside").count() == 1
    assert not Alert.objects.filter(rule="test_outside", run=again.run).exists()


@pytest.mark.django_db
def test_once_unregistered_its_alerts_still_read(outside, run, quiet, steering, api_for):
    run(rules=["test_outside"])
    specs.unregister("test_outside")
    response = api_for(user=steering).get("/api/v1/alerts/", {"open": "true"})
    assert response.status_code == 200
    response = api_for(user=steering).get("/api/v1/alerts/", {"rule": "test_outside"})
    assert response.status_code == 400 and "rule" in response.json()
