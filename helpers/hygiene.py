"""Notebook hygiene: no outputs, and no account ids, ARNs or credentials in committed files.

Used by the tests and by the pre-commit hook (``.pre-commit-config.yaml``)::

    python -m helpers.hygiene notebooks/*.ipynb

Exit status 1 lists every problem with the fix.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

#: Patterns that must never be committed in a notebook (outputs or sources).
SECRETS = {
    "an AWS account id": re.compile(r"(?<![\w.])\d{12}(?![\w.])"),
    "an ARN": re.compile(r"arn:aws[a-z-]*:[a-z0-9-]+:"),
    "an AWS access key id": re.compile(r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b"),
    "an AWS secret key": re.compile(r"aws_secret_access_key\s*[=:]", re.IGNORECASE),
    "a session token": re.compile(r"aws_session_token\s*[=:]", re.IGNORECASE),
}


def problems(path: Path) -> list[str]:
    """What is wrong with one notebook file, one line each (empty when it is clean)."""
    text = path.read_text()
    found = []
    try:
        book = json.loads(text)
    except ValueError as err:
        return [f"{path}: not valid JSON ({err})"]
    for index, cell in enumerate(book.get("cells", [])):
        if cell.get("cell_type") == "code" and (cell.get("outputs") or cell.get("execution_count")):
            found.append(
                f"{path}: cell {index} is saved with outputs — clear them "
                "(Jupyter: Edit → Clear Outputs of All Cells) and save"
            )
            break
    for what, pattern in SECRETS.items():
        match = pattern.search(text)
        if match:
            line = text.count("\n", 0, match.start()) + 1
            found.append(f"{path}:{line}: contains {what} — remove it before committing")
    return found


def main(argv: list[str] | None = None) -> int:
    paths = [Path(p) for p in (argv if argv is not None else sys.argv[1:])]
    found = [line for path in paths for line in problems(path)]
    for line in found:
        print(line)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
