"""Amazon Rekognition's moderation taxonomy, version 7 (three levels).

Video moderation moved to the v7 taxonomy in May 2024. Every detection names a label and its
parent; a rule that names a category matches the category itself and everything below it.

>>> ancestors("Drinking")
('Alcohol Use', 'Alcohol')
>>> level("Alcohol Use")
2
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

#: The version the kit's rules and recordings are written for.
MODEL_VERSION = "7.0"

# L1 -> L2 -> [L3]
_TREE: Mapping[str, Mapping[str, tuple[str, ...]]] = {
    "Explicit": {
        "Explicit Nudity": (
            "Exposed Male Genitalia",
            "Exposed Female Genitalia",
            "Exposed Buttocks or Anus",
            "Exposed Female Nipple",
        ),
        "Explicit Sexual Activity": (),
        "Sex Toys": (),
    },
    "Non-Explicit Nudity of Intimate parts and Kissing": {
        "Non-Explicit Nudity": (
            "Bare Back",
            "Exposed Male Nipple",
            "Partially Exposed Buttocks",
            "Partially Exposed Female Breast",
            "Implied Nudity",
        ),
        "Obstructed Intimate Parts": ("Obstructed Female Nipple", "Obstructed Male Genitalia"),
        "Kissing on the Lips": (),
    },
    "Swimwear or Underwear": {
        "Female Swimwear or Underwear": (),
        "Male Swimwear or Underwear": (),
    },
    "Violence": {
        "Weapons": (),
        "Graphic Violence": (
            "Weapon Violence",
            "Physical Violence",
            "Self-Harm",
            "Blood & Gore",
            "Explosions and Blasts",
        ),
    },
    "Visually Disturbing": {
        "Death and Emaciation": ("Emaciated Bodies", "Corpses"),
        "Crashes": ("Air Crash",),
    },
    "Drugs & Tobacco": {
        "Products": ("Pills",),
        "Drugs & Tobacco Paraphernalia & Use": ("Smoking",),
    },
    "Alcohol": {
        "Alcohol Use": ("Drinking",),
        "Alcoholic Beverages": (),
    },
    "Rude Gestures": {"Middle Finger": ()},
    "Gambling": {"Gambling": ()},
    "Hate Symbols": {
        "Nazi Party": (),
        "White Supremacy": (),
        "Extremist": (),
    },
}


def _build() -> tuple[dict[tuple[str, int], str], dict[str, tuple[int, ...]]]:
    parent: dict[tuple[str, int], str] = {}
    levels: dict[str, list[int]] = {}
    for l1, children in _TREE.items():
        parent[(l1, 1)] = ""
        levels.setdefault(l1, []).append(1)
        for l2, grandchildren in children.items():
            parent[(l2, 2)] = l1
            levels.setdefault(l2, []).append(2)
            for l3 in grandchildren:
                parent[(l3, 3)] = l2
                levels.setdefault(l3, []).append(3)
    return parent, {k: tuple(v) for k, v in levels.items()}


_PARENT, _LEVELS = _build()

#: Every label name of the v7 taxonomy, in taxonomy order.
NAMES: tuple[str, ...] = tuple(dict.fromkeys(name for name, _ in _PARENT))
#: The top-level categories.
TOP_LEVEL: tuple[str, ...] = tuple(_TREE)
#: Every (name, level) the taxonomy has (a name may sit at two levels), in taxonomy order.
NODES: tuple[tuple[str, int], ...] = tuple(
    (name, at) for name in NAMES for at in sorted(_LEVELS[name])
)


def is_known(name: str) -> bool:
    """True when ``name`` is a label of the v7 taxonomy."""
    return name in _LEVELS


def level(name: str) -> int:
    """The taxonomy level (1–3) of a label; for a name used at two levels, the deepest."""
    try:
        return max(_LEVELS[name])
    except KeyError:
        raise KeyError(unknown_message([name])) from None


def parent(name: str, at_level: int | None = None) -> str:
    """The parent of a label ("" for a top-level category)."""
    lvl = at_level if at_level is not None else level(name)
    try:
        return _PARENT[(name, lvl)]
    except KeyError:
        raise KeyError(unknown_message([name])) from None


def ancestors(name: str, at_level: int | None = None) -> tuple[str, ...]:
    """The chain of parents of a label, nearest first (empty for a top-level category).

    ``at_level`` disambiguates names used at two levels ("Gambling" is both L1 and L2).
    """
    out: list[str] = []
    lvl = at_level if at_level is not None else level(name)
    current = name
    while lvl > 1:
        current = _PARENT[(current, lvl)]
        lvl -= 1
        out.append(current)
    return tuple(out)


def top_level(name: str, at_level: int | None = None) -> str:
    """The L1 category a label belongs to."""
    chain = ancestors(name, at_level)
    return chain[-1] if chain else name


def descendants(name: str) -> tuple[str, ...]:
    """Every label below ``name`` (children, grandchildren), not ``name`` itself."""
    if name not in _LEVELS:
        raise KeyError(unknown_message([name]))
    top = min(_LEVELS[name])
    return tuple(child for (child, lvl) in _PARENT if lvl > top and name in ancestors(child, lvl))


def unknown(names: Iterable[str]) -> list[str]:
    """The names in ``names`` that the v7 taxonomy does not know, in order, without repeats."""
    return [n for n in dict.fromkeys(names) if not is_known(n)]


def unknown_message(names: Iterable[str]) -> str:
    """A message naming unknown labels and listing the valid ones."""
    bad = ", ".join(repr(n) for n in names)
    return (
        f"Unknown moderation label(s) {bad} for taxonomy v7. Valid names are: {', '.join(NAMES)}."
    )
