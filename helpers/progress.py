"""A progress line while the kit waits: a bar in notebooks, nothing in plain logs.

In a Jupyter kernel the indicator is one output that updates in place: the phase (the latest
status) and the time waited, with an HTML ``<progress>`` bar that moves while the wait lasts (a
wait has no known end, so the bar shows no fraction), and a plain-text twin, so executed
notebooks keep a readable final state. Anywhere else (scripts, CI, tests) it writes nothing:
waiting is logged at INFO by :mod:`helpers.waiting`.
"""

from __future__ import annotations

import html
from typing import Any


def in_notebook() -> bool:
    """True inside a Jupyter kernel (where display updates reach a front end or a saved file)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


class Progress:
    """Shows ``what`` is awaited, its latest status (the phase), the time waited and the checks.

    Use it as ``on_poll`` of :func:`helpers.waiting.wait_until`: it is called with the latest
    answer and the seconds elapsed. ``status`` turns an answer into a short word.
    """

    def __init__(self, what: str, timeout: float, status: Any = None) -> None:
        self.what = what
        self.timeout = timeout
        self.status = status or (lambda answer: "")
        self.checks = 0
        self._handle = None
        if in_notebook():
            from IPython.display import display

            self._handle = display(self._bundle("starting", 0.0), raw=True, display_id=True)

    def __call__(self, answer: Any, elapsed: float) -> None:
        self.checks += 1
        if self._handle is not None:
            self._handle.update(self._bundle(str(self.status(answer)), elapsed), raw=True)

    def _bundle(self, status: str, elapsed: float) -> dict[str, str]:
        text = status_line(self.what, status, elapsed, self.checks)
        waiting = status.upper() not in FINAL
        bar = '<progress style="width: 8em"></progress> ' if waiting else ""
        return {"text/plain": text, "text/html": f"{bar}<span>{html.escape(text)}</span>"}


#: Statuses after which nothing changes any more (the bar stops moving).
FINAL = {"SUCCEEDED", "FAILED", "ACTIVE", "COMPLETED", "STOPPED", "EXPIRED", "ENDED"}


def elapsed_text(seconds: float) -> str:
    """``7 s``, ``2 min 05 s`` or ``1 h 02 min``: how long the kit has waited."""
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


def status_line(what: str, status: str, elapsed: float, checks: int) -> str:
    """One line for a person: what is awaited, its phase, the time waited, how many checks."""
    what = what.replace("`", "")
    plural = "check" if checks == 1 else "checks"
    return f"{what}: {status or 'starting'}, {elapsed_text(elapsed)} waited ({checks} {plural})"
