"""Business rules: which moderation labels go to a human, as data.

A rule set is a JSON file (``templates/rules/*.json``, or your own anywhere) and a
:class:`RuleSet` object::

    {"name": "lab-v7",
     "description": "what the rules are for",
     "categories": {"Alcoholic Beverages": 80, "Drinking": 80, "Exposed Male Nipple": 80},
     "exclusions": ["Swimwear or Underwear"]}

``categories`` names labels at any level of the v7 taxonomy with a minimum confidence (0-100);
``exclusions`` names labels never to flag. An entry covers its label and everything below it,
so ``Alcohol`` catches ``Drinking`` rows; when several entries cover a label, **the most
specific one decides** (a rule on ``Female Swimwear or Underwear`` flags it even when
``Swimwear or Underwear`` is excluded). An exclusion also silences the parent rows it causes:
Rekognition reports ``Alcohol`` beside every ``Drinking`` row, so with ``Drinking`` excluded an
``Alcohol`` row at the same moment is flagged only when some other, non-excluded child of
``Alcohol`` is there too.

Rules written with v6-era names (the lab's ``Barechested Male``) are mapped to v7 with a
warning. An unknown name is rejected with the list of valid names.
:func:`apply_rules` is a pure, vectorised function on the labels DataFrame.
"""

from __future__ import annotations

