"""Report forms as data (DESIGN.md §11): a form's version — its indicators, rules and rates — as one immutable,
compiled object (`FormSpec`), built from the default form's fixture (reports/fixtures/default_form.json), from
an imported file (reports.formimport) or from the database (reports.models.FormVersion and its rows).

Expressions (rules' sides, rates' numerators and denominators) are a tiny grammar: indicator codes, whole
numbers, + - *, unary minus and parentheses. They are parsed with Python's `ast` module and every node
outside that grammar is refused; they are evaluated by walking the tree, never by eval(). In an expression a
yes/no indicator counts 1 or 0, a text or a list of choices its length (so "required when support_needed"
reads as it is written).

Which version is in force on a day: `spec_for_day(day)`. The versions are cached in the process. A version
may only take effect after today and after the last day with reports (reports.formimport refuses anything
else), so a list read on day L knows every version in force up to L: the list is read again only when a
report of a later day arrives (once a day per process), or at once in the process that imported a version
(`forget()`). So the single POST costs no query for its form.
"""

import ast
import datetime
import functools
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.apps import apps
from django.utils import timezone
from django.utils.translation import get_language

DEFAULT_FORM_FILE = Path(__file__).resolve().parent / "fixtures" / "default_form.json"

INTEGER, YES_NO, CHOICE, CHOICES, TEXT = "integer", "yes_no", "choice", "choices", "text"
TYPES = (INTEGER, YES_NO, CHOICE, CHOICES, TEXT)
SUM, STOCK, NONE = "sum", "stock", "none"
AGGREGATIONS = (SUM, STOCK, NONE)
COMPARE, REQUIRED_WHEN, ONLY_WHEN = "compare", "required_when", "only_when"
RULE_KINDS = (COMPARE, REQUIRED_WHEN, ONLY_WHEN)
OPERATORS = {"<=": "≤", ">=": "≥", "=": "="}
OPERATOR_ALIASES = {"<=": "<=", "≤": "<=", ">=": ">=", "≥": ">=", "=": "=", "==": "="}
ERROR, WARNING = "error", "warning"
SEVERITIES = (ERROR, WARNING)
PROPOSED, OFFICIAL = "proposed", "official"
STATUSES = (PROPOSED, OFFICIAL)
DAILY = "daily"  # the daily report's form: the one whose versions reports follow
INTEGER_MAX = 1_000_000
TEXT_MAX = 2000
CODE_MAX = 40


class FormDefinitionError(ValueError):
    """A form that may not be used: `errors` are (sheet, row, column, message) — row 0 when the error is the
    form's as a whole (a circle of rules, for instance)."""

    def __init__(self, errors: list[tuple[str, int, str, str]]):
        super().__init__("; ".join(f"{s} row {r}, column {c}: {m}" for s, r, c, m in errors))
        self.errors = errors


# --- expressions ----------------------------------------------------------------------------------------------


class ExpressionError(ValueError):
    pass


_BINARY: dict[type, Callable[[int, int], int]] = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
}
EXPRESSION_MAX = 500


@dataclass(frozen=True)
class Expression:
    """A parsed expression: its text, the indicator codes it names (in order) and its tree."""

    text: str
    names: tuple[str, ...]
    tree: Any = field(compare=False, repr=False)

    @functools.cached_property
    def value(self) -> Callable[[Mapping[str, Any]], int | None]:
        """Its value over `values` ({code: value}), as `expression.value(values)`; None when a name it needs has
        no value. The tree is turned into closures once (never eval): a report's rules and rates are evaluated
        for every report of a batch."""
        return _compile(self.tree)

    def sql(self, column: Callable[[str], str]) -> str:
        """The same expression in SQL, each indicator written by `column(code)` (code constants only)."""
        return _sql(self.tree, column)


