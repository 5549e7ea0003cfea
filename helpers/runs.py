"""One run of the lab: start it (01), resume it in the later notebooks, show errors readably.

A run is the id every resource name carries (see :mod:`helpers.names`) plus the few settings
recorded in the state file (:mod:`helpers.state`). Nothing here calls an AWS API the lab
teaches: the notebooks make those calls themselves with the session's boto3 clients.
"""

from __future__ import annotations

from helpers import state
from helpers.errors import StateMissing, kit_step, show_readably
from helpers.session import KitSession, connect


@kit_step
def start(
    region: str | None = None, bucket: str | None = None, role_arn: str | None = None
) -> KitSession:
    """Connect to AWS and start a run, or continue the run recorded for these settings.

    In a notebook, the kit's errors (and AWS's, explained) are shown from here on as what
    happened and what to do.
    """
    readable_errors()
    recorded = state.load().get("session", {})
    same = (
        recorded
        and not recorded.get("cleaned_up")
        and all(
            asked in (None, recorded.get(key))
            for key, asked in (("region", region), ("bucket", bucket), ("role_arn", role_arn))
        )
    )
    if not same:
        state.forget()
    session = connect(region, bucket, role_arn, recorded["run_id"] if same else None)
    state.record(
        "session",
        {
            "region": session.region,
            "bucket": session.bucket,
            "role_arn": session.role_arn,
            "run_id": session.run_id,
        },
    )
    return session


@kit_step
def resume(*, cleaning_up: bool = False) -> KitSession:
    """The session of the run that ``01_setup`` started (for the later notebooks).

    A run that was cleaned up cannot be resumed, except by the clean-up notebook itself
    (``cleaning_up=True``), so that running clean up twice is safe.
    """
    readable_errors()
    rec = state.require("session")
    if rec.get("cleaned_up") and not cleaning_up:
        raise StateMissing(
            f"Run {rec['run_id']} was cleaned up", "run 01_setup.ipynb to start a new run"
        )
    return connect(
        rec["region"], rec["bucket"], rec["role_arn"], rec["run_id"], create_bucket=False
    )


def readable_errors() -> None:
    """In a notebook, show the kit's errors and AWS's refusals as what happened and what to do.

    A cell calls boto3 itself, so a ``ClientError`` reaches the notebook unexplained; it is
    shown through :func:`helpers.errors.explain` (:func:`helpers.errors.show_readably`).
    """
    show_readably()
