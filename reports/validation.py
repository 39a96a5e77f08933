"""The one validator of a daily report (DESIGN.md §5), used by the single POST, the batch, the PUT
correction, the browser form and the CSV/XLSX upload, so every channel gives the same codes and messages.

It is plain Python on purpose: a national batch of 3,355 reports is validated in a few milliseconds, and
the single POST pays no serializer overhead. Locality codes of a whole batch are checked with one query.

Types are strict, because the API is written against by machines and "12" or true are more likely bugs
than intentions:
- figures are JSON integers: a string ("12"), a boolean (true), a float (12.0) or null is `wrong_type`;
- `date` is a "YYYY-MM-DD" string;
- `locality` is a code string ("00004", "01"), never a number (a spreadsheet turns 00004 into 4);
- `outage_systems` is a list of distinct codes; `difficulties`/`proposals` are strings; `support_needed`
  is a JSON boolean. These four are optional: absent or null means [], "", "", false.
The browser form and the upload turn their text cells into these types first (see `payload_from_text`), so
a cell "abc" is `wrong_type` there too.

Errors are {field: [{"code": ..., "message": ...}]}; codes are stable, messages are translated.
"""

import datetime
import operator
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypedDict

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from core.dates import DATE_MESSAGE, INVALID_DATE, parse_date, parse_date_or_none
from core.text import echo
from localities.services import locality_index
from reports import formspec
from reports.figures import TEXT_MAX
from reports.receipts import payload_hash, receipt_for

# Stable error codes (the API's contract; messages may change, codes do not).
REQUIRED = "required"
WRONG_TYPE = "wrong_type"
NEGATIVE = "negative"
TOO_SMALL = "too_small"  # only a version with a minimum above 0 says it; not one of the §5 contract's codes
TOO_LARGE = "too_large"
UNKNOWN_FIELD = "unknown_field"
DATE_TOO_EARLY = "date_too_early"
DATE_IN_FUTURE = "date_in_future"
UNKNOWN_VALUE = "unknown_value"
DUPLICATE_VALUE = "duplicate_value"
TOO_LONG = "too_long"
EXCEEDS = "exceeds"
DIFFICULTIES_REQUIRED = "difficulties_required"
UNKNOWN_LOCALITY = "unknown_locality"
NOT_AN_OBJECT = "not_an_object"
MISMATCH = "mismatch"

ERROR_CODES = [
    REQUIRED,
    WRONG_TYPE,
    NEGATIVE,
    TOO_LARGE,
    UNKNOWN_FIELD,
    INVALID_DATE,
    DATE_TOO_EARLY,
    DATE_IN_FUTURE,
    UNKNOWN_VALUE,
    DUPLICATE_VALUE,
    TOO_LONG,
    EXCEEDS,
    DIFFICULTIES_REQUIRED,
    UNKNOWN_LOCALITY,
    NOT_AN_OBJECT,
    MISMATCH,
]


class ErrorItem(TypedDict):
    """One error of one field: a stable code and a translated message."""

    code: str
    message: str


NON_FIELD = "non_field_errors"
_MISSING = object()


def first_date() -> datetime.date:
    return parse_date(settings.REPORTS_FIRST_DATE)


def error(code: str, message: str) -> ErrorItem:
    return {"code": code, "message": message}


def report_day_error(
    day: datetime.date, *, today: datetime.date, start: datetime.date | None = None
) -> tuple[str, str] | None:
    """(code, message) when reports may not be sent for `day` (before the first day, or after today), or
    None. Report dates and the completeness API's `date` share it."""
    start = start or first_date()
    if day < start:
        return DATE_TOO_EARLY, _("Must not be before %(first)s.") % {"first": start.isoformat()}
    if day > today:
        return DATE_IN_FUTURE, _("Must not be after today (%(today)s in Asia/Ho_Chi_Minh).") % {
            "today": today.isoformat()
        }
    return None