def parse_expression(text: str) -> Expression:
    """Parse `text`; raises ExpressionError (English and Vietnamese) on anything outside the grammar."""
    if not isinstance(text, str) or not text.strip():
        raise ExpressionError("empty expression / biểu thức trống")
    if len(text) > EXPRESSION_MAX:
        raise ExpressionError(f"longer than {EXPRESSION_MAX} characters / dài quá {EXPRESSION_MAX} ký tự")
    try:
        tree = ast.parse(text.strip(), mode="eval").body
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        raise ExpressionError(
            f"{text.strip()[:80]!r} is not an expression of indicator codes, whole numbers, + - * and parentheses"
            " / không phải biểu thức hợp lệ (mã chỉ tiêu, số nguyên, + - * và ngoặc)"
        ) from None
    names: list[str] = []
    _check(tree, names, depth=0)
    return Expression(text=text.strip(), names=tuple(dict.fromkeys(names)), tree=tree)


def _check(node: Any, names: list[str], *, depth: int) -> None:
    if depth > 50:
        raise ExpressionError("nested too deeply / lồng nhau quá sâu")
    if isinstance(node, ast.Name):
        names.append(node.id)
    elif isinstance(node, ast.Constant) and type(node.value) is int:
        pass
    elif isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        _check(node.left, names, depth=depth + 1)
        _check(node.right, names, depth=depth + 1)
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        _check(node.operand, names, depth=depth + 1)
    else:
        shown = ast.unparse(node)[:60] if hasattr(ast, "unparse") else type(node).__name__
        raise ExpressionError(
            f"{shown!r} is not allowed: use indicator codes, whole numbers, + - * and parentheses"
            f" / không được dùng {shown!r}: chỉ dùng mã chỉ tiêu, số nguyên, + - * và ngoặc"
        )


def _number(value: Any) -> int | None:
    if value is None:
        return None
    if type(value) is bool:
        return int(value)
    if type(value) is int:
        return value
    if isinstance(value, (str, list, tuple)):
        return len(value)
    return None


def _evaluate(node: Any, values: Mapping[str, Any]) -> int | None:
    if isinstance(node, ast.Name):
        return _number(values.get(node.id))
    if isinstance(node, ast.Constant):
        return int(node.value)
    if isinstance(node, ast.UnaryOp):
        inner = _evaluate(node.operand, values)
        return None if inner is None else -inner
    left, right = _evaluate(node.left, values), _evaluate(node.right, values)
    if left is None or right is None:
        return None
    return _BINARY[type(node.op)](left, right)


def _sum_of_names(node: Any) -> list[str] | None:
    """The names of `a + b + …` (names only, left to right), or None for any other tree."""
    if isinstance(node, ast.Name):
        return [node.id]
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add) and isinstance(node.right, ast.Name):
        left = _sum_of_names(node.left)
        return None if left is None else [*left, node.right.id]
    return None


def _compile(node: Any) -> Callable[[Mapping[str, Any]], int | None]:
    """The closure that computes what _evaluate computes over the same tree (tests/reports/test_formspec.py
    holds them equal)."""
    names = _sum_of_names(node)
    if names is not None:
        keys = tuple(names)

        def total(values: Mapping[str, Any]) -> int | None:
            result = 0
            for key in keys:
                value = values.get(key)
                if type(value) is not int:
                    value = _number(value)
                    if value is None:
                        return None
                result += value
            return result

        return total
    if isinstance(node, ast.Constant):
        constant = int(node.value)
        return lambda values: constant
    if isinstance(node, ast.UnaryOp):
        operand = _compile(node.operand)

        def negative(values: Mapping[str, Any]) -> int | None:
            inner = operand(values)
            return None if inner is None else -inner

        return negative
    left, right, op = _compile(node.left), _compile(node.right), _BINARY[type(node.op)]

    def binary(values: Mapping[str, Any]) -> int | None:
        a, b = left(values), right(values)
        return None if a is None or b is None else op(a, b)

    return binary


_SQL_OPS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*"}


