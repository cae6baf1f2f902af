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


def tree_rss_by_process(root_pid: int, proc: Path = Path("/proc")) -> dict[int, tuple[str, int]]:
    """pid -> (command name, resident bytes) for root_pid and its descendants now."""
    children = _children_by_parent(proc)
    sizes: dict[int, tuple[str, int]] = {}
    stack = [root_pid]
    while stack:
        pid = stack.pop()
        try:
            resident_pages = int((proc / str(pid) / "statm").read_text().split()[1])
            name = (proc / str(pid) / "comm").read_text().strip()
        except (OSError, IndexError, ValueError):
            continue
        sizes[pid] = (name, resident_pages * _PAGE_SIZE)
        stack.extend(children.get(pid, ()))
    return sizes


def tree_rss_bytes(root_pid: int, proc: Path = Path("/proc")) -> int:
    """Sum of the resident set sizes of root_pid and its descendants now."""
    return sum(size for _, size in tree_rss_by_process(root_pid, proc).values())


class PeakTreeRss:
    """Samples the tree's memory in a background thread.

    `peak_bytes` is the largest sum seen; `peak_by_process` each process's own peak
    (pid -> (command name, bytes)), to tell which one makes the peak.
    """

    def __init__(self, root_pid: int | None = None, interval_seconds: float = 0.2) -> None:
        self.root_pid = root_pid or os.getpid()
        self.interval_seconds = interval_seconds
        self.peak_bytes = 0
        self.peak_by_process: dict[int, tuple[str, int]] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, name="peak-rss", daemon=True)

    def _sample(self) -> None:
        while True:
            self._record()
            if self._stop.wait(self.interval_seconds):
                return

    def _record(self) -> None:
        sizes = tree_rss_by_process(self.root_pid)
        self.peak_bytes = max(self.peak_bytes, sum(size for _, size in sizes.values()))
        for pid, (name, size) in sizes.items():
            if size > self.peak_by_process.get(pid, ("", 0))[1]:
                self.peak_by_process[pid] = (name, size)

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
        self._record()
