"""Business rules: which moderation labels go to a human, as data.

A rule set names categories at any level of the v7 taxonomy, each with a minimum confidence, and
exclusions. A rule on a category matches the category and everything below it, so ``Alcohol``
catches ``Drinking`` rows; when several rules match a label, the most specific one decides.
Rules written with v6-era names (the lab's ``Barechested Male``) are mapped to v7 with a warning.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from helpers import taxonomy
from helpers.errors import InputError

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
PRESETS = TEMPLATES / "rules"

#: v6.1 label names the kit's users may still write, and their v7 successors (the kit's reading
#: of AWS's v6.1 → v7 mapping; the nearest v7 label where there is no one-to-one successor).
V6_TO_V7: Mapping[str, str] = {
    "Barechested Male": "Exposed Male Nipple",
    "Female Swimwear Or Underwear": "Female Swimwear or Underwear",
    "Male Swimwear Or Underwear": "Male Swimwear or Underwear",
    "Revealing Clothes": "Swimwear or Underwear",
    "Suggestive": "Non-Explicit Nudity of Intimate parts and Kissing",
    "Partial Nudity": "Non-Explicit Nudity",
    "Nudity": "Explicit Nudity",
    "Graphic Male Nudity": "Exposed Male Genitalia",
    "Graphic Female Nudity": "Exposed Female Genitalia",
    "Sexual Activity": "Explicit Sexual Activity",
    "Adult Toys": "Sex Toys",
    "Graphic Violence Or Gore": "Graphic Violence",
    "Self Injury": "Self-Harm",
    "Explosions And Blasts": "Explosions and Blasts",
    "Drugs": "Drugs & Tobacco",
    "Tobacco": "Drugs & Tobacco",
    "Drug Products": "Products",
    "Drug Use": "Drugs & Tobacco Paraphernalia & Use",
    "Drug Paraphernalia": "Drugs & Tobacco Paraphernalia & Use",
    "Tobacco Products": "Products",
}


@dataclass(frozen=True)
class RuleSet:
    """Categories (name → minimum confidence) and exclusions, all v7 names."""

    name: str
    categories: Mapping[str, float]
    exclusions: tuple[str, ...] = ()
    description: str = ""
    renamed: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        bad = taxonomy.unknown([*self.categories, *self.exclusions])
        if bad:
            raise InputError(taxonomy.unknown_message(bad), "fix the rule set's category names")
        for cat, conf in self.categories.items():
            if not 0 <= float(conf) <= 100:
                raise InputError(
                    f"Rule `{cat}` has minimum confidence {conf}", "use a value from 0 to 100"
                )

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RuleSet:
        """Build a rule set from its JSON form, mapping v6 names to v7 with a warning."""
        renamed: dict[str, str] = {}

        def v7(name: str) -> str:
            if name in V6_TO_V7 and not taxonomy.is_known(name):
                renamed[name] = V6_TO_V7[name]
                return V6_TO_V7[name]
            return name

        categories = {v7(k): float(v) for k, v in dict(data.get("categories", {})).items()}
        exclusions = tuple(v7(x) for x in data.get("exclusions", ()))
        if renamed:
            pairs = ", ".join(f"{a!r} → {b!r}" for a, b in renamed.items())
            warnings.warn(
                f"Rule set uses taxonomy v6 names, mapped to v7: {pairs}", UserWarning, stacklevel=3
            )
        return cls(
            name=str(data.get("name", "rules")),
            categories=categories,
            exclusions=exclusions,
            description=str(data.get("description", "")),
            renamed=renamed,
        )

    @classmethod
    def load(cls, path_or_preset: str | Path) -> RuleSet:
        """Load a rule file, or a preset by name from ``templates/rules/`` (e.g. ``"lab-v7"``)."""
        path = Path(path_or_preset)
        if not path.suffix:
            path = PRESETS / f"{path_or_preset}.json"
        if not path.is_file():
            presets = ", ".join(sorted(p.stem for p in PRESETS.glob("*.json")))
            raise InputError(f"Rule file `{path}` not found", f"use a path or a preset: {presets}")
        return cls.from_dict(json.loads(path.read_text()))

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "categories": dict(self.categories),
            "exclusions": list(self.exclusions),
        }

    def table(self) -> pd.DataFrame:
        """The rules as a small table: category, level, minimum confidence."""
        return pd.DataFrame(
            [
                {"category": c, "level": taxonomy.level(c), "min_confidence": v}
                for c, v in self.categories.items()
            ]
        )


def _label_index(names: Mapping[str, float] | tuple[str, ...]) -> dict[str, str]:
    """Map every v7 label to the most specific of ``names`` that covers it (itself or ancestor)."""
    out: dict[str, str] = {}
    for name in sorted(names, key=taxonomy.level):  # shallow first; deeper rules overwrite
        out[name] = name
        for child in taxonomy.descendants(name):
            out[child] = name
    return out


def apply_rules(labels: pd.DataFrame, rules: RuleSet) -> pd.DataFrame:
    """The rows of ``labels`` that the rules flag, with the matching ``rule`` and ``threshold``.

    A pure, vectorised function: a row is flagged when its label (or an ancestor) is a rule
    category, its confidence reaches that rule's minimum, and neither it nor an ancestor is
    excluded. ``labels`` is the frame from :func:`helpers.moderation.fetch_labels`.
    """
    rule_of = _label_index(rules.categories)
    excluded = set(_label_index(rules.exclusions))
    rule = labels["label"].map(rule_of)
    threshold = rule.map(lambda r: rules.categories.get(r) if isinstance(r, str) else None)
    mask = (
        rule.notna()
        & (labels["confidence"] >= threshold.astype("float64"))
        & ~labels["label"].isin(excluded)
    )
    out = labels.loc[mask].copy()
    out["rule"] = rule[mask]
    out["threshold"] = threshold[mask].astype("float64")
    out.attrs = dict(labels.attrs)
    return out
