"""Standard output per thread: what an in-process Lambda function prints goes to its own
invocation's log, whatever other threads print meanwhile.

On AWS, a function's stdout and stderr go to its CloudWatch log stream. Here the functions
run in threads of the CLI's process (a Map state invokes several at once) next to the
console that draws the execution, and sys.stdout is one object for all of them: swapping
it per call (contextlib.redirect_stdout) swaps it for every thread, so the console's lines
land in a function's log, or in a log file that another thread has just closed.

So sys.stdout and sys.stderr are replaced once, while a router is installed, by streams
that look at the writing thread: a thread inside `captured()` writes into its capture,
any other thread into the stream that was replaced. Nothing is swapped per call.

A logging handler keeps the stream it was created with. Powertools' Logger creates its
StreamHandler with `sys.stdout` once per logger name, at the first `Logger(service=...)`
(a handler module's import), and every later Logger of that name reuses it; `adopt_handlers`
hands handlers that hold the real stdout or stderr the routing stream, so their lines
follow the thread too.
"""

from __future__ import annotations

import contextlib
import logging
import sys
import threading
from collections.abc import Iterator
from typing import Any, TextIO

__all__ = ["adopt_handlers", "captured", "install", "uninstall"]


class _ThreadRoutedStream:
    """Stands for sys.<name>: writes go to the writing thread's capture, if any."""

    def __init__(self, name: str) -> None:
        self._name = name
        self._replaced: TextIO | None = None
        self._local = threading.local()

    # -- where a write goes --------------------------------------------------------------
    def default(self) -> TextIO:
        """The stream for threads without a capture: the one this replaced while installed,
        else whatever sys.<name> is now (a handler may hold this object after uninstall)."""
        current: TextIO = getattr(sys, self._name)
        if current is self:
            return self._replaced or getattr(sys, f"__{self._name}__")
        return current

    def _captures(self) -> list[TextIO]:
        stack: list[TextIO] | None = getattr(self._local, "stack", None)
        if stack is None:
            stack = self._local.stack = []
        return stack

    def _target(self) -> TextIO:
        captures = self._captures()
        return captures[-1] if captures else self.default()

    # -- the file interface print(), logging and rich use ------------------------------
    def write(self, text: str) -> int:
        return self._target().write(text)

    def writelines(self, lines: Any) -> None:
        target = self._target()
        for line in lines:
            target.write(line)

    def flush(self) -> None:
        self._target().flush()

    def isatty(self) -> bool:
        # Asked by the console (is it a terminal?), never by a function: the real stream.
        return bool(self.default().isatty())

    def fileno(self) -> int:
        return self.default().fileno()

    def __getattr__(self, name: str) -> Any:
        # encoding, errors, buffer...: those of the stream this stands for.
        return getattr(self.default(), name)

    # -- installation -------------------------------------------------------------------
    def install(self) -> None:
        current = getattr(sys, self._name)
        if current is not self:
            self._replaced = current
            setattr(sys, self._name, self)

    def uninstall(self) -> None:
        if getattr(sys, self._name) is self:
            setattr(sys, self._name, self._replaced)
        self._replaced = None

    def replaces(self, stream: object) -> bool:
        """Whether `stream` is a real stream this one stands for."""
        return stream is not None and stream in (
            self._replaced,
            getattr(sys, f"__{self._name}__"),
        )


# Process-wide, never recreated: a handler that took one of these keeps a valid stream.
_STDOUT = _ThreadRoutedStream("stdout")
_STDERR = _ThreadRoutedStream("stderr")
_INSTALLED = 0
_INSTALL_LOCK = threading.Lock()


def install() -> None:
    """Route sys.stdout and sys.stderr by thread (counted: uninstall as often as install)."""
    global _INSTALLED
    with _INSTALL_LOCK:
        _INSTALLED += 1
        if _INSTALLED == 1:
            _STDOUT.install()
            _STDERR.install()
            _adopt_handlers()


def uninstall() -> None:
    global _INSTALLED
    with _INSTALL_LOCK:
        if _INSTALLED == 0:
            return
        _INSTALLED -= 1
        if _INSTALLED == 0:
            # Adopted handlers keep the routing streams: with no capture on their thread,
            # they write to whatever sys.stdout / sys.stderr is then.
            _STDOUT.uninstall()
            _STDERR.uninstall()


@contextlib.contextmanager
def captured(sink: TextIO) -> Iterator[None]:
    """While inside, this thread's stdout and stderr writes go to `sink` (nestable)."""
    pushed = []
    try:
        for stream in (_STDOUT, _STDERR):
            stream._captures().append(sink)
            pushed.append(stream)
        yield
    finally:
        for stream in pushed:
            stream._captures().pop()


def _stream_handlers() -> Iterator[logging.StreamHandler[Any]]:
    loggers: list[Any] = [logging.getLogger(), *logging.Logger.manager.loggerDict.values()]
    for logger in loggers:
        for handler in getattr(logger, "handlers", ()):
            if isinstance(handler, logging.StreamHandler) and not isinstance(
                handler, logging.FileHandler
            ):
                yield handler


def adopt_handlers() -> None:
    """Point logging handlers that write to the real stdout/stderr at the routing streams.

    Call after importing code that may have created handlers before `install()` (a
    function module's cold start); for threads without a capture nothing changes.
    """
    with _INSTALL_LOCK:
        if _INSTALLED:
            _adopt_handlers()


def _adopt_handlers() -> None:
    for handler in _stream_handlers():
        for routed in (_STDOUT, _STDERR):
            if routed.replaces(handler.stream):
                handler.setStream(routed)
                break