@dataclass
class Validated:
    """One report after validation. `data` is the normalised payload (every field present, JSON types),
    the content that is hashed, stored and returned; `day` is its date as a date."""

    data: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, list[ErrorItem]] = field(default_factory=dict)
    day: datetime.date | None = None
    province_id: str | None = None
    commune_id: str | None = None
    slot: int | None = None
    # The form version the report was judged by, and the warnings of its warning rules (§11's `warnings`).
    spec: formspec.FormSpec = field(default_factory=formspec.default_spec)
    warnings: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def valid_day(self) -> datetime.date:
        """The date of a report that passed validation."""
        if self.day is None:
            raise ValueError("the report has no valid date")
        return self.day

    @property
    def valid_province_id(self) -> str:
        """The province of a report that passed validation (its own code, or its commune's province)."""
        if self.province_id is None:
            raise ValueError("the report has no known locality")
        return self.province_id

    @property
    def valid_locality(self) -> str:
        """The locality code of a report that passed validation."""
        if self.locality is None:
            raise ValueError("the report has no valid locality")
        return self.locality

    @property
    def locality(self) -> str | None:
        value = self.data.get("locality")
        return value if isinstance(value, str) else None

    def add(self, name: str, code: str, message: str) -> None:
        self.errors.setdefault(name, []).append(error(code, message))

    def digest(self) -> str:
        return payload_hash(self.data)

    def receipt(self) -> str:
        return receipt_for(self.digest())


def _day_of(raw: dict[str, Any]) -> datetime.date | None:
    day = raw.get("date")
    return parse_date_or_none(day, bounded=False) if isinstance(day, str) and day == day.strip() else None


def _check_report(raw: Any, *, today: datetime.date, start: datetime.date) -> Validated:
    """Every rule that needs no database, of the form version in force on the report's day (the current one when
    the date is not valid). Returns a Validated whose locality is not yet looked up.

    The order of the checks, which is the order of the error fields in the answer, is the §5 contract's for the
    default form: unknown fields, locality, date, the whole numbers, the comparisons between them, the other
    indicators in the form's order, then the rules that make one indicator depend on another."""
    result = Validated()
    if not isinstance(raw, dict):
        result.add(NON_FIELD, NOT_AN_OBJECT, _("Each report must be a JSON object."))
        result.spec = formspec.spec_for_day(today)
        return result
    data = result.data
    known_day = _day_of(raw)
    spec = formspec.spec_for_day(known_day if known_day is not None and start <= known_day <= today else today)
    result.spec = spec
    fields = _fields_of(spec)

    for name in raw.keys() - fields:
        result.add(echo(name), UNKNOWN_FIELD, _("Unknown field."))

    locality = raw.get("locality", _MISSING)
    if locality is _MISSING or locality is None or locality == "":
        result.add("locality", REQUIRED, _("Required."))
    elif not isinstance(locality, str):
        result.add("locality", WRONG_TYPE, _('Must be a code written as text, e.g. "00004" or "01".'))
    else:
        data["locality"] = locality.strip()

    day = raw.get("date", _MISSING)
    if day is _MISSING or day is None or day == "":
        result.add("date", REQUIRED, _("Required."))
    else:
        # Text only: a date object cannot come from JSON, and the form and uploads send text (payload_from_text).
        parsed = known_day
        if parsed is None:
            result.add("date", INVALID_DATE, str(DATE_MESSAGE))
        else:
            day_error = report_day_error(parsed, today=today, start=start)
            if day_error is not None:
                result.add("date", *day_error)
            else:
                data["date"] = day
                result.day = parsed

    for indicator in spec.integers:
        _check_integer(result, raw, indicator)
    for rule in spec.rules:
        if rule.kind == formspec.COMPARE:
            _check_comparison(result, rule)
    for indicator in spec.indicators:
        if indicator.type == formspec.CHOICES:
            _check_choices(result, raw, indicator)
        elif indicator.type == formspec.CHOICE:
            _check_choice(result, raw, indicator)
        elif indicator.type == formspec.TEXT:
            _check_text(result, raw, indicator)
        elif indicator.type == formspec.YES_NO:
            _check_yes_no(result, raw, indicator)
    for rule in spec.rules:
        if rule.kind != formspec.COMPARE:
            _check_condition(result, rule)
    return result


