"""Declarative JSON mapping for claim dataclasses: Go field order, omitempty, lenient decoding.

Each field is declared once, as a dataclass field whose metadata says how it goes on the wire:
`subs: int = field(default=0, metadata=wire(dec=dec_int))`. The fields are declared in Go's struct
order (a subclass's after its bases', as dataclasses order them), and that order is the JSON
order; attributes without wire metadata are not written. Writing walks that list and
drops omitempty fields whose value is falsy, which matches Go's rule for "", 0, false, nil and empty
slices/maps; structs are never marked omitempty because Go never omits them. Reading follows Go's
Unmarshal: unknown keys are ignored, keys match case-insensitively when there is no exact match,
`null` leaves a value field alone (and clears a list, map or pointer), and a value of the wrong JSON
type fails the whole decode.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, NamedTuple, TypeVar

from nscpy.jwt.errors import MalformedToken

__all__ = [
    "Field",
    "Model",
    "dec_bool",
    "dec_int",
    "dec_uint",
    "dec_uint8",
    "dec_str",
    "dec_str_list",
    "dec_model",
    "dec_model_list",
    "dec_int_map",
    "enc_model",
    "enc_model_list",
    "enc_sorted_int_map",
    "fold_keys",
    "field_maps",
    "overlay",
    "wire",
]

Decoder = Callable[[Any, str], Any]
Encoder = Callable[[Any], Any]
M = TypeVar("M", bound="Model")

_INT64_MIN = -(2**63)
_INT64_MAX = 2**63 - 1


class Field(NamedTuple):
    """One JSON field: its name, the attribute, how to convert it, and Go's omitempty flag."""

    name: str
    attr: str
    enc: Encoder | None = None
    dec: Decoder | None = None
    omitempty: bool = True
    nullable: bool = False
    flat: bool = False


_WIRE = "nscpy.wire"


def wire(
    name: str = "",
    *,
    enc: Encoder | None = None,
    dec: Decoder | None = None,
    omitempty: bool = True,
    nullable: bool = False,
    flat: bool = False,
) -> Mapping[str, tuple[Any, ...]]:
    """The metadata= of a dataclass field written to JSON (name: the JSON key, default the
    attribute's; flat: a nested model whose fields sit in this object, as a Go embedded struct)."""
    return {_WIRE: (name, enc, dec, omitempty, nullable, flat)}


def _own_wire_fields(cls: type) -> tuple[Field, ...]:
    """The fields cls itself declares with wire metadata (read before @dataclass runs)."""
    own = []
    namespace = cls.__dict__
    for attr in namespace.get("__annotations__", ()):
        declared = namespace.get(attr)
        if type(declared) is dataclasses.Field and _WIRE in declared.metadata:
            name, enc, dec, omitempty, nullable, flat = declared.metadata[_WIRE]
            own.append(
                Field("" if flat else name or attr, attr, enc, dec, omitempty, nullable, flat)
            )
    return tuple(own)


def wire_fields(cls: type) -> tuple[Field, ...]:
    """cls's wire fields in dataclass order: bases' first; a redeclared field keeps its place."""
    merged: dict[str, Field] = {}
    for klass in reversed(cls.__mro__):
        for spec in klass.__dict__.get("_own_wire", ()):
            merged[spec.attr] = spec
    return tuple(merged.values())


def _type_error(where: str, wanted: str, raw: Any) -> MalformedToken:
    got = "null" if raw is None else type(raw).__name__.replace("dict", "object")
    return MalformedToken(f"JSON field {where!r} must be {wanted}, got {got}")


def dec_str(raw: Any, where: str) -> str:
    """A JSON string."""
    if type(raw) is str:
        return raw
    raise _type_error(where, "a string", raw)


def dec_bool(raw: Any, where: str) -> bool:
    """A JSON boolean."""
    if type(raw) is bool:
        return raw
    raise _type_error(where, "true or false", raw)


def dec_int(raw: Any, where: str) -> int:
    """A JSON integer that fits Go's int64 (Go refuses 1.0 and 1e3 here too)."""
    if type(raw) is int and _INT64_MIN <= raw <= _INT64_MAX:
        return raw
    raise _type_error(where, "a 64-bit integer", raw)


def dec_uint(raw: Any, where: str) -> int:
    """A JSON integer that fits Go's uint64."""
    if type(raw) is int and 0 <= raw < 2**64:
        return raw
    raise _type_error(where, "a non-negative integer", raw)


def dec_uint8(raw: Any, where: str) -> int:
    """A JSON integer 0..255 (Go's uint8)."""
    if type(raw) is int and 0 <= raw <= 255:
        return raw
    raise _type_error(where, "an integer 0..255", raw)


def dec_str_list(raw: Any, where: str) -> list[str]:
    """A JSON array of strings (a null element is Go's zero value, "")."""
    if type(raw) is not list:
        raise _type_error(where, "an array of strings", raw)
    out = []
    for item in raw:
        if type(item) is str:
            out.append(item)
        elif item is None:
            out.append("")
        else:
            raise _type_error(where, "an array of strings", item)
    return out


def dec_int_map(raw: Any, where: str) -> dict[str, int]:
    """A JSON object of integers (revocation lists)."""
    if type(raw) is not dict:
        raise _type_error(where, "an object", raw)
    return {key: 0 if value is None else dec_int(value, where) for key, value in raw.items()}


