"""The `stedi` command: the project's tooling beside dbt.

Every failure the user can fix ends with one line on stderr naming what is
wrong and where, and exit status 2; never a bare stack trace.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from stedi_lakehouse.cluster import LocalCluster
from stedi_lakehouse.erasure.requests import SEED_FILE
from stedi_lakehouse.paths import PROJECT_DIR
from stedi_lakehouse.preflight import PreflightError, check_java, check_landing, check_secrets, landing_root
from stedi_lakehouse.thrift import ThriftServer


def _preflight(args: argparse.Namespace) -> None:
    from stedi_lakehouse.build_secrets import SECRET_VARIABLES, resolve_secrets
    from stedi_lakehouse.erasure.keys import ERASURE_KEY_ENV, check_key_format

    target = args.target or os.environ.get("STEDI_TARGET") or "local"
    landing = landing_root(args.landing or os.environ.get("STEDI_LANDING_PATH"))
    if args.landing_only:  # a command that reads the landing zone and builds nothing
        print(f"stedi preflight: {check_landing(landing)}")
        return
    if not args.skip_java and target != "athena":  # Athena runs no Spark here
        check_java()
    if target == "athena" and not landing.startswith("s3://"):
        raise PreflightError(
            f"STEDI_LANDING_PATH={landing} is not an s3:// landing prefix: Athena reads the landing zone from S3 "
            f"(upload it with `stedi upload-landing {landing} s3://bucket/prefix`)"
        )
    # a local folder first: a wrong path is the likelier mistake, and the secrets check reads its
    # demo-data marker; an S3 listing needs credentials and the network, so it comes last
    remote = landing.startswith("s3://")
    if not remote:
        print(f"stedi preflight: {check_landing(landing)}")
    secrets = {variable: os.environ.get(variable, "") for variable in SECRET_VARIABLES}
    secrets.update(resolve_secrets(os.environ))  # those named by <VARIABLE>_SECRET_ID only
    note = check_secrets(target, landing, secrets, require_erasure_key=args.require_erasure_key)
    if secrets.get(ERASURE_KEY_ENV):
        # a key that breaks out of its SQL literal would fail the build with the key in the error
        check_key_format(secrets[ERASURE_KEY_ENV])
    if remote:
        print(f"stedi preflight: {check_landing(landing)}")
    if note:
        print(f"preflight: {note}")


def _dbt(args: argparse.Namespace) -> None:
    from stedi_lakehouse.dbt_run import run

    status = run(args.dbt_args)
    if status:
        sys.exit(status)


def _secrets_env(args: argparse.Namespace) -> None:
    from stedi_lakehouse.build_secrets import export_lines, resolve_secrets

    print(export_lines(resolve_secrets(os.environ)), end="")


def _stack_env(args: argparse.Namespace) -> None:
    from stedi_lakehouse.aws_stack import stack_settings
    from stedi_lakehouse.build_secrets import export_lines

    print(export_lines(stack_settings(args.stack_name, region=args.region, endpoint_url=args.endpoint_url)), end="")


def _generate(args: argparse.Namespace) -> None:
    from stedi_lakehouse.generate import MANIFEST, GeneratorConfig, append_day, generate_landing

    root = Path(args.landing)
    settings = {"customers": args.customers, "readings_per_customer": args.readings_per_customer, "seed": args.seed, "days": args.days}
    try:
        if args.append_day:
            given = [f"--{name.replace('_', '-')}" for name, value in settings.items() if value is not None]
            if given:
                raise PreflightError(f"--append-day continues with the settings in {root / MANIFEST}; leave out {', '.join(given)}")
            summary = append_day(root, consent_changes=not args.no_consent_changes)
        elif args.no_consent_changes:
            raise PreflightError("--no-consent-changes goes with --append-day")
        else:
            config = GeneratorConfig(**{name: value for name, value in settings.items() if value is not None})
            summary = generate_landing(root, config)
    except ValueError as error:
        raise PreflightError(str(error)) from None
    print(f"demo landing data in {root}: {summary}")


def _thrift_server(args: argparse.Namespace) -> ThriftServer:
    warehouse = Path(args.warehouse or os.environ.get("STEDI_WAREHOUSE_DIR", "warehouse")).resolve()
    return ThriftServer(
        warehouse=warehouse,
        port=args.port or int(os.environ.get("STEDI_THRIFT_PORT", "10000")),
        driver_memory=os.environ.get("STEDI_DRIVER_MEMORY", "4g"),
    )


def _thrift_start(args: argparse.Namespace) -> None:
    _thrift_server(args).start()


def _thrift_stop(args: argparse.Namespace) -> None:
    _thrift_server(args).stop()


def _cluster(args: argparse.Namespace) -> LocalCluster:
    warehouse = Path(os.environ.get("STEDI_WAREHOUSE_DIR", "warehouse"))
    return LocalCluster(
        folder=Path(args.dir or warehouse / "cluster").resolve(),
        port=args.port or int(os.environ.get("STEDI_CLUSTER_PORT", "7077")),
        thrift_port=args.thrift_port or int(os.environ.get("STEDI_THRIFT_PORT", "10000")),
        executor_memory=os.environ.get("STEDI_EXECUTOR_MEMORY", "1g"),
        driver_memory=os.environ.get("STEDI_DRIVER_MEMORY", "2g"),
        timeout_seconds=args.timeout,
    )


def _cluster_start(args: argparse.Namespace) -> None:
    _cluster(args).start()


def _cluster_stop(args: argparse.Namespace) -> None:
    _cluster(args).stop()


def _cluster_status(args: argparse.Namespace) -> None:
    print("\n".join(_cluster(args).status()))


def _athena_check(args: argparse.Namespace) -> None:
    from stedi_lakehouse.checks.athena_check import AthenaCheckError, run_check
    from stedi_lakehouse.checks.athena_incremental import prove_days
    from stedi_lakehouse.checks.athena_scenario import ScenarioError, delivered_days, prepare

    started = time.monotonic()
    warehouse = args.warehouse or os.environ.get("STEDI_ATHENA_CHECK_WAREHOUSE")
    schema = os.environ.get("STEDI_SCHEMA", "stedi")
    failures = 0
    try:
        if warehouse:  # compare with an existing Spark build of the landing folder
            landing_path = args.landing or os.environ.get("STEDI_LANDING_PATH")
            if not landing_path:
                raise PreflightError("with --warehouse, give the landing folder it was built from (--landing or STEDI_LANDING_PATH)")
            landing, tables = Path(landing_path), Path(warehouse) / "tables" / f"{schema}.db"
            project = PROJECT_DIR
            for folder, what in ((landing, "landing folder (--landing)"), (tables, "Spark build (--warehouse)")):
                if not folder.is_dir():
                    raise PreflightError(f"{folder}: no {what} to check against")
        else:
            check_java()  # the Spark build to compare with
            # an Athena build refuses the public demo salt: the check's own, in Spark's builds too
            os.environ.setdefault("STEDI_SUBJECT_SALT", "offline-athena-check-salt")
            work_dir = Path(args.work_dir or Path(os.environ.get("STEDI_WAREHOUSE_DIR", "warehouse")) / "athena-check").resolve()
            print(f"athena-check: {args.customers} generated customers and edge cases, built on Spark in {work_dir}")
            landing, tables, project = prepare(work_dir, args.customers, PROJECT_DIR)
            print(f"athena-check: Spark build ready after {time.monotonic() - started:.0f} s")
        report = run_check(landing, tables, project)
        print(report)
        failures += len(report.failures)
        if not warehouse:
            days = delivered_days(work_dir, landing, tables, project)
            print(f"athena-check: {len(days)} days delivered and built incrementally on Spark after {time.monotonic() - started:.0f} s")
            for result in prove_days(days, work_dir / "athena-days"):
                print(result.line())
                failures += len(result.failures)
    except (AthenaCheckError, ScenarioError) as error:
        raise PreflightError(str(error)) from None
    print(f"athena-check: {time.monotonic() - started:.0f} s")
    if failures:
        raise PreflightError(f"{failures} failure(s) in the Athena check (see above)")


def _upload_landing(args: argparse.Namespace) -> None:
    from stedi_lakehouse.s3_upload import upload_landing

    endpoint = args.endpoint_url or os.environ.get("STEDI_S3_ENDPOINT_URL")
    print(upload_landing(Path(args.landing), args.destination, endpoint_url=endpoint))


def _erasure_request(args: argparse.Namespace) -> None:
    from stedi_lakehouse.erasure.keys import erasure_key
    from stedi_lakehouse.erasure.requests import now, parse_time, record_requests

    emails = list(args.emails)
    if args.file:
        try:
            emails += [line.strip() for line in Path(args.file).read_text(encoding="utf-8").splitlines() if line.strip()]
        except OSError as error:
            raise PreflightError(f"{args.file}: cannot be read ({error.strerror})") from None
    if not emails:
        raise PreflightError("no email given: pass EMAIL arguments or --file with one email a line")
    requested_at = parse_time(args.requested_at) if args.requested_at else now()
    added, already = record_requests(emails, erasure_key(), requested_at, Path(args.seed))
    for digest in added:
        print(f"recorded erasure request {digest} (requested {requested_at})")
    for digest in already:
        print(f"already requested: {digest}")
    print(f"{args.seed}: {len(added)} requests added; run `make erase` to carry them out")


def _erase(args: argparse.Namespace) -> None:
    from contextlib import ExitStack

    from stedi_lakehouse.erasure.keys import erasure_key
    from stedi_lakehouse.erasure.report import print_records
    from stedi_lakehouse.erasure.requests import read_requests
    from stedi_lakehouse.erasure.run import erase
    from stedi_lakehouse.erasure.sites import open_site, with_aws_errors
    from stedi_lakehouse.preflight import DEMO_SUBJECT_SALT

    landing = landing_root(args.landing or os.environ.get("STEDI_LANDING_PATH"))  # as the build reads it
    warehouse = Path(args.warehouse or os.environ.get("STEDI_WAREHOUSE_DIR", "warehouse")).resolve()
    subject_salt = os.environ.get("STEDI_SUBJECT_SALT", DEMO_SUBJECT_SALT)
    with ExitStack() as held:
        site = open_site(landing, warehouse, held)
        records = with_aws_errors(lambda: erase(site, lambda: read_requests(Path(args.seed)), erasure_key, subject_salt, print), landing)
    print_records(records, site.home.describe("log"))


def _bench(args: argparse.Namespace) -> None:
    from stedi_lakehouse.checks.bench import main as run_bench

    # absolute: dbt refuses a relative landing path (it would resolve against the project)
    starter, seed_style = Path(args.starter).resolve(), Path(args.seed_style).resolve()
    for folder in (starter, seed_style):
        if not folder.is_dir():
            raise PreflightError(f"{folder}: no such folder (the benchmark needs ../shared beside the clone)")
    run_bench(starter, seed_style, tuple(args.scales))


def _report(args: argparse.Namespace) -> None:
    try:
        from stedi_lakehouse.report import write_report
    except ModuleNotFoundError as error:  # `make build` installs the runtime packages only
        raise PreflightError(f"{error.name} is not installed: `make report` installs requirements-report.lock") from None

    warehouse = Path(args.warehouse or os.environ.get("STEDI_WAREHOUSE_DIR", "warehouse"))
    tables = Path(args.tables_dir) if args.tables_dir else warehouse / "tables" / f"{os.environ.get('STEDI_SCHEMA', 'stedi')}.db"
    output = Path(args.output or Path(os.environ.get("DBT_TARGET_PATH", "target")) / "report" / "index.html")
    print(f"report: {write_report(tables, output)}")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="stedi", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)

    preflight = commands.add_parser("preflight", help="check Java, the landing zone and the build's secrets before a build")
    preflight.add_argument("--landing", help="landing zone root (default: $STEDI_LANDING_PATH)")
    preflight.add_argument("--target", choices=("local", "thrift", "athena"), help="dbt target of the build (default: $STEDI_TARGET or local)")
    preflight.add_argument("--skip-java", action="store_true", help="do not check for Java (remote targets)")
    preflight.add_argument(
        "--require-erasure-key", action="store_true",
        help="require STEDI_ERASURE_KEY even without erasure requests in seeds/erasure_requests.csv",
    )
    preflight.add_argument("--landing-only", action="store_true", help="check the landing zone only (a command that builds nothing)")
    preflight.set_defaults(handler=_preflight)

    dbt = commands.add_parser(
        "dbt", help="run dbt under the warehouse lock, quietly, stopping dbt and Spark on Ctrl+C",
        description="dbt ARGS with the landing root resolved, one command at a time per warehouse ($STEDI_WAREHOUSE_DIR)",
    )
    dbt.add_argument("dbt_args", nargs=argparse.REMAINDER, help="dbt's own arguments, e.g. build --target local")
    dbt.set_defaults(handler=_dbt)

    secrets = commands.add_parser("secrets", help="the build's secrets from AWS Secrets Manager")
    secrets_commands = secrets.add_subparsers(dest="action", required=True)
    secrets_env = secrets_commands.add_parser(
        "env", help="print export lines of each secret named by <VARIABLE>_SECRET_ID and not set (eval \"$(stedi secrets env)\")",
    )
    secrets_env.set_defaults(handler=_secrets_env)

    stack_env = commands.add_parser("stack-env", help="print export lines of the athena settings a deployed stack outputs")
    stack_env.add_argument("stack_name", help="CloudFormation stack of infra/stedi-lakehouse.yaml")
    stack_env.add_argument("--region", help="its region (default: the AWS default region)")
    stack_env.add_argument("--endpoint-url", help="CloudFormation endpoint (default: AWS)")
    stack_env.set_defaults(handler=_stack_env)

    generate = commands.add_parser("generate", help="write deterministic STEDI-shaped demo landing data, one file per zone and day")
    generate.add_argument("landing", help="landing zone root to write <zone>/landing/<zone>-YYYY-MM-DD.json under")
    generate.add_argument("--customers", type=int, help="customers over the history (default 1000)")
    generate.add_argument("--days", type=int, help="days of history, from 2022-06-12 UTC (default 7)")
    generate.add_argument("--readings-per-customer", type=int, help="mean accelerometer readings of a customer over the history (default 85)")
    generate.add_argument("--seed", type=int, help="random seed (default 42)")
    generate.add_argument(
        "--append-day", action="store_true",
        help="add the next day to a folder this command wrote: new readings, new registrants, profile updates, "
        "two revocations, a late consent and a serial number that becomes shared",
    )
    generate.add_argument("--no-consent-changes", action="store_true", help="with --append-day: a day without the consent changes")
    generate.set_defaults(handler=_generate)

    upload = commands.add_parser("upload-landing", help="upload a local landing zone to S3 (skips files already there)")
    upload.add_argument("landing", help="local landing zone root")
    upload.add_argument("destination", help="s3://bucket/prefix")
    upload.add_argument("--endpoint-url", help="S3 endpoint (default: $STEDI_S3_ENDPOINT_URL or AWS)")
    upload.set_defaults(handler=_upload_landing)

    athena = commands.add_parser("athena-check", help="prove the Athena target offline against a Spark build")
    athena.add_argument("--warehouse", help="reuse this Spark build (default: $STEDI_ATHENA_CHECK_WAREHOUSE; unset: build one)")
    athena.add_argument("--landing", help="with --warehouse: the landing folder it was built from (default: $STEDI_LANDING_PATH)")
    athena.add_argument("--work-dir", help="where to generate and build (default: $STEDI_WAREHOUSE_DIR/athena-check)")
    athena.add_argument("--customers", type=int, default=100, help="generated customers (default 100)")
    athena.set_defaults(handler=_athena_check)

    request = commands.add_parser("erasure-request", help="record erasure requests as keyed hashes of emails (STEDI_ERASURE_KEY)")
    request.add_argument("emails", nargs="*", metavar="EMAIL", help="email of a person to erase (any case, spaces trimmed)")
    request.add_argument("--file", help="a file of emails, one a line")
    request.add_argument("--requested-at", help="when the person asked, UTC (default: now), e.g. 2024-05-01 or 2024-05-01 09:30:00")
    request.add_argument("--seed", default=str(SEED_FILE), help="the request file (default: seeds/erasure_requests.csv)")
    request.set_defaults(handler=_erasure_request)

    erase = commands.add_parser("erase", help="carry out every pending erasure request on the landing zone and the warehouses")
    erase.add_argument("--landing", help="landing zone folder or s3:// prefix (default: $STEDI_LANDING_PATH)")
    erase.add_argument("--warehouse", help="local warehouse, its thrift/ folder included (default: $STEDI_WAREHOUSE_DIR)")
    erase.add_argument("--seed", default=str(SEED_FILE), help="the request file (default: seeds/erasure_requests.csv)")
    erase.set_defaults(handler=_erase)

    bench = commands.add_parser("bench", help="time the build against the seed-style jobs and at 10x and 100x scale")
    bench.add_argument("--starter", default=str(Path("..") / "shared" / "data" / "stedi-starter"))
    bench.add_argument("--seed-style", default=str(Path("..") / "shared" / "bench" / "seed_style"))
    bench.add_argument("--scales", type=int, nargs="*", default=[10, 100], help="generated scales to build")
    bench.set_defaults(handler=_bench)

    report = commands.add_parser("report", help="write the build report, a static HTML page, from a warehouse's tables")
    report.add_argument("--warehouse", help="a local or Thrift warehouse (default: $STEDI_WAREHOUSE_DIR or warehouse)")
    report.add_argument("--tables-dir", help="the folder of the tables' Parquet folders (default: <warehouse>/tables/<schema>.db)")
    report.add_argument("--output", help="the page to write (default: $DBT_TARGET_PATH/report/index.html, or target/...)")
    report.set_defaults(handler=_report)

    thrift = commands.add_parser("thrift", help="start or stop a local Spark Thrift server on 127.0.0.1")
    thrift_commands = thrift.add_subparsers(dest="action", required=True)
    for action, handler in (("start", _thrift_start), ("stop", _thrift_stop)):
        command = thrift_commands.add_parser(action)
        command.add_argument("--warehouse", help="its tables, metastore and logs (default: $STEDI_WAREHOUSE_DIR)")
        command.add_argument("--port", type=int, help="port on 127.0.0.1 (default: $STEDI_THRIFT_PORT or 10000)")
        command.set_defaults(handler=handler)

    cluster = commands.add_parser(
        "cluster", help="a Spark standalone master, two workers and a Thrift server on them, on 127.0.0.1"
    )
    cluster_commands = cluster.add_subparsers(dest="action", required=True)
    for action, handler in (("start", _cluster_start), ("stop", _cluster_stop), ("status", _cluster_status)):
        command = cluster_commands.add_parser(action)
        command.add_argument("--dir", help="its work, logs, pids, tables and metastore (default: $STEDI_WAREHOUSE_DIR/cluster)")
        command.add_argument(
            "--port",
            type=int,
            help="the master's port; the workers, web UIs and driver take the next ones (default: $STEDI_CLUSTER_PORT or 7077)",
        )
        command.add_argument("--thrift-port", type=int, help="the Thrift server's port (default: $STEDI_THRIFT_PORT or 10000)")
        command.add_argument("--timeout", type=float, default=120, help="seconds to wait for each daemon (default 120)")
        command.set_defaults(handler=handler)

    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handler: Callable[[argparse.Namespace], None] = args.handler
    try:
        handler(args)
    except PreflightError as error:
        print(f"stedi {args.command}: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # Ctrl+C: a start command has stopped what it started on its way out
        print(f"stedi {args.command}: interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
