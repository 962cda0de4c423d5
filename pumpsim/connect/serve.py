"""``pumpsim serve``: the live emulator's command line (argparse here; FastAPI and
uvicorn are imported only when the server starts)."""

from __future__ import annotations

import argparse
import socket
import sys
from typing import Any

__all__ = ["add_serve_parser", "serve"]

LOOPBACK = ("127.0.0.1", "::1", "localhost")


def add_serve_parser(sub: Any) -> None:
    p = sub.add_parser("serve", help="live emulator: pumps in real or scaled time over "
                                     "REST/WebSocket, with a pump face page")  # fmt: skip
    p.add_argument("scenario", nargs="?", help="scenario file (default: a bare syringe pump)")
    p.add_argument("--speed", type=float, default=60.0,
                   help="sim seconds per wall second, 1-1000 (default 60)")
    p.add_argument("--port", type=int, default=8000, help="TCP port (0: any free port)")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to bind (default 127.0.0.1; any other needs --token)")
    p.add_argument("--token", help="require 'Authorization: Bearer TOKEN' (or ?token=)")
    p.add_argument("--seed", type=int, help="seed of the first session")
    p.add_argument("--lockstep", action="store_true",
                   help="the first session moves only on 'advance'")
    sdc = p.add_argument_group("IEEE 11073 SDC (pip install 'pumpsim[sdc]')")
    sdc.add_argument("--sdc", action="store_true",
                     help="each pump of the first session is an SDC provider (plain HTTP "
                          "on --host; no discovery: consumers use the printed address)")
    sdc.add_argument("--sdc-discovery", action="store_true",
                     help="also announce the providers by WS-Discovery (multicast TTL 0)")
    sdc.add_argument("--sdc-tls-dir", metavar="DIR",
                     help="TLS with mutual certificates: DIR holds userkey.pem, usercert.pem "
                          "and cacert.pem")
    sdc.add_argument("--sdc-tls-password", metavar="PASSWORD", help="password of userkey.pem")


def serve(args: argparse.Namespace) -> int:
    """Start uvicorn with :func:`pumpsim.connect.api.create_app` until interrupted."""
    from pumpsim.errors import PumpsimError
    from pumpsim.scenario.load import load_scenario, read_file
    from pumpsim.scenario.programming import anchor_paths

    try:
        import uvicorn

        from pumpsim.connect.api import create_app
    except ImportError as exc:
        raise PumpsimError(f"pumpsim serve needs the 'live' extra: pip install "
                           f"'pumpsim[live]' ({exc.name} is missing)") from None  # fmt: skip
    if not 1.0 <= args.speed <= 1000.0:
        raise PumpsimError(f"--speed: {args.speed:g} is out of range; allowed 1 to 1000")
    if args.host not in LOOPBACK and not args.token:
        raise PumpsimError(f"--host {args.host}: binding beyond loopback needs --token")
    if args.host not in LOOPBACK:
        print(f"pumpsim serve: WARNING: listening on {args.host}: anyone who can reach it "
              "and holds the token can drive the simulated pumps; there is no TLS, use a "
              "trusted network or a TLS proxy", file=sys.stderr)  # fmt: skip
    scenario = None
    if args.scenario:
        from pathlib import Path

        scenario = anchor_paths(read_file(args.scenario), Path(args.scenario).parent)
        load_scenario(scenario)  # refuse a bad file before the server starts
    app = create_app(scenario, speed=args.speed, token=args.token,
                     first_options={"seed": args.seed, "lockstep": args.lockstep})
    if args.sdc or args.sdc_discovery or args.sdc_tls_dir:
        _attach_sdc(app, args)
    sock = socket.socket(socket.AF_INET6 if ":" in args.host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # no Nagle stalls
    sock.bind((args.host, args.port))
    port = sock.getsockname()[1]
    print(f"pumpsim serve: http://{args.host}:{port}/ (API docs /docs; Ctrl-C stops)",
          flush=True)  # fmt: skip
    config = uvicorn.Config(app, log_level="warning", ws_max_size=64 * 1024)
    server = uvicorn.Server(config)
    server.run(sockets=[sock])
    return 0


def _attach_sdc(app: Any, args: argparse.Namespace) -> None:
    """``--sdc``: one SDC provider per pump of the first session (pumpsim.connect.sdc)."""
    from pathlib import Path

    from pumpsim.connect.sdc import SdcOptions, attach
    from pumpsim.errors import PumpsimError

    if not args.sdc:
        raise PumpsimError("--sdc-discovery and --sdc-tls-dir need --sdc")
    if args.sdc_tls_dir is not None:
        missing = [n for n in ("userkey.pem", "usercert.pem", "cacert.pem")
                   if not (Path(args.sdc_tls_dir) / n).is_file()]  # fmt: skip
        if missing:
            raise PumpsimError(f"--sdc-tls-dir {args.sdc_tls_dir}: missing {', '.join(missing)}")
    if args.host not in LOOPBACK and args.sdc_tls_dir is None:
        raise PumpsimError(f"--sdc on --host {args.host}: SDC has no token; beyond loopback "
                           "it needs --sdc-tls-dir (mutual TLS)")  # fmt: skip
    if args.host not in LOOPBACK and args.sdc_discovery:
        raise PumpsimError("--sdc-discovery is for loopback only (--host 127.0.0.1)")
    attach(app, SdcOptions(host="127.0.0.1" if args.host in LOOPBACK else args.host,
                           discovery=args.sdc_discovery, tls_dir=args.sdc_tls_dir,
                           tls_password=args.sdc_tls_password))  # fmt: skip