def _fields_of(spec: formspec.FormSpec) -> frozenset[str]:
    # Kept on the spec (a cache keyed by the spec would hash the whole frozen form for every report).
    return spec.report_fields


def _check_integer(result: Validated, raw: dict[str, Any], indicator: formspec.Indicator) -> None:
    name = indicator.code
    value = raw.get(name, _MISSING)
    minimum = indicator.minimum if indicator.minimum is not None else 0
    maximum = indicator.maximum if indicator.maximum is not None else formspec.INTEGER_MAX
    # type() rather than isinstance(): bool is a subclass of int and must be refused.
    if type(value) is int:
        if value < 0:
            result.add(name, NEGATIVE, _("Must be 0 or more."))
        elif value < minimum:
            result.add(name, TOO_SMALL, _("Must be at least %(limit)s.") % {"limit": minimum})
        elif value > maximum:
            result.add(name, TOO_LARGE, _("Must be at most %(limit)s.") % {"limit": maximum})
        else:
            result.data[name] = value
    elif value is _MISSING or (value is None and not indicator.required):
        if indicator.required:
            result.add(name, REQUIRED, _("Missing figure: send 0 when there was nothing."))
        else:
            result.data[name] = None
    else:
        result.add(name, WRONG_TYPE, _("Must be a whole number."))


_COMPARE = {"<=": operator.le, ">=": operator.ge, "=": operator.eq}


def _rule_failed(result: Validated, rule: formspec.Rule, message: str, value: Any) -> None:
    message = rule.message or message
    if rule.severity == formspec.ERROR:
        result.add(rule.field, rule.code, message)
    else:
        result.warnings.append(
            {
                "code": rule.code,
                "indicator": rule.field,
                "value": value if type(value) is int else None,
                "expected": None,
                "message": message,
            }
        )


def _check_comparison(result: Validated, rule: formspec.Rule) -> None:
    data = result.data
    if any(data.get(name) is None for name in rule.names):
        return  # a figure in error, or not given: its own error says so
    left, right = rule.left.value(data), rule.right.value(data)
    if left is None or right is None or _COMPARE[rule.op](left, right):
        return
    if rule.op == "<=" and rule.right.names == (rule.right.text,):
        message = _("Must not exceed %(other)s (%(value)s > %(other_value)s).") % {
            "other": rule.right.text,
            "value": left,
            "other_value": right,
        }
    else:
        message = _("%(left)s must be %(op)s %(right)s (%(value)s, %(other_value)s).") % {
            "left": rule.left.text,
            "op": formspec.OPERATORS[rule.op],
            "right": rule.right.text,
            "value": left,
            "other_value": right,
        }
    _rule_failed(result, rule, message, left)


def _has_value(value: Any) -> bool:
    return value not in (None, "", [], False)


def _check_condition(result: Validated, rule: formspec.Rule) -> None:
    data = result.data
    target = rule.left.names[0]
    if rule.field in result.errors or target in result.errors or any(n in result.errors for n in rule.right.names):
        return
    condition = rule.right.value(data)
    if condition is None:
        return
    given = _has_value(data.get(target))
    if rule.kind == formspec.REQUIRED_WHEN and condition and not given:
        if rule.code == DIFFICULTIES_REQUIRED:
            message = _("When support is needed, describe the difficulties.")
        else:
            message = _("%(field)s is required when %(condition)s.") % {"field": target, "condition": rule.right.text}
        _rule_failed(result, rule, message, data.get(target))
    elif rule.kind == formspec.ONLY_WHEN and given and not condition:
        message = _("%(field)s may only be given when %(condition)s.") % {"field": target, "condition": rule.right.text}
        _rule_failed(result, rule, message, data.get(target))