def _sql(node: Any, column: Callable[[str], str]) -> str:
    if isinstance(node, ast.Name):
        return column(node.id)
    if isinstance(node, ast.Constant):
        return str(int(node.value))
    if isinstance(node, ast.UnaryOp):
        return f"(-{_sql(node.operand, column)})"
    return f"({_sql(node.left, column)} {_SQL_OPS[type(node.op)]} {_sql(node.right, column)})"


# --- the compiled form ----------------------------------------------------------------------------------------


def _pick(vi: str, en: str) -> str:
    """The label of the active language: Vietnamese by default, English when asked (and when it exists), and
    when translation is deactivated (the original text, as gettext gives it: migrations, for instance)."""
    language = get_language()
    if language is None or language.startswith("en"):
        return en or vi
    return vi or en


@dataclass(frozen=True)
class Choice:
    code: str
    label_vi: str
    label_en: str

    @property
    def label(self) -> str:
        return _pick(self.label_vi, self.label_en)


@dataclass(frozen=True)
class Indicator:
    """One field of a report. `series` names the storage it writes to: its own code, or the code of the
    indicator of an earlier version it continues (a renamed indicator keeps its series)."""

    code: str
    series: str
    label_vi: str
    label_en: str
    type: str
    unit: str = ""
    minimum: int | None = None
    maximum: int | None = None
    required: bool = False
    aggregation: str = NONE
    section: str = ""
    help_vi: str = ""
    help_en: str = ""
    choices: tuple[Choice, ...] = ()
    order: int = 0

    @property
    def label(self) -> str:
        return _pick(self.label_vi, self.label_en)

    @property
    def help(self) -> str:
        return _pick(self.help_vi, self.help_en)

    @property
    def choice_codes(self) -> tuple[str, ...]:
        return tuple(c.code for c in self.choices)

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "series": self.series,
            "label_vi": self.label_vi,
            "label_en": self.label_en,
            "help_vi": self.help_vi,
            "help_en": self.help_en,
            "type": self.type,
            "unit": self.unit,
            "minimum": self.minimum,
            "maximum": self.maximum,
            "required": self.required,
            "aggregation": self.aggregation,
            "section": self.section,
            "choices": [{"code": c.code, "label_vi": c.label_vi, "label_en": c.label_en} for c in self.choices],
        }


@dataclass(frozen=True)
class Rule:
    """`compare`: left op right (both expressions); `required_when`: the indicator `left` must have a value
    (not empty, not false) when `right` is not 0; `only_when`: `left` may have a value only when `right` is
    not 0. `field` is the indicator the error or the warning names (by default the first of `left`); `code`
    the code it carries; empty messages take the portal's standard wording for the kind."""

    code: str
    kind: str
    left: Expression
    op: str
    right: Expression
    field: str
    severity: str = ERROR
    message_vi: str = ""
    message_en: str = ""

    @functools.cached_property
    def names(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys((*self.left.names, *self.right.names)))

    @property
    def message(self) -> str:
        return _pick(self.message_vi, self.message_en)

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "kind": self.kind,
            "left": self.left.text,
            "op": self.op,
            "right": self.right.text,
            "field": self.field,
            "severity": self.severity,
            "message_vi": self.message_vi,
            "message_en": self.message_en,
        }


@dataclass(frozen=True)
class Rate:
    """A value derived on read: numerator / denominator (None on a 0 denominator), or, without a
    denominator, a total (the numerator itself)."""

    code: str
    numerator: Expression
    denominator: Expression | None
    label_vi: str = ""
    label_en: str = ""

    @property
    def label(self) -> str:
        return _pick(self.label_vi, self.label_en)

    def value(self, values: Mapping[str, Any]) -> int | float | None:
        top = self.numerator.value(values)
        if self.denominator is None:
            return top
        bottom = self.denominator.value(values)
        return None if top is None or not bottom else top / bottom

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "numerator": self.numerator.text,
            "denominator": self.denominator.text if self.denominator else None,
            "label_vi": self.label_vi,
            "label_en": self.label_en,
        }


