"""The `aws_iam_policy_document` data source, rendered as terraform-provider-aws 6.x renders it.

The plan JSON carries this data source's `json` attribute into every role, bucket and key
policy, and the IAM enforcement layer reads it from there, so the text must be the real
provider's, byte for byte:

* statements: `source_policy_documents` first (in order; a `Sid` repeated across them is an
  error), then the configured `statement` blocks (a repeated `sid` is an error), then each
  of `override_policy_documents`; a statement whose `Sid` is already present replaces it
  in place, a statement without `Sid` is always appended. `Id` is taken from the last
  document that has one, `Version` is the greatest seen;
* a one-element `actions`/`resources`/`identifiers` set is written as a string, a longer one
  as a list sorted in *descending* order; condition `values` keep their order and are
  merged when two `condition` blocks share `test` and `variable`;
* `Principal`/`NotPrincipal` and `Condition` are JSON objects whose keys are sorted;
  principals of the same type are concatenated in the provider's set order (the SDK's
  schema.Set orders elements by the decimal string of a CRC-32 of their serialisation);
  a single principal `{type = "*", identifiers = ["*"]}` becomes `"*"`;
* `&{` becomes `${` in resources, identifiers and condition values (IAM policy variables,
  not allowed with version 2008-10-17);
* `json` is Go's `json.MarshalIndent(doc, "", "  ")` and `minified_json` Go's `json.Marshal`
  (which escapes `<`, `>`, `&`, U+2028 and U+2029), `id` the CRC-32 of `json`;
* source and override documents are decoded as Go's encoding/json decodes them into the
  provider's policy structs (keys matched case-insensitively, a string principal means
  `"*"`, boolean condition values become strings, numeric ones are dropped).

References (read, not copied): terraform-provider-aws internal/service/iam/
policy_document_data_source.go and policy_model.go, and its acceptance test fixtures;
terraform-plugin-sdk helper/schema/set.go and serialize.go.
"""

from __future__ import annotations

import json
import re
import zlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from tools.offline_aws_provider.values import is_known

DEFAULT_VERSION = "2012-10-17"
VERSIONS = ("2008-10-17", "2012-10-17")
EFFECTS = ("Allow", "Deny")
# The provider's sid validation; IAM's own rule is the same for identity policies:
# https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_sid.html
_SID = re.compile(r"^[a-zA-Z0-9]*$")

StringOrList = str | list[str]


class PolicyDocumentError(ValueError):
    """The configuration cannot be rendered; the message is the provider's."""


@dataclass
class Principal:
    type: str
    identifiers: StringOrList


@dataclass
class Condition:
    test: str
    variable: str
    values: StringOrList


@dataclass
class Statement:
    sid: str = ""
    effect: str = ""
    # Action and Resource keep whatever JSON value a source document had (Go's `any`);
    # None means absent.
    action: Any = None
    not_action: Any = None
    resource: Any = None
    not_resource: Any = None
    principals: list[Principal] = field(default_factory=list)
    not_principals: list[Principal] = field(default_factory=list)
    conditions: list[Condition] = field(default_factory=list)


@dataclass
class PolicyDocument:
    version: str = ""
    id: str = ""
    statements: list[Statement] = field(default_factory=list)

    def merge(self, other: PolicyDocument) -> None:
        """The provider's merge: later documents win per Sid, Sid-less statements append."""
        if other.id:
            self.id = other.id
        if other.version > self.version:
            self.version = other.version
        for statement in other.statements:
            position = self._position_of(statement.sid) if statement.sid else None
            if position is None:
                self.statements.append(statement)
            else:
                self.statements[position] = statement

    def _position_of(self, sid: str) -> int | None:
        for position, existing in enumerate(self.statements):
            if existing.sid == sid:
                return position
        return None


# --- validation (the schema's ValidateFuncs, run by Terraform before any read) -------------


