"""Fast dumping for hot response schemas: the same output as marshmallow, planned once.

marshmallow walks every field of every nested object through several generic calls; a
90-day trends answer is ~1,200 of them. ``PlannedDump`` compiles a schema's fields into
one small function per field the first time it dumps, and falls back to marshmallow for
anything it does not know exactly (hooks, dotted attributes, custom field types).
"""

from collections.abc import Callable
from typing import Any

from marshmallow import Schema, fields, missing
from marshmallow.schema import POST_DUMP, PRE_DUMP

Plan = Callable[[Any], dict]
_MISSING = missing


def _value_of(obj: Any, key: str) -> Any:
    """Read a key or attribute the way marshmallow's get_value does."""
    if type(obj) is dict:
        value = obj.get(key, _MISSING)
        return getattr(obj, key, _MISSING) if value is _MISSING else value
    if hasattr(obj, "__getitem__"):
        try:
            return obj[key]
        except (KeyError, IndexError, TypeError, AttributeError):
            pass
    return getattr(obj, key, _MISSING)


def _unchanged(field: fields.Field, base: type[fields.Field]) -> bool:
    """Only fields whose serialisation is exactly the base class's may be planned."""
    kind = type(field)
    return kind._serialize is base._serialize and kind.serialize is fields.Field.serialize


def _none_or(convert: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """Wrap a converter so None passes through, as every marshmallow field does."""
    return lambda value: None if value is None else convert(value)


def _string(value: Any) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


# A field's plan: values of these exact types are already what marshmallow would return,
# anything else (but None, which every field passes through) goes through the function.
Step = tuple[Any, Callable[[Any], Any]]


class _Everything:
    """A container holding every type: the value passes through unchanged."""

    def __contains__(self, _item: object) -> bool:
        return True


_ANY = _Everything()


def _identity(value: Any) -> Any:
    return value


def _step(field: fields.Field) -> Step | None:
    """How to serialise a field's value quickly, or None if the field is not known."""
    if type(field) is fields.UUID:
        return (str,), str
    if isinstance(field, fields.Boolean) and _unchanged(field, fields.Boolean):
        return _ANY, _identity  # marshmallow 4 returns booleans as they are
    if isinstance(field, fields.Nested) and _unchanged(field, fields.Nested):
        if isinstance(field.nested, str):
            return None
        plan = plan_of(field.schema)
        if plan is None:
            return None
        if field.many or field.schema.many:
            return (), lambda items: [plan(item) for item in items]
        return (), plan
    if isinstance(field, fields.List) and _unchanged(field, fields.List):
        inner = _step(field.inner)
        if inner is None:
            return None
        convert = _none_or(inner[1])
        return (), lambda items: [convert(item) for item in items]
    simple = (
        (fields.Integer, (int,), int),
        (fields.Float, (float,), float),
        (fields.String, (str,), _string),
    )
    for base, ready, convert in simple:
        if isinstance(field, base) and _unchanged(field, base):
            if getattr(field, "as_string", False):
                return None
            return ready, convert
    for base in (fields.Date, fields.DateTime, fields.AwareDateTime, fields.NaiveDateTime):
        if type(field) is base:
            # The very function marshmallow would call (date.isoformat, datetime.isoformat...).
            format_func = field.SERIALIZATION_FUNCS.get(field.format or field.DEFAULT_FORMAT)
            return ((), format_func) if format_func else None
    return None


def plan_of(schema: Schema) -> Plan | None:
    """Compile (once per schema instance) a function dumping one object, or None."""
    cached = schema.__dict__.get("_steady_plan", _MISSING)
    if cached is not _MISSING:
        return cached
    plan = _compile(schema)
    schema.__dict__["_steady_plan"] = plan
    return plan


def _compile(schema: Schema) -> Plan | None:
    """Build the dump function from the schema's dump fields, in their order."""
    if schema._hooks[PRE_DUMP] or schema._hooks[POST_DUMP]:
        return None
    steps = []
    for name, field in schema.dump_fields.items():
        attribute = field.attribute or name
        step = _step(field)
        if step is None or "." in attribute or field.dump_default is not _MISSING:
            return None
        steps.append((field.data_key or name, attribute, *step))

    def dump_one(obj: Any) -> dict:
        result = {}
        plain = type(obj) is dict
        for key, attribute, ready, convert in steps:
            value = obj.get(attribute, _MISSING) if plain else _MISSING
            if value is _MISSING:
                value = _value_of(obj, attribute)
                if value is _MISSING:
                    continue
            if value is None or type(value) in ready:
                result[key] = value
            else:
                result[key] = convert(value)
        return result

    return dump_one


class PlannedDump(Schema):
    """A schema that dumps through its compiled plan (marshmallow when it has none)."""

    def dump(self, obj: Any, *, many: bool | None = None):
        """Serialise like marshmallow's Schema.dump, faster."""
        plan = plan_of(self)
        if plan is None:
            return super().dump(obj, many=many)
        many = self.many if many is None else bool(many)
        if many:
            return None if obj is None else [plan(item) for item in obj]
        return plan(obj)