import difflib
import json
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from helpers import checks, segments, taxonomy
from helpers.errors import InputError

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
PRESETS = TEMPLATES / "rules"
#: The keys a rule file may have.
FILE_KEYS = ("name", "description", "categories", "exclusions")

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
    """Categories (v7 name → minimum confidence) and exclusions (v7 names).

    ``renamed`` records the v6 names a rule file used and the v7 names they became (it does
    not take part in equality: two rule sets are equal when they flag the same rows).
    """

    name: str
    categories: Mapping[str, float]
    exclusions: tuple[str, ...] = ()
    description: str = ""
    renamed: Mapping[str, str] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "categories", {k: float(v) for k, v in self.categories.items()})
        object.__setattr__(self, "exclusions", tuple(self.exclusions))
        bad = taxonomy.unknown([*self.categories, *self.exclusions])
        if bad:
            raise InputError(taxonomy.unknown_message(bad), _suggest(bad))
        both = [c for c in self.categories if c in self.exclusions]
        if both:
            raise InputError(
                f"{', '.join(map(repr, both))} is both a rule and an exclusion",
                "keep it in `categories` (to flag it) or in `exclusions` (never to flag it)",
            )
        for cat, conf in self.categories.items():
            if not 0 <= conf <= 100:
                raise InputError(
                    f"Rule `{cat}` has minimum confidence {conf:g}", "use a value from 0 to 100"
                )

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RuleSet:
        """Build a rule set from its JSON form, mapping v6 names to v7 with a warning."""
        if not isinstance(data, Mapping):
            raise InputError(
                f"A rule set is a JSON object, not {type(data).__name__}",
                f"write an object with the keys {', '.join(FILE_KEYS)}",
            )
        extra = [k for k in data if k not in FILE_KEYS]
        if extra:
            raise InputError(
                f"Unknown key(s) in the rule set: {', '.join(map(repr, extra))}",
                f"use only {', '.join(FILE_KEYS)}",
            )
        raw = data.get("categories", {})
        if not isinstance(raw, Mapping):
            raise InputError(
                "`categories` must map label names to minimum confidences",
                'write e.g. {"Drinking": 80, "Weapons": 60}',
            )
        for label, conf in raw.items():  # text, booleans, NaN: refused, as everywhere in the kit
            try:
                checks.number(conf, f"categories[{label!r}]", low=0, high=100)
            except InputError as err:
                raise InputError(
                    f"`categories` must map label names to minimum confidences: {err.what}",
                    err.fix,
                ) from None
        raw_exclusions = data.get("exclusions", [])
        if isinstance(raw_exclusions, str) or not all(isinstance(x, str) for x in raw_exclusions):
            raise InputError(
                "`exclusions` must be a list of label names", 'write e.g. ["Swimwear or Underwear"]'
            )
        renamed: dict[str, str] = {}

        def v7(name: str) -> str:
            if name in V6_TO_V7 and not taxonomy.is_known(name):
                renamed[name] = V6_TO_V7[name]
                return V6_TO_V7[name]
            return name

        categories: dict[str, float] = {}
        merged: list[str] = []
        for old, conf in raw.items():
            new = v7(old)
            if new in categories:  # two names became one: keep the stricter (lower) threshold
                merged.append(new)
                conf = min(conf, categories[new])
            categories[new] = float(conf)
        repeated = sorted({x for x in raw_exclusions if list(raw_exclusions).count(x) > 1})
        if repeated:
            raise InputError(
                f"`exclusions` names {', '.join(map(repr, repeated))} more than once",
                "name each excluded label once",
            )
        exclusions = tuple(dict.fromkeys(v7(x) for x in raw_exclusions))
        if renamed:
            pairs = ", ".join(f"{a!r} → {b!r}" for a, b in renamed.items())
            note = (
                f"; merged {', '.join(map(repr, merged))} (lowest threshold kept)" if merged else ""
            )
            warnings.warn(
                f"Rule set uses taxonomy v6 names, mapped to v7: {pairs}{note}. "
                "Write the v7 names to silence this warning.",
                UserWarning,
                stacklevel=3,
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
            raise InputError(
                f"Rule file `{path}` not found", f"use a path or a preset: {', '.join(presets())}"
            )
        try:
            data = json.loads(path.read_text(encoding="utf-8"), object_pairs_hook=_no_repeats)
        except UnicodeDecodeError as err:
            raise InputError(
                f"Rule file `{path}` is not UTF-8 text ({err.reason})",
                "save it as UTF-8 (any editor's 'Save with encoding') and load it again",
            ) from None
        except _Repeated as err:
            raise InputError(
                f"Rule file `{path.name}` gives {err.args[0]!r} twice; JSON keeps only the last, "
                "so one of the two would be silently ignored",
                f"keep one entry for {err.args[0]!r} (with the threshold you mean)",
            ) from None
        except json.JSONDecodeError as err:
            raise InputError(
                f"Rule file `{path}` is not valid JSON ({err})", "fix the file and load it again"
            ) from None
        except OSError as err:
            raise InputError(
                f"Rule file `{path}` cannot be read ({err.strerror or err})",
                "check the path and its permissions",
            ) from None
        try:
            return cls.from_dict(data)
        except InputError as err:
            raise InputError(f"Rule file `{path.name}`: {err.what}", err.fix) from None

    def to_dict(self) -> dict[str, Any]:
        """The rule set's JSON form (v7 names)."""
        return {
            "name": self.name,
            "description": self.description,
            "categories": dict(self.categories),
            "exclusions": list(self.exclusions),
        }

    def save(self, path: str | Path) -> Path:
        """Write the rule set as a rule file (loadable with :meth:`load`); return the path."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n")
        return path

    def with_categories(self, categories: Mapping[str, float], name: str | None = None) -> RuleSet:
        """A copy with other categories (exclusions kept), named ``name`` or ``<name>-tuned``."""
        same = dict(categories) == dict(self.categories)
        return RuleSet(
            name=name or (self.name if same else f"{self.name.removesuffix('-tuned')}-tuned"),
            categories=dict(categories),
            exclusions=self.exclusions,
            description=self.description,
        )

    def table(self) -> pd.DataFrame:
        """The rules as a small table: category, level, action and minimum confidence."""
        rows = [
            {"category": c, "level": taxonomy.level(c), "action": "flag", "min_confidence": v}
            for c, v in self.categories.items()
        ] + [
            {"category": x, "level": taxonomy.level(x), "action": "exclude", "min_confidence": None}
            for x in self.exclusions
        ]
        return pd.DataFrame(rows, columns=["category", "level", "action", "min_confidence"])


class _Repeated(ValueError):
    """A JSON object of a rule file has a key twice (the key is the argument)."""


def _no_repeats(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _Repeated(key)
        out[key] = value
    return out


def presets() -> list[str]:
    """The names of the rule presets in ``templates/rules/``."""
    return sorted(p.stem for p in PRESETS.glob("*.json"))


def _suggest(bad: list[str]) -> str:
    hints = []
    for name in bad:
        close = difflib.get_close_matches(name, [*taxonomy.NAMES, *V6_TO_V7], n=1, cutoff=0.6)
        if close:
            hints.append(f"{name!r} → did you mean {close[0]!r}?")
    fix = "use v7 names (helpers.taxonomy.NAMES)"
    return f"{fix}; {'; '.join(hints)}" if hints else fix


def decisions(rules: RuleSet) -> dict[str, tuple[str, float]]:
    """For every label a rule set covers: the entry that decides it and its threshold.

    The threshold is ``nan`` when the deciding entry is an exclusion. The most specific entry
    (rule or exclusion) covering a label decides.
    """
    entries: dict[str, float] = {**rules.categories, **dict.fromkeys(rules.exclusions, np.nan)}
    out: dict[str, tuple[str, float]] = {}
    for name in sorted(entries, key=taxonomy.level):  # shallow first; deeper entries overwrite
        for label in (name, *taxonomy.descendants(name)):
            out[label] = (name, entries[name])
    return out


def apply_rules(labels: pd.DataFrame, rules: RuleSet) -> pd.DataFrame:
    """The rows of ``labels`` that the rules flag, with the deciding ``rule`` and ``threshold``.

    A pure, vectorised function: a row is flagged when the most specific entry covering its
    label is a rule and its confidence reaches that rule's minimum, unless it is a parent row
    silenced by an exclusion (module doc). ``labels`` is the frame from
    :func:`helpers.moderation.fetch_labels` (TIMESTAMPS or SEGMENTS); the result keeps its
    index and ``attrs``.
    """
    decide = decisions(rules)
    codes, uniques = pd.factorize(labels["label"])
    known = [decide.get(u) if isinstance(u, str) else None for u in uniques]
    rule_of = np.array([d[0] if d else None for d in known] + [None], dtype=object)
    thr_of = np.array([d[1] if d else np.nan for d in known] + [np.nan], dtype=np.float64)
    excl_of = np.array([bool(d) and np.isnan(d[1]) for d in known] + [False], dtype=bool)
    threshold, excluded = thr_of[codes], excl_of[codes]
    with np.errstate(invalid="ignore"):
        mask = labels["confidence"].to_numpy(dtype=np.float64) >= threshold
    if excluded.any() and mask.any():
        mask &= ~silenced(labels, excluded)
    out = labels.iloc[np.flatnonzero(mask)].copy()
    out["rule"] = rule_of[codes[mask]]
    out["threshold"] = threshold[mask]
    out.attrs = dict(labels.attrs)
    return out


def silenced(labels: pd.DataFrame, excluded: np.ndarray) -> np.ndarray:
    """Rows that are there only because of an excluded descendant at the same moment.

    A parent row is silenced when the spans of excluded descendant rows cover it and no other
    descendant row (not excluded, not itself silenced) meets it. Deepest parents go first, so
    ``Alcohol`` sees that ``Alcohol Use`` was silenced by an excluded ``Drinking``.
    """
    start, end = segments.spans(labels)
    codes = segments.node_codes(labels)
    anc = segments.ancestor_table()[codes]
    depth = segments.node_depths()
    out = np.zeros(len(labels), dtype=bool)
    parents = np.unique(anc[excluded])
    for node in sorted(parents[parents >= 0].tolist(), key=lambda c: -depth[c]):
        rows = np.flatnonzero((codes == node) & ~excluded)
        below = (anc[:, 0] == node) | (anc[:, 1] == node)
        by_excluded, _ = segments.cover(start, end, rows, np.flatnonzero(below & excluded))
        by_other, _ = segments.cover(
            start, end, rows, np.flatnonzero(below & ~excluded & ~out), touch=True
        )
        out[rows[by_excluded & ~by_other]] = True
    return out