def validate(config: Mapping[str, Any]) -> list[str]:
    """The provider's validation errors for the known parts of `config`."""
    errors: list[str] = []
    version = config.get("version")
    if isinstance(version, str) and version not in VERSIONS:
        errors.append(_not_one_of("version", VERSIONS, version))
    for name in ("override_json", "source_json"):
        value = config.get(name)
        if isinstance(value, str) and value:
            errors.append(f'expected "{name}" to be an empty string: got {value}')
    for name in ("source_policy_documents", "override_policy_documents"):
        for index, document in enumerate(_known_list(config.get(name))):
            # An empty string is no document (the SDK's JSON check lets it through).
            if not isinstance(document, str) or not document:
                continue
            problem = _json_syntax_problem(document)
            if problem:
                errors.append(f'"{name}.{index}" contains an invalid JSON: {problem}')
    for index, statement in enumerate(_known_list(config.get("statement"))):
        if not isinstance(statement, dict):
            continue
        effect = statement.get("effect")
        if isinstance(effect, str) and effect not in EFFECTS:
            errors.append(_not_one_of(f"statement.{index}.effect", EFFECTS, effect))
        sid = statement.get("sid")
        if isinstance(sid, str) and not _SID.match(sid):
            errors.append(
                f"invalid value for statement.{index}.sid "
                "(must only include alphanumeric characters)"
            )
    return errors


def _not_one_of(key: str, allowed: Sequence[str], value: str) -> str:
    quoted = " ".join(json.dumps(item) for item in allowed)
    return f"expected {key} to be one of [{quoted}], got {value}"


def _known_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


# --- read ----------------------------------------------------------------------------------


def render(config: Mapping[str, Any]) -> dict[str, Any]:
    """The data source's state for a wholly known `config` (attribute names as in the schema).

    Raises PolicyDocumentError with the provider's message when its read fails. Like the
    provider's read, this does not re-run `validate` (Terraform calls that first, on the
    configuration as known then).
    """
    if not is_known(dict(config)):
        raise ValueError("aws_iam_policy_document is read only once its configuration is known")
    version = config.get("version") or DEFAULT_VERSION
    merged = PolicyDocument()
    _merge_sources(merged, config.get("source_policy_documents") or [])
    merged.merge(_configured_document(config, version))
    for index, text in enumerate(config.get("override_policy_documents") or []):
        if text:  # the SDK hands the provider no value for an empty string
            merged.merge(_decode_document(text, f"merging override document {index}"))
    document = _document_value(merged)
    indented = encode_go_json(document, indent="  ")
    return {
        **_echoed_config(config, version),
        "id": str(zlib.crc32(indented.encode("utf-8"))),
        "json": indented,
        "minified_json": encode_go_json(document),
    }


def _merge_sources(merged: PolicyDocument, sources: Sequence[str | None]) -> None:
    seen_sids: set[str] = set()
    for index, text in enumerate(sources):
        if not text:
            continue
        context = f"merging source document {index}"
        document = _decode_document(text, context)
        for position, statement in enumerate(document.statements):
            if not statement.sid:
                continue
            if statement.sid in seen_sids:
                raise PolicyDocumentError(
                    f"writing IAM Policy Document: {context}: duplicate Sid ({statement.sid}) "
                    f"in source_policy_documents (statement {position}). "
                    "Remove the Sid or ensure Sids are unique."
                )
            seen_sids.add(statement.sid)
        merged.merge(document)


def _echoed_config(config: Mapping[str, Any], version: str) -> dict[str, Any]:
    """The configured arguments as the SDK stores them: defaults filled, blocks never null."""
    return {
        "override_json": config.get("override_json"),
        "override_policy_documents": config.get("override_policy_documents"),
        "policy_id": config.get("policy_id"),
        "source_json": config.get("source_json"),
        "source_policy_documents": config.get("source_policy_documents"),
        "statement": [_echoed_statement(s) for s in config.get("statement") or []],
        "version": version,
    }


