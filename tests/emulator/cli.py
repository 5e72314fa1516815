# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Command line: ``python -m tests.emulator serve|generate``."""
from __future__ import annotations

import argparse
import json
import os
import shlex
import signal
import sys
import tempfile
import threading

import yaml

from .generator import PRESETS
from .store import FleetError


def _write_atomic(path: str, text: str):
    directory = os.path.dirname(os.path.abspath(path)) or "."
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".emulator-", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(tmp, path)


def make_certs(directory: str) -> tuple:
    """CA + server certificate for 127.0.0.1/localhost, made at start with trustme."""
    import trustme  # pylint: disable=import-outside-toplevel

    ca = trustme.CA(organization_name="vaultlock ARM emulator")
    cert = ca.issue_cert("127.0.0.1", "localhost")
    ca_path = os.path.join(directory, "ca.pem")
    cert_path = os.path.join(directory, "server.pem")
    key_path = os.path.join(directory, "server.key")
    ca.cert_pem.write_to_path(ca_path)
    cert.cert_chain_pems[0].write_to_path(cert_path)
    for extra in cert.cert_chain_pems[1:]:
        extra.write_to_path(cert_path, append=True)
    cert.private_key_pem.write_to_path(key_path)
    os.chmod(key_path, 0o600)
    return ca_path, cert_path, key_path


def endpoint_document(emu, ca_path: str) -> dict:
    from .server import AUDIENCE, CLIENT_ID, READER_ID, TENANT_ID  # pylint: disable=import-outside-toplevel

    base = emu.base_url
    subs, rgs = emu.store.summary()
    env = {
        "AZURE_CLIENT_ID": CLIENT_ID, "AZURE_SECRET": emu.client_secret, "AZURE_CLIENT_SECRET": emu.client_secret,
        "AZURE_TENANT": TENANT_ID, "AZURE_TENANT_ID": TENANT_ID, "AZURE_SUBSCRIPTION_ID": subs[0],
        "AZURE_CLOUD_ENVIRONMENT": base, "AZURE_AUTHORITY_HOST": base, "REQUESTS_CA_BUNDLE": ca_path, "SSL_CERT_FILE": ca_path,
    }
    return {
        "arm_url": base, "tenant_id": TENANT_ID, "client_id": CLIENT_ID, "client_secret": emu.client_secret,
        "readonly_client_id": READER_ID, "readonly_client_secret": emu.reader_secret, "subscription_ids": subs,
        "resource_groups": rgs, "ca_bundle": ca_path, "control_url": base + "_emulator/", "audience": AUDIENCE,
        "authority_host": base, "pid": os.getpid(), "env": env,
    }


def load_fleet_file(path: str) -> dict:
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    if text.lstrip().startswith("{"):
        return json.loads(text)
    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # nosec B506 - safe loader


def serve(args) -> int:
    from .server import Emulator, make_server  # pylint: disable=import-outside-toplevel

    if args.fleet and args.generate_vaults:
        print("give --fleet or --generate-vaults, not both", file=sys.stderr)
        return 2
    if args.generate_vaults:
        from .generator import generate_fleet  # pylint: disable=import-outside-toplevel
        fleet = generate_fleet(args.generate_vaults, subscriptions=args.generate_subscriptions, seed=args.generate_seed,
                               protected_items=args.generate_protected_items, random_security=args.generate_random_security)
    else:
        fleet = load_fleet_file(args.fleet) if args.fleet else None
    try:
        emu = Emulator(fleet, latency_ms=args.latency_ms, page_size=args.page_size, token_lifetime=args.token_lifetime,
                       throttle_mode=args.throttle)
    except FleetError as exc:
        print("invalid fleet: %s" % exc, file=sys.stderr)
        return 2
    endpoint = os.path.abspath(args.endpoint_file)
    cert_dir = tempfile.mkdtemp(prefix="emulator-certs-", dir=os.path.dirname(endpoint))
    ca_path, cert_path, key_path = make_certs(cert_dir)
    server = make_server(emu, args.port, cert_path, key_path)
    doc = endpoint_document(emu, ca_path)

    def stop(_signum, _frame):
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True)
    thread.start()
    _write_atomic(endpoint, json.dumps(doc, indent=2) + "\n")
    if args.env_file:
        _write_atomic(args.env_file, "".join("export %s=%s\n" % (k, shlex.quote(v)) for k, v in doc["env"].items()))
    print("ARM emulator listening on %s (endpoint file %s)" % (doc["arm_url"], endpoint), file=sys.stderr, flush=True)
    while thread.is_alive():
        thread.join(0.5)
    server.server_close()
    return 0


def generate(args) -> int:
    from .generator import generate_fleet  # pylint: disable=import-outside-toplevel

    preset = dict(PRESETS[args.preset]) if args.preset else {}
    vaults = args.vaults if args.vaults is not None else preset.pop("vaults", None)
    if vaults is None:
        print("give --vaults or --preset", file=sys.stderr)
        return 2
    preset.pop("vaults", None)
    options = dict(preset)
    for key in ("subscriptions", "protected_items", "random_security"):
        if getattr(args, key) is not None:
            options[key] = getattr(args, key)
    fleet = generate_fleet(vaults, seed=args.seed, **options)
    if args.format == "json":
        json.dump(fleet, sys.stdout, separators=(",", ":"))
        sys.stdout.write("\n")
    else:
        # libyaml's emitter when present: big fleets (20,000 vaults) are written in seconds, not minutes.
        dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
        sys.stdout.write(yaml.dump(fleet, Dumper=dumper, sort_keys=False, width=160))
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.emulator", description="Local Azure Resource Manager emulator")
    sub = parser.add_subparsers(dest="command", required=True)
    srv = sub.add_parser("serve", help="run the emulator in the foreground")
    srv.add_argument("--port", type=int, default=0)
    srv.add_argument("--endpoint-file", required=True)
    srv.add_argument("--fleet")
    srv.add_argument("--latency-ms", type=int, default=0)
    srv.add_argument("--page-size", type=int, default=200)
    srv.add_argument("--env-file")
    srv.add_argument("--token-lifetime", type=int, default=3600, help="seconds an access token is valid")
    srv.add_argument("--throttle", choices=("off", "azure"), default="off",
                     help="azure: ARM's token buckets and Resource Graph's quota, as Learn documents them")
    srv.add_argument("--generate-vaults", type=int, default=0, help="serve a generated fleet of this many vaults (no file)")
    srv.add_argument("--generate-subscriptions", type=int, default=1)
    srv.add_argument("--generate-seed", default="0")
    srv.add_argument("--generate-protected-items", type=int, default=0, help="at most this many protected items per vault")
    srv.add_argument("--generate-random-security", action="store_true",
                     help="random values of the vault security settings (cross subscription restore, alerts, ...)")
    gen = sub.add_parser("generate", help="print a generated fleet (YAML, or JSON with --format json)")
    gen.add_argument("--vaults", type=int)
    gen.add_argument("--subscriptions", type=int)
    gen.add_argument("--seed", default="0")
    gen.add_argument("--protected-items", type=int, help="at most this many protected items per vault (default 0)")
    gen.add_argument("--random-security", action="store_true", default=None,
                     help="random values of the vault security settings (the fleet's random_security key)")
    gen.add_argument("--preset", choices=sorted(PRESETS),
                     help="one of the issue-15 benchmark fleets (its vaults, subscriptions and items)")
    gen.add_argument("--format", choices=("yaml", "json"), default="yaml")
    args = parser.parse_args(argv)
    return serve(args) if args.command == "serve" else generate(args)