def _check_choices(result: Validated, raw: dict[str, Any], indicator: formspec.Indicator) -> None:
    name = indicator.code
    codes = indicator.choice_codes
    values = raw.get(name)
    if values is None:
        if indicator.required:
            result.add(name, REQUIRED, _("Required."))
        else:
            result.data[name] = []
        return
    if not isinstance(values, list):
        result.add(name, WRONG_TYPE, _("Must be a list of codes."))
        return
    seen: set[str] = set()
    for value in values:
        if not isinstance(value, str):
            # Never hashed nor repr()'d: it may be a list or an object, nested deep.
            result.add(
                name,
                UNKNOWN_VALUE,
                _("Each value must be a code written as text; use one of: %(choices)s.")
                % {"choices": ", ".join(codes)},
            )
        elif value not in codes:
            result.add(
                name,
                UNKNOWN_VALUE,
                _("Unknown value %(value)s; use one of: %(choices)s.")
                % {"value": repr(value[:40]), "choices": ", ".join(codes)},
            )
        elif value in seen:
            result.add(name, DUPLICATE_VALUE, _("%(value)s is listed twice.") % {"value": value})
        else:
            seen.add(value)
    if name not in result.errors:
        if indicator.required and not seen:
            result.add(name, REQUIRED, _("Required."))
        else:
            result.data[name] = sorted(seen)


def _check_choice(result: Validated, raw: dict[str, Any], indicator: formspec.Indicator) -> None:
    name = indicator.code
    value = raw.get(name)
    if value is None or value == "":
        if indicator.required:
            result.add(name, REQUIRED, _("Required."))
        else:
            result.data[name] = ""
    elif not isinstance(value, str):
        result.add(name, WRONG_TYPE, _("Must be a code written as text."))
    elif value not in indicator.choice_codes:
        result.add(
            name,
            UNKNOWN_VALUE,
            _("Unknown value %(value)s; use one of: %(choices)s.")
            % {"value": repr(value[:40]), "choices": ", ".join(indicator.choice_codes)},
        )
    else:
        result.data[name] = value


def _check_text(result: Validated, raw: dict[str, Any], indicator: formspec.Indicator) -> None:
    name = indicator.code
    limit = indicator.maximum or TEXT_MAX
    value = raw.get(name)
    if value is None:
        if indicator.required:
            result.add(name, REQUIRED, _("Required."))
        else:
            result.data[name] = ""
    elif not isinstance(value, str):
        result.add(name, WRONG_TYPE, _("Must be text."))
    else:
        value = value.strip()
        if len(value) > limit:
            result.add(
                name,
                TOO_LONG,
                _("Must be at most %(limit)s characters (it has %(length)s).") % {"limit": limit, "length": len(value)},
            )
        elif indicator.required and not value:
            result.add(name, REQUIRED, _("Required."))
        else:
            result.data[name] = value


def _check_yes_no(result: Validated, raw: dict[str, Any], indicator: formspec.Indicator) -> None:
    name = indicator.code
    value = raw.get(name)
    if value is None:
        if indicator.required:
            result.add(name, REQUIRED, _("Required."))
        else:
            result.data[name] = False
    elif type(value) is not bool:
        result.add(name, WRONG_TYPE, _("Must be true or false."))
    else:
        result.data[name] = value


def lookup_localities(codes: Iterable[str]) -> dict[str, tuple[str, str | None, int | None]]:
    """{code: (province_id, commune_id or None, slot or None)} for the known codes among `codes`, from the
    process's locality index (localities.services). The slot is the commune's position in its province
    (reports.rollups records who reported by it)."""
    index = locality_index()
    if any(code not in index for code in codes):
        index = locality_index(refresh=True)  # a unit loaded since, or really unknown
    return {code: index[code] for code in codes if code in index}


def validate_reports(items: Iterable[Any], *, today: datetime.date | None = None) -> list[Validated]:
    """Validate a list of raw reports; one query for all their locality codes. Returns a Validated each."""
    today = today or timezone.localdate()
    start = first_date()
    results = [_check_report(item, today=today, start=start) for item in items]
    codes = {r.locality for r in results if r.locality}
    known = lookup_localities(codes) if codes else {}
    message = None
    for result in results:
        code = result.locality
        if code is None:
            continue
        found = known.get(code)
        if found is None:
            message = message or _(
                "Unknown locality code: use a 2-digit province or a 5-digit commune code, e.g. 01 or 00004."
            )
            result.add("locality", UNKNOWN_LOCALITY, message)
        else:
            result.province_id, result.commune_id, result.slot = found
    return results