def _echoed_statement(statement: Mapping[str, Any]) -> dict[str, Any]:
    def blocks(name: str, keys: tuple[str, ...]) -> list[dict[str, Any]]:
        return [{key: block.get(key) for key in keys} for block in statement.get(name) or []]

    return {
        "actions": list(statement.get("actions") or []),
        "condition": blocks("condition", ("test", "values", "variable")),
        "effect": statement.get("effect") or "Allow",
        "not_actions": list(statement.get("not_actions") or []),
        "not_principals": blocks("not_principals", ("identifiers", "type")),
        "not_resources": list(statement.get("not_resources") or []),
        "principals": blocks("principals", ("identifiers", "type")),
        "resources": list(statement.get("resources") or []),
        "sid": statement.get("sid") or "",
    }


# --- the configured statements ---------------------------------------------------------------


def _configured_document(config: Mapping[str, Any], version: str) -> PolicyDocument:
    document = PolicyDocument(version=version, id=config.get("policy_id") or "")
    sids: set[str] = set()
    for block in config.get("statement") or []:
        sid = block.get("sid") or ""
        if sid in sids:
            raise PolicyDocumentError(
                f"writing IAM Policy Document: duplicate Sid ({sid}). "
                "Remove the Sid or ensure the Sid is unique."
            )
        if sid:
            sids.add(sid)
        document.statements.append(_configured_statement(block, sid, version))
    return document


def _configured_statement(block: Mapping[str, Any], sid: str, version: str) -> Statement:
    statement = Statement(sid=sid, effect=block.get("effect") or "Allow")
    statement.action = _string_set(block.get("actions"))
    statement.not_action = _string_set(block.get("not_actions"))
    statement.resource = _with_variables(_string_set(block.get("resources")), version, "resources")
    statement.not_resource = _with_variables(
        _string_set(block.get("not_resources")), version, "not_resources"
    )
    statement.principals = _principals(block.get("principals"), version, "principals")
    statement.not_principals = _principals(block.get("not_principals"), version, "not_principals")
    statement.conditions = _conditions(block.get("condition"), version)
    return statement


def _string_set(values: Sequence[str] | None) -> StringOrList | None:
    """A set of strings as the provider writes it: one -> a string, more -> descending."""
    if not values:
        return None
    unique = sorted(set(values), reverse=True)
    return unique[0] if len(unique) == 1 else unique


def _with_variables(values: StringOrList | None, version: str, attribute: str) -> Any:
    """IAM policy variables: `&{name}` in configuration is `${name}` in the policy."""
    if values is None:
        return None
    try:
        return _replace_variables(values, version)
    except PolicyDocumentError as error:
        raise PolicyDocumentError(f"reading {attribute}: {error}") from None


def _replace_variables(values: StringOrList, version: str) -> StringOrList:
    items = [values] if isinstance(values, str) else values
    for item in items:
        if version == "2008-10-17" and "&{" in item:
            raise PolicyDocumentError(
                f"found &{{ sequence in ({item}), which is not supported in document "
                "version 2008-10-17"
            )
    replaced = [item.replace("&{", "${") for item in items]
    return replaced[0] if isinstance(values, str) else replaced


def _principals(blocks: Sequence[Mapping[str, Any]] | None, version: str, attribute: str) -> list:
    principals = []
    for block in _sdk_set_order(blocks or [], _serialize_principal):
        identifiers = _string_set(block.get("identifiers")) or []
        try:
            identifiers = _replace_variables(identifiers, version)
        except PolicyDocumentError as error:
            raise PolicyDocumentError(
                f"reading {attribute}: reading identifiers: {error}"
            ) from None
        principals.append(Principal(type=block["type"], identifiers=identifiers))
    return principals


def _conditions(blocks: Sequence[Mapping[str, Any]] | None, version: str) -> list[Condition]:
    conditions = []
    for block in _sdk_set_order(blocks or [], _serialize_condition):
        try:
            values = _replace_variables(list(block.get("values") or []), version)
        except PolicyDocumentError as error:
            raise PolicyDocumentError(f"reading condition: reading values: {error}") from None
        flattened = values[0] if len(values) == 1 else values
        conditions.append(Condition(block["test"], block["variable"], flattened))
    return conditions


