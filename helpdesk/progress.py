"""Progress of long management commands: a tqdm bar with a rate and an ETA on a terminal,
plain lines (no carriage returns) in a log file or a pipe, nothing with ``--quiet``."""

from __future__ import annotations

from collections.abc import Iterable
from typing import IO, Any

from tqdm import tqdm

#: Seconds between two lines when the output is not a terminal.
LINE_INTERVAL = 5.0


class _Lines:
    """The stream tqdm is given in line mode: it swallows tqdm's own writes (carriage
    returns, the closing newline), so that only ``_LineProgress.display`` writes."""

    def __init__(self, stream: Any) -> None:
        self.stream = stream

    def write(self, text: str) -> None:
        pass

    def flush(self) -> None:
        self.stream.flush()


class _LineProgress(tqdm):
    """tqdm that writes whole lines: one every ``LINE_INTERVAL`` seconds, and a last one."""

    _last_n: float = 0

    def display(self, msg: str | None = None, pos: int | None = None) -> bool:
        if msg or self.n != self._last_n:  # not the empty start, no line twice for one count
            self._last_n = self.n
            self.fp.stream.write((msg or str(self)).strip() + "\n")
            self.fp.stream.flush()
        return True


def _is_terminal(stream: Any) -> bool:
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except ValueError:  # a closed stream
        return False


def progress(
    iterable: Iterable[Any] | None = None,
    *,
    total: float | None = None,
    desc: str,
    unit: str = "it",
    stream: IO[str] | Any,
    quiet: bool = False,
    unit_scale: bool = False,
) -> tqdm:
    """A progress bar on ``stream`` (a command's ``self.stderr`` or a file).

    Use it as tqdm: iterate over it, or call ``update(n)``; close it (or use ``with``).
    """
    stream = getattr(stream, "_out", stream)  # a Django OutputWrapper: its real stream
    terminal = _is_terminal(stream)
    cls = tqdm if terminal else _LineProgress
    return cls(
        iterable,
        total=total,
        desc=desc,
        unit=unit,
        unit_scale=unit_scale,
        file=stream if terminal else _Lines(stream),
        disable=quiet,
        mininterval=0.1 if terminal else LINE_INTERVAL,
        dynamic_ncols=terminal,
        ascii=not terminal,
        leave=True,
    )
