"""A progress line while the kit waits: a bar in notebooks, nothing in plain logs.

In a Jupyter kernel the indicator is one output that updates in place (an HTML ``<progress>``
bar with a plain-text twin, so executed notebooks keep a readable final state). Anywhere else
(scripts, CI, tests) it writes nothing: waiting is logged at INFO by :mod:`helpers.waiting`.
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
    """Shows ``what`` is awaited, for how long, how many checks, and the latest status.

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
        text = f"{self.what}: {status or '…'} after {elapsed:.0f} s ({self.checks} checks)"
        fraction = min(1.0, elapsed / self.timeout) if self.timeout else 0.0
        bar = (
            f'<progress value="{fraction:.3f}" max="1" style="width: 16em"></progress> '
            f"<code>{html.escape(text)}</code>"
        )
        return {"text/plain": text, "text/html": bar}
