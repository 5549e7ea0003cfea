"""The one lock guarding the stand-in's state.

The server answers requests on several threads. Every change to the state the stand-in keeps
on moto's backends happens under this re-entrant lock; a single lock (rather than one per
service) rules out lock-order deadlocks between, say, DescribeHumanLoop (A2I runtime, which
reads the work team) and DeleteFlowDefinition (SageMaker, which reads the human loops).
"""

from __future__ import annotations

import threading

STATE_LOCK = threading.RLock()