# --- the SDK's set order -------------------------------------------------------------------


def _sdk_set_order(
    items: Iterable[Mapping[str, Any]], serialize: Callable[[Mapping[str, Any]], str]
) -> list[Mapping[str, Any]]:
    """Elements in terraform-plugin-sdk's schema.Set.List() order.

    The SDK keys each element by the decimal string of crc32(serialisation) and lists the
    keys sorted as strings; the first element with a key wins.
    """
    by_code: dict[str, Mapping[str, Any]] = {}
    for item in items:
        by_code.setdefault(str(zlib.crc32(serialize(item).encode("utf-8"))), item)
    return [by_code[code] for code in sorted(by_code)]


def _serialize_string_set(values: Iterable[str]) -> str:
    ordered = sorted({str(zlib.crc32(f"{v};".encode())): v for v in values}.items())
    return "{" + "".join(f"{value};" for _, value in ordered) + "};"


def _serialize_principal(block: Mapping[str, Any]) -> str:
    identifiers = block.get("identifiers") or []
    return f"identifiers:{_serialize_string_set(identifiers)}type:{block['type']};"


def _serialize_condition(block: Mapping[str, Any]) -> str:
    values = "".join(f"{value};" for value in block.get("values") or [])
    return f"test:{block['test']};values:({values});variable:{block['variable']};"


# --- the JSON value of a document ------------------------------------------------------------


def _document_value(document: PolicyDocument) -> dict[str, Any]:
    value: dict[str, Any] = {}
    if document.version:
        value["Version"] = document.version
    if document.id:
        value["Id"] = document.id
    if document.statements:
        value["Statement"] = [_statement_value(s) for s in document.statements]
    return value


def _statement_value(statement: Statement) -> dict[str, Any]:
    candidates: list[tuple[str, Any]] = [
        ("Sid", statement.sid or None),
        ("Effect", statement.effect or None),
        ("Action", statement.action),
        ("NotAction", statement.not_action),
        ("Resource", statement.resource),
        ("NotResource", statement.not_resource),
        ("Principal", _principals_value(statement.principals)),
        ("NotPrincipal", _principals_value(statement.not_principals)),
        ("Condition", _conditions_value(statement.conditions)),
    ]
    return {key: value for key, value in candidates if value is not None}


def _principals_value(principals: list[Principal]) -> Any:
    if not principals:
        return None
    # Only {"*": "*"} means everyone; {"AWS": "*"} stays (IAM role trust policies need it).
    only = principals[0]
    if len(principals) == 1 and only.type == "*" and only.identifiers in ("*", ["*"]):
        return "*"
    by_type: dict[str, StringOrList] = {}
    for principal in principals:
        identifiers = principal.identifiers
        if isinstance(identifiers, list):
            identifiers = sorted(identifiers, reverse=True)
        existing = by_type.get(principal.type)
        if existing is None:
            by_type[principal.type] = identifiers
        else:
            as_list = [existing] if isinstance(existing, str) else existing
            as_list += [identifiers] if isinstance(identifiers, str) else identifiers
            by_type[principal.type] = as_list
    return dict(sorted(by_type.items()))


def _conditions_value(conditions: list[Condition]) -> Any:
    if not conditions:
        return None
    by_test: dict[str, dict[str, list[str]]] = {}
    for condition in conditions:
        values = by_test.setdefault(condition.test, {}).setdefault(condition.variable, [])
        if isinstance(condition.values, str):
            values.append(condition.values)
        else:
            values.extend(condition.values)
    return {
        test: {name: (v[0] if len(v) == 1 else v) for name, v in sorted(variables.items())}
        for test, variables in sorted(by_test.items())
    }


# --- Go's encoding/json, as the provider uses it ---------------------------------------------

