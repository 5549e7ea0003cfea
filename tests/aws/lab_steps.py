"""The lab's steps 01-04 through helpers.lab, as the notebooks call them (shared by AWS tests)."""

from __future__ import annotations

from pathlib import Path

from helpers import lab
from helpers.rules import RuleSet

SAMPLE = Path(__file__).resolve().parents[2] / "datasets" / "media" / "moderation-sample.mp4"


def until_items(session, rules: str = "lab-v7"):
    """Upload, moderate, set up review and apply ``rules``: (rule set, flagged, review items)."""
    lab.upload(session, SAMPLE, "sample")
    lab.moderate(session)
    lab.wait_for_job(session)
    lab.choose_workteam(session)
    lab.create_task_ui(session)
    lab.allow_portal(session)
    lab.create_flow_definition(session)
    rule_set = RuleSet.load(rules)
    flagged, items = lab.review_items(session, rule_set)
    return rule_set, flagged, items