def validate_report(item: Any, *, today: datetime.date | None = None) -> Validated:
    return validate_reports([item], today=today)[0]


def validate_reason(reason: Any) -> tuple[str, list[ErrorItem]]:
    """A correction's reason: required text of at most TEXT_MAX characters. Returns (clean, errors)."""
    if reason is None or (isinstance(reason, str) and not reason.strip()):
        return "", [error(REQUIRED, _("Say why the report is corrected."))]
    if not isinstance(reason, str):
        return "", [error(WRONG_TYPE, _("Must be text."))]
    reason = reason.strip()
    if len(reason) > TEXT_MAX:
        message = _("Must be at most %(limit)s characters (it has %(length)s).") % {
            "limit": TEXT_MAX,
            "length": len(reason),
        }
        return "", [error(TOO_LONG, message)]
    return reason, []


# --- text input (browser form, CSV and XLSX cells) ----------------------------------------------------------

_TRUE_WORDS = {"true", "1", "yes", "y", "x", "on", "có", "co"}
_FALSE_WORDS = {"false", "0", "no", "n", "không", "khong"}
_INT_RE = re.compile(r"[+-]?\d+")
_SPLIT_RE = re.compile(r"[;,\s]+")


# More digits than any figure may have: such text becomes a number just as far out of range, so the
# validator says `too_large` (or `negative`), where int() of over 4,300 digits would raise ValueError.
_MAX_DIGITS = 18


def _text_int(text: str) -> int:
    if len(text.lstrip("+-").lstrip("0")) > _MAX_DIGITS:
        return -(10**_MAX_DIGITS) if text.startswith("-") else 10**_MAX_DIGITS
    return int(text)


def payload_from_text(cells: Mapping[str, Any], *, spec: formspec.FormSpec | None = None) -> dict[str, Any]:
    """A report payload from text cells (a form or a spreadsheet row): the conversions a person expects,
    nothing more, so that the validator then speaks exactly as it does for the API. The indicators' types are
    those of `spec`, or of the version in force on the row's date (the default form's when it has none).

    Empty cells are left out (a missing figure is then `required`); integer text becomes an int; other text
    stays text (then `wrong_type`). XLSX gives numbers and dates: an integral float becomes an int, a date
    its ISO string; a number in the locality column stays a number (`wrong_type`), since 4 may have been
    00004 or 04.
    """
    day = cells.get("date")
    if isinstance(day, datetime.datetime):
        day = day.date().isoformat()
    elif isinstance(day, datetime.date):
        day = day.isoformat()
    if spec is None:
        parsed = parse_date_or_none(day.strip(), bounded=False) if isinstance(day, str) else None
        spec = (
            formspec.spec_for_day(parsed) if parsed is not None and parsed >= first_date() else formspec.default_spec()
        )
    types = {i.code: i.type for i in spec.indicators}
    payload = {}
    for name, value in cells.items():
        if value is None:
            continue
        if isinstance(value, str):
            value = value.strip()
            if value == "":
                continue
        kind = types.get(name)
        if kind == formspec.INTEGER:
            if isinstance(value, str) and _INT_RE.fullmatch(value):
                value = _text_int(value)
            elif isinstance(value, float) and value.is_integer():
                value = int(value)
        elif name == "date":
            if isinstance(value, datetime.datetime):
                value = value.date().isoformat()
            elif isinstance(value, datetime.date):
                value = value.isoformat()
        elif kind == formspec.YES_NO:
            if isinstance(value, str) and value.lower() in _TRUE_WORDS:
                value = True
            elif isinstance(value, str) and value.lower() in _FALSE_WORDS:
                value = False
            elif type(value) in (int, float) and value in (0, 1):
                value = bool(value)
        elif kind == formspec.CHOICES:
            if isinstance(value, str):
                value = [v for v in _SPLIT_RE.split(value) if v]
        payload[name] = value
    return payload