_HTML_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028"}
_HTML_ESCAPES["\u2029"] = "\\u2029"
_HTML_ESCAPE = re.compile("[<>&\u2028\u2029]")


def encode_go_json(value: Any, indent: str | None = None) -> str:
    """`json.Marshal(value)`, or `json.MarshalIndent(value, "", indent)`, as Go writes them."""
    return _encode(value, indent, 0)


def _encode(value: Any, indent: str | None, depth: int) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return _go_string(value)
    if isinstance(value, int | float):
        return _go_number(float(value))
    if isinstance(value, list):
        members = [_encode(item, indent, depth + 1) for item in value]
        return _container("[", members, "]", indent, depth)
    if isinstance(value, dict):
        colon = ": " if indent is not None else ":"
        members = [
            f"{_go_string(key)}{colon}{_encode(item, indent, depth + 1)}"
            for key, item in value.items()
        ]
        return _container("{", members, "}", indent, depth)
    raise TypeError(f"cannot encode {type(value).__name__} as JSON")


def _container(
    opening: str, members: list[str], closing: str, indent: str | None, depth: int
) -> str:
    if not members:
        return opening + closing
    if indent is None:
        return opening + ",".join(members) + closing
    inner = "\n" + indent * (depth + 1)
    return opening + inner + ("," + inner).join(members) + "\n" + indent * depth + closing


def _go_string(text: str) -> str:
    # Python and Go (1.22+) agree on \" \\ \b \f \n \r \t and \u00XX for other controls.
    encoded = json.dumps(text, ensure_ascii=False)
    return _HTML_ESCAPE.sub(lambda match: _HTML_ESCAPES[match.group()], encoded)


def _go_number(number: float) -> str:
    """A float64 as Go's encoding/json writes it (decoded JSON numbers are float64 in Go)."""
    if number == 0:
        return "0" if str(number)[0] != "-" else "-0"
    digits = Decimal(repr(number)).normalize()
    if 1e-6 <= abs(number) < 1e21:
        return format(digits, "f")
    sign, coefficient, exponent = digits.as_tuple()
    assert isinstance(exponent, int)
    mantissa = "".join(map(str, coefficient))
    power = exponent + len(mantissa) - 1
    if len(mantissa) > 1:
        mantissa = mantissa[0] + "." + mantissa[1:]
    sign_text = "-" if sign else ""
    power_text = f"{power:+03d}" if power >= 0 or power <= -10 else f"-{abs(power)}"
    return f"{sign_text}{mantissa}e{power_text}"


# --- source and override documents, decoded as Go decodes them into the provider's structs ---


class _Object:
    """A JSON object's members in document order (Go matches struct fields per member)."""

    def __init__(self, pairs: list[tuple[str, Any]]) -> None:
        self.pairs = pairs

    def as_map(self) -> dict[str, Any]:
        """As a Go map: the last member with a key wins."""
        return dict(self.pairs)


def _decode_document(text: str, context: str) -> PolicyDocument:
    try:
        parsed = _parse_json(text)
        return _document_from_json(parsed)
    except _GoJSONError as error:
        raise PolicyDocumentError(f"writing IAM Policy Document: {context}: {error}") from None


class _GoJSONError(ValueError):
    """What Go's json.Unmarshal (or the provider's UnmarshalJSON) returns."""


def _parse_json(text: str) -> Any:
    problem = _json_syntax_problem(text)
    if problem:
        raise _GoJSONError(problem)
    return json.loads(text, object_pairs_hook=_Object, parse_int=float, parse_float=float)


def _json_syntax_problem(text: str) -> str | None:
    """Go's syntax error for `text`, or None when it is valid JSON (for Go)."""

    def reject_constant(name: str) -> Any:
        raise json.JSONDecodeError("Expecting value", text, text.index(name))

    try:
        json.loads(text, parse_constant=reject_constant)
    except json.JSONDecodeError as error:
        return _go_syntax_message(text, error)
    return None


