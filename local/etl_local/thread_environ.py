"""Environment variables per thread: an in-process Lambda function reads its own variables,
whatever other functions running at the same moment read.

On AWS each function runs in a sandbox of its own, with the variables its configuration
sets. Here functions run in threads of the CLI's process (a Map state invokes several at
once), and os.environ is one mapping for all of them: setting a function's variables in it
sets them for every thread, so invocations had to run one at a time, and the emulator's
threads read whichever function's credentials were set at that moment.

So os.environ's class is replaced, while installed, by one that looks at the reading
thread: a thread inside `overlaid()` reads the process environment with its overlay on top
(the function's variables set, the variables it must not see removed), and its writes stay
in the overlay; any other thread reads and writes the process environment. Reads of the
whole environment (copy, items) take a snapshot under a lock, so a key another thread
removes between listing and reading cannot fail them (botocore copies os.environ in
Step Functions' executor threads; urllib's proxy lookup iterates its items).

Only Python's view is per thread: the C environment (getenv in an extension, a child
process started without `env`) is the process's. The functions neither start processes nor
read variables outside Python.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterable, Iterator, Mapping

__all__ = ["install", "overlaid", "uninstall"]

_LOCK = threading.RLock()
_LOCAL = threading.local()
_installed = 0

# An overlay: a variable's value, or None where the variable is removed.
Overlay = dict[str, str | None]


def _overlay() -> Overlay | None:
    stack: list[Overlay] | None = getattr(_LOCAL, "stack", None)
    return stack[-1] if stack else None


class _ThreadEnviron(os._Environ):
    """os.environ as the current thread sees it (see the module's docstring)."""

    def __getitem__(self, key: str) -> str:
        overlay = _overlay()
        if overlay is not None and key in overlay:
            value = overlay[key]
            if value is None:
                raise KeyError(key)
            return value
        return super().__getitem__(key)

    def __setitem__(self, key: str, value: str) -> None:
        overlay = _overlay()
        if overlay is None:
            with _LOCK:
                super().__setitem__(key, value)
            return
        if not isinstance(key, str) or not isinstance(value, str):
            raise TypeError(f"str expected, not {type(key).__name__}, {type(value).__name__}")
        overlay[key] = value

    def __delitem__(self, key: str) -> None:
        overlay = _overlay()
        if overlay is None:
            with _LOCK:
                super().__delitem__(key)
            return
        if key not in self:
            raise KeyError(key)
        overlay[key] = None

    def _snapshot(self) -> dict[str, str]:
        # Changes through os.environ take the same lock: the listing and the reads agree.
        with _LOCK:
            variables = {
                key: os._Environ.__getitem__(self, key) for key in os._Environ.__iter__(self)
            }
        for key, value in (_overlay() or {}).items():
            if value is None:
                variables.pop(key, None)
            else:
                variables[key] = value
        return variables

    def __iter__(self) -> Iterator[str]:
        return iter(self._snapshot())

    def __len__(self) -> int:
        return len(self._snapshot())

    def copy(self) -> dict[str, str]:
        return self._snapshot()

    def items(self) -> list[tuple[str, str]]:  # type: ignore[override]
        return list(self._snapshot().items())

    def values(self) -> list[str]:  # type: ignore[override]
        return list(self._snapshot().values())


def install() -> None:
    """Make os.environ thread-aware (counted: each install wants one uninstall)."""
    global _installed
    with _LOCK:
        _installed += 1
        os.environ.__class__ = _ThreadEnviron


def uninstall() -> None:
    global _installed
    with _LOCK:
        _installed = max(0, _installed - 1)
        if not _installed:
            os.environ.__class__ = os._Environ


@contextlib.contextmanager
def overlaid(variables: Mapping[str, str], removed: Iterable[str] = ()) -> Iterator[None]:
    """Inside this block, this thread reads `variables` set and `removed` absent."""
    overlay: Overlay = {**(_overlay() or {}), **dict.fromkeys(removed), **variables}
    stack: list[Overlay] | None = getattr(_LOCAL, "stack", None)
    if stack is None:
        stack = _LOCAL.stack = []
    stack.append(overlay)
    try:
        yield
    finally:
        stack.pop()
