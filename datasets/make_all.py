#!/usr/bin/env python3
"""Regenerate all of the kit's sample data: the video, then the recording that describes it.

Usage::

    python datasets/make_all.py                   # video (needs ffmpeg) + recording
    python datasets/make_all.py --recording-only  # after editing only confidence profiles

The recording carries the video's sha256, so whenever the video changes the recording must be
regenerated too; this script does both in the right order.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import make_recording  # noqa: E402
import make_sample_video  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--recording-only",
        action="store_true",
        help="keep the committed video and regenerate only the recording",
    )
    args = parser.parse_args(argv)
    if not args.recording_only:
        rc = make_sample_video.main([])
        if rc:
            return rc
    return make_recording.main([])


if __name__ == "__main__":
    sys.exit(main())
