"""Peak resident memory of a process and all its descendants (Linux /proc), sampled."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from types import TracebackType

_PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


def _children_by_parent(proc: Path) -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # the process ended while we looked
        # The command name may contain spaces and parentheses: fields start after the last ')'.
        fields = stat[stat.rfind(")") + 2 :].split()
        children.setdefault(int(fields[1]), []).append(int(entry.name))
    return children


def tree_rss_bytes(root_pid: int, proc: Path = Path("/proc")) -> int:
    """Sum of the resident set sizes of root_pid and its descendants now."""
    children = _children_by_parent(proc)
    total, stack = 0, [root_pid]
    while stack:
        pid = stack.pop()
        try:
            resident_pages = int((proc / str(pid) / "statm").read_text().split()[1])
        except (OSError, IndexError, ValueError):
            continue
        total += resident_pages * _PAGE_SIZE
        stack.extend(children.get(pid, ()))
    return total


class PeakTreeRss:
    """Samples tree_rss_bytes in a background thread; `peak_bytes` is the maximum seen."""

    def __init__(self, root_pid: int | None = None, interval_seconds: float = 0.2) -> None:
        self.root_pid = root_pid or os.getpid()
        self.interval_seconds = interval_seconds
        self.peak_bytes = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, name="peak-rss", daemon=True)

    def _sample(self) -> None:
        while True:
            self.peak_bytes = max(self.peak_bytes, tree_rss_bytes(self.root_pid))
            if self._stop.wait(self.interval_seconds):
                return

    def __enter__(self) -> PeakTreeRss:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join()
        self.peak_bytes = max(self.peak_bytes, tree_rss_bytes(self.root_pid))