@dataclass(frozen=True)
class FormSpec:
    """One version of a report form, compiled. Immutable: a version, once applied, never changes."""

    code: str
    title_vi: str
    title_en: str
    status: str
    number: int
    effective_from: datetime.date
    indicators: tuple[Indicator, ...]
    rules: tuple[Rule, ...]
    rates: tuple[Rate, ...]
    version_id: int | None = None

    @property
    def title(self) -> str:
        return _pick(self.title_vi, self.title_en)

    @functools.cached_property
    def by_code(self) -> dict[str, Indicator]:
        return {i.code: i for i in self.indicators}

    @functools.cached_property
    def codes(self) -> tuple[str, ...]:
        return tuple(i.code for i in self.indicators)

    @functools.cached_property
    def report_fields(self) -> frozenset[str]:
        """The fields a report of this version may have."""
        return frozenset(("locality", "date", *self.codes))

    @functools.cached_property
    def integers(self) -> tuple[Indicator, ...]:
        return tuple(i for i in self.indicators if i.type == INTEGER)

    @functools.cached_property
    def summed(self) -> tuple[Indicator, ...]:
        """The integer indicators rolled up across localities (sums and stocks)."""
        return tuple(i for i in self.integers if i.aggregation in (SUM, STOCK))

    @functools.cached_property
    def by_series(self) -> dict[str, Indicator]:
        return {i.series: i for i in self.indicators}

    @functools.cached_property
    def rate_codes(self) -> tuple[str, ...]:
        return tuple(r.code for r in self.rates)

    def derived(self, values: Mapping[str, Any]) -> dict[str, int | float | None]:
        """Every rate (and total) of the version over `values` ({indicator code: value})."""
        return {rate.code: rate.value(values) for rate in self.rates}

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "title_vi": self.title_vi,
            "title_en": self.title_en,
            "status": self.status,
            "version": self.number,
            "effective_from": self.effective_from.isoformat(),
            "indicators": [i.as_dict() for i in self.indicators],
            "rules": [r.as_dict() for r in self.rules],
            "rates": [r.as_dict() for r in self.rates],
        }


# --- building a spec from rows (the fixture, a file, the database) ------------------------------------------


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _int_or_none(value: Any) -> int | None:
    if value is None or value == "":
        return None
    if type(value) is int:
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit() and len(value.strip()) < 12:
        return int(value.strip())
    raise ValueError


def _bool(value: Any, default: bool) -> bool:
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    text = _text(value).lower()
    if text in {"true", "1", "yes", "y", "x", "có", "co"}:
        return True
    if text in {"false", "0", "no", "n", "không", "khong"}:
        return False
    raise ValueError


def _is_code(text: str) -> bool:
    return bool(text) and len(text) <= CODE_MAX and text.isidentifier() and text.isascii() and text == text.lower()