_GO_CONTEXTS = {
    "Expecting value": "looking for beginning of value",
    "Expecting property name enclosed in double quotes": (
        "looking for beginning of object key string"
    ),
    "Expecting ':' delimiter": "after object key",
    "Extra data": "after top-level value",
    "Invalid control character at": "in string literal",
    "Invalid \\escape": "in string escape code",
}


def _go_syntax_message(text: str, error: json.JSONDecodeError) -> str:
    if not text[error.pos :].strip() or error.msg.startswith("Unterminated string"):
        return "unexpected end of JSON input"
    character = _go_quote_char(text[error.pos])
    context = _GO_CONTEXTS.get(error.msg)
    if error.msg == "Expecting ',' delimiter":
        context = "after object key:value pair" if _innermost(text, error.pos) == "{" else None
        context = context or "after array element"
    return f"invalid character {character} {context or error.msg.lower()}"


def _innermost(text: str, position: int) -> str:
    """The innermost container ('{' or '[') open at `position`."""
    stack: list[str] = []
    in_string = escaped = False
    for character in text[:position]:
        if in_string:
            escaped = not escaped and character == "\\"
            in_string = escaped or character != '"'
        elif character == '"':
            in_string = True
        elif character in "{[":
            stack.append(character)
        elif character in "}]" and stack:
            stack.pop()
    return stack[-1] if stack else ""


_GO_SHORT_ESCAPES = {
    "\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\v": "\\v",
}  # fmt: skip


def _go_quote_char(character: str) -> str:
    """Go's quoteChar: how its JSON syntax errors show the offending byte."""
    if character == "'":
        return "'\\''"
    if character == '"':
        return "'\"'"
    if character.isascii() and character.isprintable():
        return f"'{character}'"
    if character.isascii():
        escaped = _GO_SHORT_ESCAPES.get(character, f"\\x{ord(character):02x}")
        return f"'{escaped}'"
    return f"'\\x{character.encode('utf-8')[0]:02x}'"


_DOCUMENT_FIELDS = ("Version", "Id", "Statement")
_STATEMENT_FIELDS = (
    "Sid", "Effect", "Action", "NotAction", "Resource", "NotResource",
    "Principal", "NotPrincipal", "Condition",
)  # fmt: skip


def _members(value: _Object, fields: Sequence[str]) -> list[tuple[str, Any]]:
    """(field, value) per member that names a struct field, matched as Go matches them."""
    matched = []
    for key, member in value.pairs:
        name = key if key in fields else next((f for f in fields if f.lower() == key.lower()), None)
        if name is not None:
            matched.append((name, member))
    return matched


def _document_from_json(parsed: Any) -> PolicyDocument:
    document = PolicyDocument()
    if parsed is None:
        return document
    if not isinstance(parsed, _Object):
        raise _GoJSONError(
            f"json: cannot unmarshal {_json_kind(parsed)} into Go value of type iam.IAMPolicyDoc"
        )
    for name, member in _members(parsed, _DOCUMENT_FIELDS):
        if name == "Statement":
            document.statements = _statements_from_json(member)
        elif member is not None:
            setattr(document, name.lower(), _string_field(member, "IAMPolicyDoc", name))
    return document


def _statements_from_json(member: Any) -> list[Statement]:
    if member is None:
        return []
    if not isinstance(member, list):
        raise _GoJSONError(
            f"json: cannot unmarshal {_json_kind(member)} into Go struct field "
            "IAMPolicyDoc.Statement of type []*iam.IAMPolicyStatement"
        )
    statements = []
    for index, item in enumerate(member):
        if item is None:
            # Go decodes it into a nil statement, on which the provider's merge panics.
            raise _GoJSONError(f"statement {index} is null")
        if not isinstance(item, _Object):
            raise _GoJSONError(
                f"json: cannot unmarshal {_json_kind(item)} into Go struct field "
                "IAMPolicyDoc.Statement of type iam.IAMPolicyStatement"
            )
        statements.append(_statement_from_json(item))
    return statements


