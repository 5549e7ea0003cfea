"""Command line of the offline stand-in: ``python -m helpers.offline serve [options]``."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from helpers.offline.settings import AutoReviewPolicy, OfflineSettings


def _parser() -> argparse.ArgumentParser:
    defaults = OfflineSettings()
    parser = argparse.ArgumentParser(
        prog="python -m helpers.offline",
        description="Offline stand-in for the AWS services of the video moderation kit.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the stand-in as an HTTP server")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (%(default)s)")
    serve.add_argument("--port", type=int, default=5000, help="port; 0 picks a free one")
    serve.add_argument("--region", default=defaults.region, help="region (%(default)s)")
    serve.add_argument(
        "--job-seconds",
        type=float,
        default=defaults.job_seconds,
        help="seconds a moderation job stays IN_PROGRESS (%(default)s)",
    )
    serve.add_argument(
        "--flow-definition-seconds",
        type=float,
        default=defaults.flow_definition_seconds,
        help="seconds a flow definition stays Initializing (%(default)s)",
    )
    serve.add_argument(
        "--auto-review",
        choices=[p.value for p in AutoReviewPolicy],
        default=defaults.auto_review.value,
        help="how the auto reviewer answers human loops (%(default)s)",
    )
    serve.add_argument(
        "--answer-after",
        type=int,
        default=defaults.answer_after_describes,
        help="DescribeHumanLoop calls that see InProgress before the answer (%(default)s)",
    )
    serve.add_argument(
        "--recordings-dir",
        type=Path,
        default=defaults.recordings_dir,
        help="directory of Rekognition recordings (%(default)s)",
    )
    serve.add_argument(
        "--workteam-subdomain",
        default=None,
        help=(
            "Workteam.SubDomain to report (default: this server's worker portal as a host "
            "name, worker-portal.localhost:<port>, as AWS gives a host name; 'url': the "
            "portal's full URL, http://127.0.0.1:<port>/_portal/; any other value as it is)"
        ),
    )
    serve.add_argument(
        "--env-file",
        type=Path,
        default=None,
        help="also write the export lines to this file once listening (removed on exit)",
    )
    serve.add_argument("-v", "--verbose", action="store_true", help="log at DEBUG level")
    check = commands.add_parser(
        "check-port", help="exit 1, saying so, when the port is taken (make lab asks first)"
    )
    check.add_argument("--host", default="127.0.0.1", help="address (%(default)s)")
    check.add_argument("--port", type=int, default=5000, help="port (%(default)s)")
    return parser


def port_problem(host: str, port: int) -> str | None:
    """Why the stand-in cannot listen on ``host:port`` (None when it can)."""
    import socket

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server does
        try:
            probe.bind((host, port))
        except OSError as error:
            return f"{host}:{port} is in use ({error.strerror})"
    return None


def _in_use_message(problem: str, port: int) -> str:
    return (
        f"error: {problem}. Another `make lab` or stand-in may be running: use it, or stop it "
        f"(Ctrl-C in its terminal) and try again, or free port {port}. Nothing was changed."
    )


def portal_lines(server: Any) -> list[str]:
    """What ``serve`` prints about the worker portal of ``server`` (an OfflineServer)."""
    sub = server.settings.workteam_subdomain
    if sub == server.portal_host:
        return [
            f"Worker portal: {server.portal_link}",
            f"  The work team's SubDomain is {sub}, a host name as on AWS.",
            "  This server speaks plain HTTP: open the link with http://, not https://.",
            f"  In a browser that does not resolve *.localhost names: {server.portal_url}",
        ]
    if sub == server.portal_url:
        return [f"Worker portal (the work team's SubDomain): {sub}"]
    return [
        f"Worker portal: {server.portal_url} (the work team's SubDomain is {sub}, as asked)",
    ]


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit status."""
    args = _parser().parse_args(argv)
    if args.command == "check-port":
        problem = port_problem(args.host, args.port)
        if problem:
            print(_in_use_message(problem, args.port), file=sys.stderr)
            return 1
        return 0
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        cfg = OfflineSettings(
            region=args.region,
            job_seconds=args.job_seconds,
            flow_definition_seconds=args.flow_definition_seconds,
            auto_review=args.auto_review,
            answer_after_describes=args.answer_after,
            recordings_dir=args.recordings_dir,
            workteam_subdomain=args.workteam_subdomain,
        )
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    from helpers.offline.server import shell_lines, start_server

    try:
        server = start_server(cfg, port=args.port, host=args.host, env_file=args.env_file)
    except OSError as error:  # the port is taken (or the address is not this machine's)
        print(
            _in_use_message(f"cannot listen on {args.host}:{args.port}: {error}", args.port),
            file=sys.stderr,
        )
        return 1
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    print(f"Offline AWS stand-in listening at {server.endpoint}")
    print("Point boto3 at it (unset AWS_PROFILE: a profile would take precedence):")
    for line in shell_lines(server.env):
        print(f"  {line}")
    if args.env_file:
        print(f"Environment written to {args.env_file} (source it).")
    for line in portal_lines(server):
        print(line)
    print("Press Ctrl-C to stop.", flush=True)
    try:
        while not stop.wait(0.5):
            pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