def build_spec(
    data: Mapping[str, Any],
    *,
    known_series: Iterable[str] = (),
    version_id: int | None = None,
) -> FormSpec:
    """A FormSpec from {"form": {...}, "indicators": [rows], "rules": [rows], "rates": [rows]} (each row a
    mapping of column → cell, with an optional "_row" number for the error messages). Raises
    FormDefinitionError listing every error by sheet, row and column. `known_series` are the series of the
    earlier versions a `series` cell may name."""
    errors: list[tuple[str, int, str, str]] = []
    known = set(known_series)

    def err(sheet: str, row: int, column: str, message: str) -> None:
        errors.append((sheet, row, column, message))

    form = dict(data.get("form") or {})
    code = _text(form.get("code")) or "daily"
    if not _is_code(code):
        err("form", 2, "code", "must be a code of lower-case letters, digits and _ / phải là mã chữ thường, số và _")
    status = _text(form.get("status")) or PROPOSED
    if status not in STATUSES:
        err("form", 2, "status", f"{status!r}: use proposed or official / dùng proposed hoặc official")
    effective = form.get("effective_from")
    if isinstance(effective, datetime.datetime):
        effective = effective.date()
    if isinstance(effective, str):
        try:
            effective = datetime.date.fromisoformat(effective.strip())
        except ValueError:
            err("form", 2, "effective_from", f"{effective[:20]!r}: write a date YYYY-MM-DD / ghi ngày dạng YYYY-MM-DD")
            effective = None
    if effective is not None and not isinstance(effective, datetime.date):
        err("form", 2, "effective_from", "write a date YYYY-MM-DD / ghi ngày dạng YYYY-MM-DD")
        effective = None
    title_vi, title_en = _text(form.get("title_vi")), _text(form.get("title_en"))
    if not (title_vi or title_en):
        err("form", 2, "title_vi", "a title is required / cần có tên biểu mẫu")

    indicators: list[Indicator] = []
    seen_codes: set[str] = set()
    seen_series: set[str] = set()
    for position, row in enumerate(data.get("indicators") or [], start=2):
        number = int(row.get("_row", position))
        icode = _text(row.get("code"))
        if not _is_code(icode):
            err(
                "indicators",
                number,
                "code",
                f"{icode[:40]!r}: a code of lower-case letters, digits and _ (at most "
                f"{CODE_MAX}) / mã chữ thường, số và _ (tối đa {CODE_MAX})",
            )
            continue
        if icode in seen_codes:
            err("indicators", number, "code", f"{icode} is listed twice / {icode} bị lặp")
            continue
        if icode in {"locality", "date", "reason", "extra"}:
            err("indicators", number, "code", f"{icode} is a reserved field / {icode} là trường dành riêng")
            continue
        seen_codes.add(icode)
        series = _text(row.get("series")) or icode
        if series != icode and series not in known:
            err(
                "indicators",
                number,
                "series",
                f"{series!r} is no series of an earlier version / "
                f"{series!r} không phải chuỗi số liệu của phiên bản trước",
            )
        if series in seen_series:
            err("indicators", number, "series", f"series {series} is continued twice / chuỗi {series} bị dùng hai lần")
        seen_series.add(series)
        kind = _text(row.get("type"))
        if kind == "yes/no":
            kind = YES_NO
        if kind not in TYPES:
            err(
                "indicators",
                number,
                "type",
                f"{kind[:20]!r}: use one of {', '.join(TYPES)} / dùng một trong {', '.join(TYPES)}",
            )
            continue
        bounds: dict[str, int | None] = {}
        for column in ("minimum", "maximum"):
            try:
                bounds[column] = _int_or_none(row.get(column))
            except ValueError:
                err("indicators", number, column, "must be a whole number / phải là số nguyên")
                bounds[column] = None
        minimum, maximum = bounds["minimum"], bounds["maximum"]
        if kind == INTEGER:
            minimum = 0 if minimum is None else minimum
            maximum = INTEGER_MAX if maximum is None else maximum
            if minimum < 0:
                err("indicators", number, "minimum", "figures are 0 or more / số liệu không âm")
            if maximum > INTEGER_MAX:
                err("indicators", number, "maximum", f"at most {INTEGER_MAX} / tối đa {INTEGER_MAX}")
        elif kind == TEXT:
            maximum = TEXT_MAX if maximum is None else maximum
            if not 0 < maximum <= TEXT_MAX:
                err(
                    "indicators",
                    number,
                    "maximum",
                    f"text is 1 to {TEXT_MAX} characters / văn bản từ 1 đến {TEXT_MAX} ký tự",
                )
        if minimum is not None and maximum is not None and minimum > maximum:
            err("indicators", number, "minimum", "above the maximum / lớn hơn giá trị tối đa")
        try:
            required = _bool(row.get("required"), kind == INTEGER)
        except ValueError:
            err("indicators", number, "required", "write true or false / ghi true hoặc false")
            required = False
        aggregation = _text(row.get("aggregation")) or (SUM if kind == INTEGER else NONE)
        if aggregation not in AGGREGATIONS:
            err(
                "indicators",
                number,
                "aggregation",
                f"{aggregation[:20]!r}: use sum, stock or none / dùng sum, stock hoặc none",
            )
        elif kind != INTEGER and aggregation != NONE:
            err("indicators", number, "aggregation", "only whole numbers add up / chỉ chỉ tiêu số mới cộng dồn")
        choices: list[Choice] = []
        raw_choices = row.get("choices")
        if kind in (CHOICE, CHOICES):
            if isinstance(raw_choices, list):
                choices = [
                    Choice(_text(c.get("code")), _text(c.get("label_vi")), _text(c.get("label_en")))
                    for c in raw_choices
                ]
            else:
                for part in _text(raw_choices).split(";"):
                    if not part.strip():
                        continue
                    ccode, _sep, labels = part.strip().partition("=")
                    label_vi, _sep, label_en = labels.partition("|")
                    choices.append(Choice(ccode.strip(), label_vi.strip(), label_en.strip()))
            codes = [c.code for c in choices]
            if not choices:
                err("indicators", number, "choices", "list the choices: code=nhãn|label; … / liệt kê các lựa chọn")
            elif any(not _is_code(c) for c in codes) or len(set(codes)) != len(codes):
                err(
                    "indicators", number, "choices", "each choice needs a distinct code / mỗi lựa chọn cần một mã riêng"
                )
        elif raw_choices not in (None, "", []):
            err(
                "indicators",
                number,
                "choices",
                "only a choice indicator has choices / chỉ chỉ tiêu lựa chọn có danh sách lựa chọn",
            )
        label_vi, label_en = _text(row.get("label_vi")), _text(row.get("label_en"))
        if not (label_vi or label_en):
            err("indicators", number, "label_vi", "a label is required / cần có nhãn")
        indicators.append(
            Indicator(
                code=icode,
                series=series,
                label_vi=label_vi,
                label_en=label_en,
                type=kind,
                unit=_text(row.get("unit")),
                minimum=minimum,
                maximum=maximum,
                required=required,
                aggregation=aggregation if aggregation in AGGREGATIONS else NONE,
                section=_text(row.get("section")),
                help_vi=_text(row.get("help_vi")),
                help_en=_text(row.get("help_en")),
                choices=tuple(choices),
                order=len(indicators),
            )
        )
    if not indicators and not any(sheet == "indicators" for sheet, *_rest in errors):
        err("indicators", 1, "code", "a form needs at least one indicator / biểu mẫu cần ít nhất một chỉ tiêu")
    by_code = {i.code: i for i in indicators}

    def expression(sheet: str, number: int, column: str, text: Any) -> Expression | None:
        try:
            parsed = parse_expression(_text(text))
        except ExpressionError as exc:
            err(sheet, number, column, str(exc))
            return None
        unknown = [name for name in parsed.names if name not in by_code and name not in seen_codes]
        if unknown:
            err(sheet, number, column, f"unknown indicator {unknown[0]!r} / không có chỉ tiêu {unknown[0]!r}")
            return None
        return parsed

    rules: list[Rule] = []
    for position, row in enumerate(data.get("rules") or [], start=2):
        number = int(row.get("_row", position))
        rcode = _text(row.get("code"))
        if not _is_code(rcode):
            err("rules", number, "code", "a code of lower-case letters, digits and _ / mã chữ thường, số và _")
        kind = _text(row.get("kind"))
        if kind not in RULE_KINDS:
            err(
                "rules",
                number,
                "kind",
                f"{kind[:20]!r}: use compare, required_when or only_when / dùng compare, required_when hoặc only_when",
            )
            continue
        op = OPERATOR_ALIASES.get(_text(row.get("op")), "") if kind == COMPARE else ""
        if kind == COMPARE and not op:
            err("rules", number, "op", "use <=, >= or = / dùng <=, >= hoặc =")
        left = expression("rules", number, "left", row.get("left"))
        right = expression("rules", number, "right", row.get("right"))
        if kind != COMPARE and left is not None and (len(left.names) != 1 or left.text != left.names[0]):
            err("rules", number, "left", "name one indicator / ghi một mã chỉ tiêu")
            left = None
        severity = _text(row.get("severity")) or ERROR
        if severity not in SEVERITIES:
            err("rules", number, "severity", f"{severity[:20]!r}: use error or warning / dùng error hoặc warning")
        target = _text(row.get("field")) or (left.names[0] if left is not None and left.names else "")
        if left is not None and target not in by_code and target not in seen_codes:
            err("rules", number, "field", f"unknown indicator {target[:40]!r} / không có chỉ tiêu {target[:40]!r}")
        if left is None or right is None:
            continue
        if kind == COMPARE and any(
            by_code[n].type not in (INTEGER, YES_NO) for n in (*left.names, *right.names) if n in by_code
        ):
            err("rules", number, "left", "compare whole numbers or yes/no / chỉ so sánh chỉ tiêu số hoặc có/không")
        rules.append(
            Rule(
                code=rcode,
                kind=kind,
                left=left,
                op=op,
                right=right,
                field=target,
                severity=severity,
                message_vi=_text(row.get("message_vi")),
                message_en=_text(row.get("message_en")),
            )
        )
    _circles(rules, err)

    rates: list[Rate] = []
    seen_rates: set[str] = set()
    for position, row in enumerate(data.get("rates") or [], start=2):
        number = int(row.get("_row", position))
        rcode = _text(row.get("code"))
        if not _is_code(rcode):
            err("rates", number, "code", "a code of lower-case letters, digits and _ / mã chữ thường, số và _")
            continue
        if rcode in seen_rates or rcode in by_code:
            err("rates", number, "code", f"{rcode} is already a rate or an indicator / {rcode} đã được dùng")
            continue
        seen_rates.add(rcode)
        numerator = expression("rates", number, "numerator", row.get("numerator"))
        denominator = (
            expression("rates", number, "denominator", row.get("denominator"))
            if _text(row.get("denominator"))
            else None
        )
        if numerator is None:
            continue
        rates.append(Rate(rcode, numerator, denominator, _text(row.get("label_vi")), _text(row.get("label_en"))))

    if errors:
        raise FormDefinitionError(errors)
    return FormSpec(
        code=code,
        title_vi=title_vi,
        title_en=title_en,
        status=status,
        number=int(form.get("version") or 1),
        effective_from=effective or datetime.date(2025, 7, 1),
        indicators=tuple(indicators),
        rules=tuple(rules),
        rates=tuple(rates),
        version_id=version_id,
    )


