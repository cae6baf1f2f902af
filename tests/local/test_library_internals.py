"""The library internals the local runtime relies on are listed, and still what it assumes."""

from __future__ import annotations

import ast
import inspect
import types
from collections.abc import Iterator
from pathlib import Path

import pytest

from etl_local import library_internals, s3_disk, sfn_limits, state
from etl_local.library_internals import (
    INTERNALS,
    LIBRARIES,
    Internal,
    InternalProblem,
    check,
    listed,
    resolve,
)

LOCAL = Path(library_internals.__file__).parent


@pytest.fixture(autouse=True, scope="module")
def step_functions_executor_without_batch() -> None:
    """moto's ASL executor, imported as the runtime imports it (without moto.batch's models,
    tens of seconds on a loaded machine)."""
    from etl_local.moto_patches import _load_batch_utils_alone

    _load_batch_utils_alone()


@pytest.mark.parametrize("internal", INTERNALS, ids=lambda i: i.name)
def test_internal_is_as_the_runtime_assumes(internal: Internal) -> None:
    try:
        check(internal)
    except InternalProblem as problem:
        pytest.fail(str(problem))


def _used_names(path: Path) -> Iterator[tuple[str, int]]:
    """Dotted names of the libraries a module uses: what it imports from them, the attributes
    it reads from those, and what `<patches>.set_attribute(<imported>, "<name>", ...)` replaces."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    imported: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module.split(".")[0] in LIBRARIES:
                for alias in node.names:
                    imported[alias.asname or alias.name] = f"{node.module}.{alias.name}"
                    yield f"{node.module}.{alias.name}", node.lineno
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] in LIBRARIES:
                    local = alias.asname or alias.name.split(".")[0]
                    imported[local] = alias.name if alias.asname else local
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            chain, base = [], node
            while isinstance(base, ast.Attribute):
                chain.append(base.attr)
                base = base.value
            if isinstance(base, ast.Name) and base.id in imported:
                yield ".".join([imported[base.id], *reversed(chain)]), node.lineno
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "set_attribute"
            and len(node.args) >= 2
            and isinstance(node.args[0], ast.Name)
            and node.args[0].id in imported
            and isinstance(node.args[1], ast.Constant)
        ):
            yield f"{imported[node.args[0].id]}.{node.args[1].value}", node.lineno


def _is_module_or_data_method(name: str) -> bool:
    try:
        target = resolve(name)
    except (ImportError, AttributeError):
        return False
    return isinstance(target, types.ModuleType | types.BuiltinMethodType)


def test_every_library_name_the_runtime_uses_is_listed() -> None:
    unlisted = sorted(
        f"{path.relative_to(LOCAL)}:{line}: {name}"
        for path in LOCAL.rglob("*.py")
        if path.name != "library_internals.py"
        for name, line in _used_names(path)
        if not listed(name) and not _is_module_or_data_method(name)
    )
    assert not unlisted, "add to etl_local.library_internals (or PUBLIC):\n" + "\n".join(unlisted)


def test_methods_replaced_by_name_are_listed() -> None:
    """Replacements named in tuples (not visible to the scan above)."""
    named = [
        *(f"moto.glue.models.GlueBackend.{n}" for n in state._TABLE_CHANGES),
        *(f"moto.glue.models.GlueBackend.{n}" for n in state._DATABASE_CHANGES),
        *(f"moto.s3.models.S3Backend.{n}" for n in s3_disk._REPLACED),
        *(f"{module}.is_within_size_quota" for module in sfn_limits._QUOTA_USERS),
    ]
    names = {i.name for i in INTERNALS}
    assert [n for n in named if n not in names] == []


def test_a_changed_signature_names_the_symbol_and_the_version() -> None:
    changed = Internal(
        "moto.core.request.determine_request_protocol", "a test", params="service_model, body"
    )
    with pytest.raises(InternalProblem) as raised:
        check(changed)
    message = str(raised.value)
    assert message.startswith(f"moto {library_internals.installed_version('moto')}: ")
    assert "determine_request_protocol(service_model, request)" in message
    assert "expects (service_model, body)" in message


def test_a_missing_symbol_or_member_is_named() -> None:
    with pytest.raises(InternalProblem, match=r"moto\.s3\.models\.NoSuchThing is gone"):
        check(Internal("moto.s3.models.NoSuchThing", "a test"))
    with pytest.raises(InternalProblem, match="no longer sets _no_such_member"):
        check(Internal("moto.s3.models.FakeKey", "a test", members=("_no_such_member",)))


def test_every_entry_says_what_it_is_used_for() -> None:
    assert all(i.used_for.strip() for i in INTERNALS)
    assert len({i.name for i in INTERNALS}) == len(INTERNALS)
    functions = [
        i.name for i in INTERNALS if i.params is None and inspect.isfunction(resolve(i.name))
    ]
    assert functions == [], "functions without the parameters they are called with"