def dec_model(cls: type[M]) -> Decoder:
    """A decoder for a nested object of model cls."""

    def decode(raw: Any, where: str) -> M:
        return cls.from_json_dict(raw, where)

    return decode


def dec_model_list(cls: type[M]) -> Decoder:
    """A decoder for an array of model cls; null elements are refused."""

    def decode(raw: Any, where: str) -> list[M]:
        if type(raw) is not list:
            raise _type_error(where, "an array", raw)
        return [cls.from_json_dict(item, where) for item in raw]

    return decode


def enc_model(value: Model) -> dict[str, Any]:
    """A nested object."""
    return value.to_json_dict()


def enc_model_list(value: list[Model]) -> list[dict[str, Any]]:
    """An array of objects."""
    return [item.to_json_dict() for item in value]


def enc_sorted_int_map(value: dict[str, int]) -> dict[str, int]:
    """Go writes map keys in byte order (code point order for valid UTF-8)."""
    return {key: value[key] for key in sorted(value)}


def fold_keys(raw: dict[str, Any], known: frozenset[str]) -> dict[str, Any]:
    """Map keys that match a known name only case-insensitively onto that name (Go's rule)."""
    if known.issuperset(raw):
        return raw
    folded = {name.casefold(): name for name in known}
    out: dict[str, Any] = {}
    for key, value in raw.items():
        if key in known:
            out[key] = value
        else:
            name = folded.get(key.casefold())
            out[name if name is not None else key] = value
    return out


class Model:
    """Base for claim parts: subclasses are dataclasses whose defaults are Go's zero values."""

    FIELDS: ClassVar[tuple[Field, ...]] = ()
    """The fields of this JSON object, derived from the wire metadata of the dataclass fields."""
    _own_wire: ClassVar[tuple[Field, ...]] = ()
    _by_name: ClassVar[dict[str, tuple[Field, str | None]]]
    _folded: ClassVar[dict[str, tuple[Field, str | None]]]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._own_wire = _own_wire_fields(cls)
        cls.FIELDS = cls._object_fields(wire_fields(cls))
        cls._by_name, cls._folded = field_maps(cls.FIELDS)

    @classmethod
    def _object_fields(cls, declared: tuple[Field, ...]) -> tuple[Field, ...]:
        """Which declared fields make up this object (claims keep their nats ones apart)."""
        return declared

    def to_json_dict(self) -> dict[str, Any]:
        """The object Go's json.Marshal writes, as an insertion-ordered dict."""
        out: dict[str, Any] = {}
        self._fill(out)
        return out

    def _fill(self, out: dict[str, Any]) -> None:
        self._fill_fields(self, self.FIELDS, out)

    @staticmethod
    def _fill_fields(obj: Any, fields: tuple[Field, ...], out: dict[str, Any]) -> None:
        for field in fields:
            value = getattr(obj, field.attr)
            if field.flat:
                value._fill(out)
            elif not (field.omitempty and not value):
                out[field.name] = value if field.enc is None else field.enc(value)

    @classmethod
    def from_json_dict(cls: type[M], raw: Any, where: str = "nats") -> M:
        """Build from a parsed JSON object, as Go's json.Unmarshal would fill the struct."""
        obj = cls()
        obj.load_json(raw, where)
        return obj

    def load_json(self, raw: Any, where: str) -> None:
        """Overlay a parsed JSON object onto this one (fields absent from raw keep their value)."""
        overlay(self, raw, where, self._by_name, self._folded)


def overlay(
    obj: Any,
    raw: Any,
    where: str,
    by_name: dict[str, tuple[Field, str | None]],
    folded: dict[str, tuple[Field, str | None]],
) -> None:
    """Set obj's attributes from a JSON object through a field map, as Go's Unmarshal does."""
    if type(raw) is not dict:
        raise _type_error(where, "an object", raw)
    for key, value in raw.items():
        entry = by_name.get(key)
        if entry is None:
            entry = folded.get(key.casefold())
            if entry is None:
                continue
        field, owner = entry
        target = obj if owner is None else getattr(obj, owner)
        if value is None:
            if field.nullable:
                setattr(target, field.attr, _null_value(getattr(target, field.attr)))
            continue
        decode = field.dec
        setattr(target, field.attr, value if decode is None else decode(value, field.name))


def field_maps(
    fields: tuple[Field, ...],
) -> tuple[dict[str, tuple[Field, str | None]], dict[str, tuple[Field, str | None]]]:
    """The exact-name and case-folded lookup tables for a field list (flat fields expanded)."""
    by_name: dict[str, tuple[Field, str | None]] = {}
    for field in fields:
        if field.flat:
            inner = field.dec
            assert isinstance(inner, type) and issubclass(inner, Model)
            for sub in inner.FIELDS:
                by_name[sub.name] = (sub, field.attr)
        else:
            by_name[field.name] = (field, None)
    return by_name, {name.casefold(): entry for name, entry in by_name.items()}


def _null_value(current: Any) -> Any:
    """What a JSON null makes of a Go slice, map or pointer: nil (here: empty or None)."""
    if isinstance(current, list):
        return []
    if isinstance(current, dict):
        return type(current)()
    return None