def _circles(rules: list[Rule], err: Callable[[str, int, str, str], None]) -> None:
    """Conditions may not chase each other: `a required when b` and `b required when a` (or a longer loop) is
    a circle no report could be judged by, and it is refused."""
    edges: dict[str, set[str]] = {}
    for rule in rules:
        if rule.kind in (REQUIRED_WHEN, ONLY_WHEN):
            edges.setdefault(rule.left.names[0], set()).update(rule.right.names)
    state: dict[str, int] = {}

    def visit(node: str, path: list[str]) -> list[str] | None:
        state[node] = 1
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                return [*path, node, nxt]
            if nxt not in state:
                found = visit(nxt, [*path, node])
                if found:
                    return found
        state[node] = 2
        return None

    for start in sorted(edges):
        if start not in state:
            loop = visit(start, [])
            if loop:
                shown = " → ".join(loop)
                err("rules", 0, "right", f"circular conditions: {shown} / điều kiện vòng tròn: {shown}")
                return


# --- the default form and the versions in force ---------------------------------------------------------------


@functools.cache
def default_data() -> dict[str, Any]:
    return json.loads(DEFAULT_FORM_FILE.read_text(encoding="utf-8"))


@functools.cache
def default_spec() -> FormSpec:
    """The shipped default form (version 1), from its fixture; no database."""
    return build_spec(default_data())


