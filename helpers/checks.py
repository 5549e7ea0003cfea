"""Checks of what a person gives the kit, made before any AWS call and before anything is created.

Each check returns the value it was given (so it can wrap an argument in place) or raises an
:class:`~helpers.errors.InputError` that names the value and the fix. They are plain functions,
callable on their own from a notebook or from any helper:

- :func:`number`: a number where one is expected. **Numbers given as text are refused**, not
  converted (``min_confidence="50"``, ``task_count="2"``, ``gap_ms="1500"``): AWS refuses them
  too, and a value that is text in a parameters cell is more often a slip (a quoted value, a
  value read from a file) than a wish. Booleans, NaN and infinities are refused as well.
- :func:`duration_ms`: a length of time in milliseconds, never negative.
- :func:`loop_input`: a human loop's input document: strict JSON (no NaN, no Infinity, anywhere)
  and no negative time in it. Returns the ``InputContent`` text.
- :func:`notification_channel`: Rekognition's ``NotificationChannel``: a topic of Rekognition's
  own region, and role ARNs in the form IAM writes.
"""

from __future__ import annotations

import json
import math
import numbers
import re
from collections.abc import Mapping
from typing import Any

from helpers.errors import InputError

_TOPIC_ARN = re.compile(
    r"^arn:(?P<partition>[\w-]+):sns:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):(?P<name>[\w-]{1,256})$"
)
_ROLE_ARN = re.compile(r"^arn:[\w-]+:iam::\d{12}:role/[\w+=,.@/-]+$")
#: Keys of a loop's input that hold times or lengths of time (milliseconds): never negative.
TIME_KEYS = ("start_ms", "end_ms", "duration_ms", "gap_ms", "peak_ms")
#: Keys that hold counts: never negative.
COUNT_KEYS = ("detections", "index", "count")


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def number(
    value: Any,
    name: str,
    *,
    low: float | None = None,
    high: float | None = None,
    integer: bool = False,
) -> Any:
    """``value`` if it is a finite number (an integer with ``integer``) in [low, high]; else raise.

    Text is refused with the fix "write 50, not "50"" (see the module's doc for why). numpy
    numbers are accepted. The error names ``name`` as the person wrote it.
    """
    if isinstance(value, str):
        shown = value.strip()
        looks = re.fullmatch(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?", shown) is not None
        raise InputError(
            f"`{name}` is the text {value!r}, not a number",
            f"write {shown} without quotes" if looks else f"give `{name}` a number",
        )
    if not _is_number(value):
        raise InputError(
            f"`{name}` is {value!r} ({type(value).__name__}), not a number",
            f"give `{name}` a number",
        )
    if not math.isfinite(float(value)):
        raise InputError(
            f"`{name}` is {value}, which is not a finite number",
            f"give `{name}` a finite number",
        )
    if integer and float(value) != int(value):
        raise InputError(f"`{name}` is {value}, not a whole number", f"give `{name}` an integer")
    if (low is not None and value < low) or (high is not None and value > high):
        span = (
            f"from {low:g} to {high:g}"
            if low is not None and high is not None
            else (f"at least {low:g}" if low is not None else f"at most {high:g}")
        )
        raise InputError(f"`{name}` is {value}, out of range", f"use a value {span}")
    return int(value) if integer else value


def duration_ms(value: Any, name: str = "duration_ms") -> int:
    """A length of time in milliseconds: a whole, finite number, not negative."""
    return number(value, name, low=0, integer=True)


def _walk(value: Any, path: str) -> None:
    if isinstance(value, float) and not math.isfinite(value):
        raise InputError(
            f"The loop's input has {value} at `{path}`; JSON has no NaN or Infinity, and A2I "
            "refuses InputContent that is not strict JSON",
            "find where that number came from (a missing confidence or time) and give a finite "
            "number, or leave the item out",
        )
    if isinstance(value, Mapping):
        for key, item in value.items():
            where = f"{path}.{key}" if path else str(key)
            _walk(item, where)
            if key in TIME_KEYS and _is_number(item) and item < 0:
                raise InputError(
                    f"The loop's input has a negative time at `{where}` ({item})",
                    "times and durations are milliseconds from the start of the video, 0 or more",
                )
            if key == "confidence" and _is_number(item) and not 0 <= item <= 100:
                raise InputError(
                    f"The loop's input has confidence {item} at `{where}`",
                    "confidences are percentages from 0 to 100, as Rekognition gives them",
                )
            if key in COUNT_KEYS and _is_number(item) and item < 0:
                raise InputError(
                    f"The loop's input has a negative count at `{where}` ({item})",
                    "counts are 0 or more",
                )
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            _walk(item, f"{path}[{index}]")


def loop_input(doc: Any) -> str:
    """The ``InputContent`` text of a human loop's input, checked; raise on NaN, Infinity or
    a negative time anywhere in it.

    ``doc`` is the input document (a dict) or its JSON text. Python's ``json`` writes NaN and
    Infinity, which are not JSON: A2I refuses them, and the reviewer page could not read them.
    """
    if isinstance(doc, str | bytes):
        try:
            doc = json.loads(doc, parse_constant=_refuse_constant)
        except ValueError as err:
            raise InputError(
                f"The loop's input is not strict JSON ({err})",
                "build it with review.build_loop_input from finite numbers",
            ) from None
    if not isinstance(doc, Mapping):
        raise InputError(
            f"A loop's input is a JSON object, not {type(doc).__name__}",
            "build it with review.build_loop_input",
        )
    _walk(doc, "")
    start, end = (doc.get("window") or {}).get("start_ms"), (doc.get("window") or {}).get("end_ms")
    if _is_number(start) and _is_number(end) and end < start:
        raise InputError(
            f"The loop's window ends ({end} ms) before it starts ({start} ms)",
            "give a window whose end_ms is at least its start_ms",
        )
    for index, item in enumerate(doc.get("items") or []):
        if isinstance(item, Mapping):
            s, e = item.get("start_ms"), item.get("end_ms")
            if _is_number(s) and _is_number(e) and e < s:
                raise InputError(
                    f"Item {index} of the loop's input ends ({e} ms) before it starts ({s} ms)",
                    "each item's end_ms must be at least its start_ms",
                )
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def notification_channel(channel: Mapping[str, Any] | None, region: str) -> Any:
    """Check StartContentModeration's ``NotificationChannel`` for a client of ``region``.

    Rekognition publishes only to a topic of its own region: a topic made by an SNS client of
    another region would never receive the job's notice, and the wait would time out.
    """
    if channel is None:
        return None
    if not isinstance(channel, Mapping) or set(channel) != {"SNSTopicArn", "RoleArn"}:
        raise InputError(
            "A NotificationChannel has exactly the keys SNSTopicArn and RoleArn",
            "pass notify.create_notices(...).channel()",
        )
    topic = _TOPIC_ARN.match(str(channel["SNSTopicArn"]))
    if not topic:
        raise InputError(
            f"`{channel['SNSTopicArn']}` is not an SNS topic ARN",
            "pass the TopicArn that sns.create_topic returned",
        )
    if topic["region"] != region:
        raise InputError(
            f"The notice topic `{topic['name']}` is in {topic['region']}, but Rekognition runs "
            f"in {region}; Rekognition publishes only to topics of its own region",
            f"make the topic with an SNS client of {region} (session.client('sns')), or wait "
            "by polling (no notification_channel)",
        )
    if not _ROLE_ARN.match(str(channel["RoleArn"])):
        raise InputError(
            f"`{channel['RoleArn']}` is not an IAM role ARN",
            "give the ARN of a role that trusts rekognition.amazonaws.com "
            "(templates/iam/rekognition-notice-role-trust.json)",
        )
    return channel