def _statement_from_json(item: _Object) -> Statement:
    statement = Statement()
    for name, member in _members(item, _STATEMENT_FIELDS):
        if name in ("Sid", "Effect"):
            if member is not None:
                value = _string_field(member, "IAMPolicyStatement", f"Statement.{name}")
                setattr(statement, name.lower(), value)
        elif name in ("Principal", "NotPrincipal"):
            principals = _principals_from_json(member)
            if name == "Principal":
                statement.principals = principals
            else:
                statement.not_principals = principals
        elif name == "Condition":
            statement.conditions = _conditions_from_json(member)
        else:
            attribute = re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()
            setattr(statement, attribute, _plain(member))
    return statement


def _string_field(member: Any, struct: str, path: str) -> str:
    if not isinstance(member, str):
        raise _GoJSONError(
            f"json: cannot unmarshal {_json_kind(member)} into Go struct field "
            f"{struct}.{path} of type string"
        )
    return member


def _principals_from_json(member: Any) -> list[Principal]:
    if isinstance(member, str):
        return [Principal("*", ["*"])]
    if not isinstance(member, _Object):
        raise _GoJSONError(
            f"Unsupported data type {_go_type(member)} for IAMPolicyStatementPrincipalSet"
        )
    principals = []
    for principal_type, identifiers in member.as_map().items():
        if isinstance(identifiers, str):
            principals.append(Principal(principal_type, identifiers))
        elif isinstance(identifiers, list):
            for index, identifier in enumerate(identifiers):
                if not isinstance(identifier, str):
                    raise _GoJSONError(
                        f"Unsupported element type {_go_type(identifier)} for "
                        f"IAMPolicyStatementPrincipalSet.Identifiers[{index}] "
                        f'(principal type "{principal_type}"): must be string'
                    )
            principals.append(Principal(principal_type, sorted(identifiers)))
        else:
            raise _GoJSONError(
                f"Unsupported data type {_go_type(identifiers)} for "
                "IAMPolicyStatementPrincipalSet.Identifiers"
            )
    return principals


def _conditions_from_json(member: Any) -> list[Condition]:
    if member is None:
        return []
    if not isinstance(member, _Object):
        raise _GoJSONError(
            f"json: cannot unmarshal {_json_kind(member)} into Go value of type "
            "map[string]map[string]interface {}"
        )
    conditions = []
    for test, variables in member.as_map().items():
        if variables is None:
            continue
        if not isinstance(variables, _Object):
            raise _GoJSONError(
                f"json: cannot unmarshal {_json_kind(variables)} into Go value of type "
                "map[string]interface {}"
            )
        for variable, values in variables.as_map().items():
            condition = _condition_from_json(test, variable, values)
            if condition is not None:
                conditions.append(condition)
    return conditions


def _condition_from_json(test: str, variable: str, values: Any) -> Condition | None:
    if isinstance(values, bool):
        return Condition(test, variable, "true" if values else "false")
    if isinstance(values, str):
        return Condition(test, variable, [values])
    if isinstance(values, list):
        if not all(isinstance(value, str) for value in values):
            raise _GoJSONError(
                f"condition {test} {variable}: only string values are supported in a list"
            )
        return Condition(test, variable, list(values))
    return None  # the provider drops numbers, objects and null


def _plain(value: Any) -> Any:
    """A decoded `any`: objects become Go maps (keys sorted when encoded, last key wins)."""
    if isinstance(value, _Object):
        return {key: _plain(member) for key, member in sorted(value.as_map().items())}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


def _json_kind(value: Any) -> str:
    if isinstance(value, _Object):
        return "object"
    if isinstance(value, list):
        return "array"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, str):
        return "string"
    return "number" if isinstance(value, float) else "null"


def _go_type(value: Any) -> str:
    """Go's %T of a value decoded into `any`."""
    kinds = {"object": "map[string]interface {}", "array": "[]interface {}", "null": "<nil>"}
    kind = _json_kind(value)
    return kinds.get(kind, "float64" if kind == "number" else kind)