class _Versions:
    """The versions known to this process: [(effective_from, version id)] newest last, the compiled specs by
    id, and the last day the list is known to be complete for (see the module)."""

    def __init__(self) -> None:
        self.forget()

    def forget(self) -> None:
        self.horizon: datetime.date | None = None
        self.dated: list[tuple[datetime.date, int]] = []
        self.specs: dict[int, FormSpec] = {}

    def pin(self, horizon: datetime.date = datetime.date.max) -> None:
        """Known without the database: only the default form (tests that create no version)."""
        self.forget()
        self.horizon = horizon

    def load(self, today: datetime.date) -> None:
        self.dated = sorted(_form_versions().objects.filter(form__code=DAILY).values_list("effective_from", "pk"))
        self.horizon = today


_versions = _Versions()


def _form_versions() -> Any:
    """The FormVersion model, by the app registry (reports.models reads this module: figures.py builds the
    model's constraint from the default form)."""
    return apps.get_model("reports", "FormVersion")


def forget() -> None:
    """Read the versions again at the next use (after an import in this process; tests)."""
    _versions.forget()


def pin_default() -> None:
    """Tests: the default form only, with no query (a test that imports a version calls forget())."""
    _versions.pin()


def version_id_for_day(day: datetime.date) -> int | None:
    """The id of the version in force on `day` (None: the default form's fixture, no version stored)."""
    if _versions.horizon is None or day > _versions.horizon:
        # Complete up to today only: a version imported later takes effect after the day it is imported.
        _versions.load(timezone.localdate())
    found = None
    for effective, pk in _versions.dated:
        if effective <= day:
            found = pk
    return found


def spec_for_version(version_id: int | None) -> FormSpec:
    """The compiled version (cached: versions never change once applied); None is the default form."""
    if version_id is None:
        return default_spec()
    spec = _versions.specs.get(version_id)
    if spec is None:
        spec = _form_versions().objects.get(pk=version_id).spec()
        _versions.specs[version_id] = spec
    return spec


def spec_for_day(day: datetime.date) -> FormSpec:
    """The form in force on `day`."""
    return spec_for_version(version_id_for_day(day))


def specs_between(first: datetime.date, last: datetime.date) -> list[FormSpec]:
    """The versions in force on some day from `first` to `last`, oldest first."""
    version_id_for_day(last)
    ids = [pk for effective, pk in _versions.dated if first < effective <= last]
    start = version_id_for_day(first)
    return [spec_for_version(start), *(spec_for_version(pk) for pk in ids if pk != start)]


def has_extra_between(first: datetime.date, last: datetime.date) -> bool:
    """Is any day from `first` to `last` under a version with indicators stored outside the default form's
    columns (reports.models.DailyReport.extra)? The rollups sum those only then."""
    version_id_for_day(last)  # the list, complete up to `last`
    ids = [pk for effective, pk in _versions.dated if effective <= last]
    in_force = [pk for effective, pk in _versions.dated if first < effective <= last]
    before = [pk for effective, pk in _versions.dated if effective <= first]
    if before:
        in_force.append(before[-1])
    columns = {i.series for i in default_spec().indicators}
    return any(any(i.series not in columns for i in spec_for_version(pk).indicators) for pk in in_force if pk in ids)


def indicator_labels() -> dict[str, str]:
    """{code: label} of the integer indicators of every version (the default form's first), in the active
    language: what a quality warning may name (an outlier names a series; a warning rule its field)."""
    version_id_for_day(timezone.localdate())
    labels = {i.code: i.label for i in default_spec().integers}
    for _effective, pk in _versions.dated:
        for indicator in spec_for_version(pk).indicators:
            labels.setdefault(indicator.code, indicator.label)
    return labels


def is_default(spec: FormSpec) -> bool:
    """Is this the shipped default form (version 1, whose reports the §5 contract describes)?"""
    return spec.number == 1
