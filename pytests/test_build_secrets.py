"""No public salt on real data: the preflight's refusals, demo data let through, and the secrets
read from AWS Secrets Manager (a local moto server). Fast: no Spark."""

from __future__ import annotations

import os
import shlex
import subprocess
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from lakehouse import BIN, PROJECT_DIR
from stedi_lakehouse.build_secrets import resolve_secrets
from stedi_lakehouse.checks.athena_check import empty_aws
from stedi_lakehouse.demo_marker import MARKER_NAME, why_not_demo_data
from stedi_lakehouse.generate import GeneratorConfig, append_day, generate_landing
from stedi_lakehouse.paths import LANDING_ZONES
from stedi_lakehouse.preflight import DEMO_SUBJECT_SALT, PreflightError, check_secrets

SMALL = GeneratorConfig(customers=40, readings_per_customer=12, seed=3, days=2)
GOOD_SALT = "4f9c2d7e1a0b3c5d6e7f8091a2b3c4d5"
GOOD_KEY = "b7e6d5c4b3a29180f7e6d5c4b3a29180"
SECRETS = ("STEDI_SUBJECT_SALT", "STEDI_ERASURE_KEY", "STEDI_SUBJECT_SALT_SECRET_ID", "STEDI_ERASURE_KEY_SECRET_ID")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("demo")
    generate_landing(root, SMALL)
    return root


@pytest.fixture()
def real(tmp_path: Path) -> Path:
    """Landing data the generator did not write."""
    for zone in ("customer", "accelerometer", "step_trainer"):
        (tmp_path / zone / "landing").mkdir(parents=True)
        (tmp_path / zone / "landing" / f"{zone}-1655564444000.json").write_text('{"email": "a@b.c"}\n')
    return tmp_path


def preflight(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {key: value for key, value in os.environ.items() if key not in SECRETS and key != "STEDI_TARGET"}
    return subprocess.run(
        [str(BIN / "stedi"), "preflight", "--skip-java", *args], capture_output=True, text=True, check=False,
        env={**environment, **env},
    )


def refusal(result: subprocess.CompletedProcess[str]) -> str:
    """The one line of a refusal."""
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    return lines[0]


# --- demo data or not --------------------------------------------------------------------------


def test_demo_data_builds_with_the_demo_salt_and_says_so(demo: Path) -> None:
    result = preflight("--landing", str(demo))
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        f"stedi preflight: landing {demo}: customer 2 files, accelerometer 3 files, step_trainer 3 files",
        "preflight: generated demo data: subject_id uses the public demo salt (never do this with real data)",
    ]


def test_real_data_without_a_salt_is_refused_with_how_to_set_it(real: Path) -> None:
    line = refusal(preflight("--landing", str(real)))
    assert line.startswith(
        f"stedi preflight: STEDI_SUBJECT_SALT is not set, and STEDI_LANDING_PATH={real} is not generated demo data "
        f"(no readable {MARKER_NAME} of `stedi generate` in it): the build needs a secret salt for subject_id"
    )
    assert 'export STEDI_SUBJECT_SALT="$(openssl rand -hex 32)"' in line and "STEDI_SUBJECT_SALT_SECRET_ID=" in line


@pytest.mark.parametrize(("salt", "problem"), [
    (DEMO_SUBJECT_SALT, "is the public demo salt"),
    ("pytest-salt", "has 11 characters (a short secret can be guessed; 16 at least)"),
])
def test_a_public_or_short_salt_is_refused(real: Path, salt: str, problem: str) -> None:
    line = refusal(preflight("--landing", str(real), STEDI_SUBJECT_SALT=salt))
    assert line.startswith(f"stedi preflight: STEDI_SUBJECT_SALT {problem}, and STEDI_LANDING_PATH={real}")


def test_real_data_with_a_secret_salt_passes(real: Path) -> None:
    result = preflight("--landing", str(real), STEDI_SUBJECT_SALT=GOOD_SALT)
    assert result.returncode == 0 and not result.stderr
    assert result.stdout.splitlines() == [f"stedi preflight: landing {real}: customer 1 file, accelerometer 1 file, step_trainer 1 file"]


@pytest.mark.parametrize("target", ["thrift", "athena"])
def test_thrift_and_athena_need_a_salt_even_on_demo_data(demo: Path, target: str) -> None:
    landing = str(demo) if target == "thrift" else "s3://lake/landing"
    line = refusal(preflight("--landing", landing, "--target", target))
    assert f"STEDI_SUBJECT_SALT is not set, and this is a build on the {target} target: the build needs a secret salt" in line
    accepted = preflight("--landing", landing, STEDI_TARGET=target, STEDI_SUBJECT_SALT=GOOD_SALT)
    if target == "thrift":
        assert accepted.returncode == 0
    else:  # the salt passes; the preflight goes on to list the S3 landing zone, which needs AWS (none here)
        assert "cannot list s3://lake/landing/customer/landing/" in refusal(accepted)


def test_athena_needs_an_s3_landing_zone(demo: Path) -> None:
    line = refusal(preflight("--landing", str(demo), "--target", "athena", STEDI_SUBJECT_SALT=GOOD_SALT))
    assert f"STEDI_LANDING_PATH={demo} is not an s3:// landing prefix" in line


def test_a_real_delivery_copied_into_demo_data_makes_it_real(tmp_path: Path) -> None:
    generate_landing(tmp_path, SMALL)
    assert why_not_demo_data(tmp_path) is None
    delivery = tmp_path / "customer" / "landing" / "2022" / "06" / "customer-1655564444000.json"
    delivery.parent.mkdir(parents=True)
    delivery.write_text('{"email": "a@b.c"}\n')
    assert why_not_demo_data(tmp_path) == "customer/landing/2022/06/customer-1655564444000.json is not a file `stedi generate` wrote"
    delivery.unlink()
    (tmp_path / "customer" / "landing" / "_SUCCESS").write_text("")  # hidden files are never read
    assert why_not_demo_data(tmp_path) is None


def test_an_edited_demo_file_makes_it_real(tmp_path: Path) -> None:
    generate_landing(tmp_path, SMALL)
    edited = sorted((tmp_path / "accelerometer" / "landing").glob("*.json"))[0]
    with edited.open("a") as stream:
        stream.write('{"user": "real.person@example.com", "timestamp": 1, "x": 0, "y": 0, "z": 0}\n')
    assert why_not_demo_data(tmp_path) == f"accelerometer/landing/{edited.name} changed since `stedi generate` wrote it"


def test_days_appended_to_demo_data_are_demo_data(tmp_path: Path) -> None:
    generate_landing(tmp_path, SMALL)
    append_day(tmp_path)
    assert why_not_demo_data(tmp_path) is None


def test_the_demo_salt_is_the_one_dbt_falls_back_to() -> None:
    assert f"env_var('STEDI_SUBJECT_SALT', '{DEMO_SUBJECT_SALT}')" in (PROJECT_DIR / "dbt_project.yml").read_text()
    assert f"== '{DEMO_SUBJECT_SALT}'" in (PROJECT_DIR / "macros" / "assert_subject_salt_is_secret.sql").read_text()


def test_make_build_stops_on_real_data_without_a_salt(real: Path) -> None:
    environment = {key: value for key, value in os.environ.items() if key not in SECRETS}
    result = subprocess.run(
        ["make", "--no-print-directory", "preflight", f"STEDI_LANDING_PATH={real}"],
        cwd=PROJECT_DIR, capture_output=True, text=True, check=False, env=environment,
    )
    assert result.returncode != 0
    assert f"stedi preflight: STEDI_SUBJECT_SALT is not set, and STEDI_LANDING_PATH={real} is not generated demo data" in result.stderr


# --- the erasure key ---------------------------------------------------------------------------


def test_erasure_requests_need_an_erasure_key(real: Path, tmp_path: Path) -> None:
    seed = tmp_path / "erasure_requests.csv"
    seed.write_text("email,requested_at\n")
    check_secrets("local", str(real), {"STEDI_SUBJECT_SALT": GOOD_SALT}, erasure_seed=seed)  # no request, no key
    seed.write_text("email,requested_at\nann@example.com,2024-01-01 00:00:00\n\n")
    with pytest.raises(PreflightError, match=r"^STEDI_ERASURE_KEY is not set, and .* and erasure_requests.csv holds 1 erasure request\(s\): the build needs a secret key"):
        check_secrets("local", str(real), {"STEDI_SUBJECT_SALT": GOOD_SALT}, erasure_seed=seed)
    with pytest.raises(PreflightError, match="STEDI_ERASURE_KEY equals STEDI_SUBJECT_SALT"):
        check_secrets("local", str(real), {"STEDI_SUBJECT_SALT": GOOD_SALT, "STEDI_ERASURE_KEY": GOOD_SALT}, erasure_seed=seed)
    check_secrets("local", str(real), {"STEDI_SUBJECT_SALT": GOOD_SALT, "STEDI_ERASURE_KEY": GOOD_KEY}, erasure_seed=seed)


def test_require_erasure_key_flag(demo: Path) -> None:
    line = refusal(preflight("--landing", str(demo), "--require-erasure-key"))
    assert line.startswith("stedi preflight: STEDI_ERASURE_KEY is not set, and --require-erasure-key is given: the build needs a secret key")
    assert preflight("--landing", str(demo), "--require-erasure-key", STEDI_ERASURE_KEY=GOOD_KEY).returncode == 0


# --- secrets from AWS Secrets Manager (moto) ---------------------------------------------------


@pytest.fixture(scope="module")
def secrets_manager() -> Iterator[str]:
    with pytest.MonkeyPatch.context() as patch, empty_aws() as endpoint:
        patch.setenv("AWS_ACCESS_KEY_ID", "testing")
        patch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        patch.setenv("AWS_ENDPOINT_URL", endpoint)
        client = boto3.client("secretsmanager", region_name="eu-west-1")
        client.create_secret(Name="stedi-lakehouse/subject-salt", SecretString=GOOD_SALT)
        client.create_secret(Name="stedi-lakehouse/erasure-key", SecretString=GOOD_KEY)
        s3 = boto3.client("s3")  # the landing zone the Athena preflights list: one record per zone
        s3.create_bucket(Bucket="lake")
        keys = [f"landing/{zone}/landing/day-1.json" for zone in LANDING_ZONES]
        for key in keys:
            s3.put_object(Bucket="lake", Key=key, Body=b'{"a": 1}\n')
        yield endpoint
        # moto keeps its state in this process across servers: leave no bucket for later tests
        for key in keys:
            s3.delete_object(Bucket="lake", Key=key)
        s3.delete_bucket(Bucket="lake")
        for secret in ("stedi-lakehouse/subject-salt", "stedi-lakehouse/erasure-key"):
            client.delete_secret(SecretId=secret, ForceDeleteWithoutRecovery=True)


def test_secrets_are_read_from_secrets_manager(secrets_manager: str) -> None:
    environ = {
        "STEDI_ATHENA_REGION": "eu-west-1",
        "STEDI_SUBJECT_SALT_SECRET_ID": "stedi-lakehouse/subject-salt",
        "STEDI_ERASURE_KEY_SECRET_ID": "stedi-lakehouse/erasure-key",
    }
    assert resolve_secrets(environ) == {"STEDI_SUBJECT_SALT": GOOD_SALT, "STEDI_ERASURE_KEY": GOOD_KEY}
    assert resolve_secrets({**environ, "STEDI_SUBJECT_SALT": "set-by-hand-wins-0000"}) == {"STEDI_ERASURE_KEY": GOOD_KEY}
    assert resolve_secrets({"STEDI_ATHENA_REGION": "eu-west-1"}) == {}


def test_secrets_env_prints_export_lines_the_build_evaluates(secrets_manager: str) -> None:
    env = {key: value for key, value in os.environ.items() if key not in SECRETS}
    env.update(STEDI_ATHENA_REGION="eu-west-1", STEDI_SUBJECT_SALT_SECRET_ID="stedi-lakehouse/subject-salt")
    printed = subprocess.run([str(BIN / "stedi"), "secrets", "env"], capture_output=True, text=True, check=True, env=env).stdout
    assert printed == f"export STEDI_SUBJECT_SALT={GOOD_SALT}\n"
    # what the Makefile's build line does: evaluate them, then the preflight of an Athena build
    script = f'secrets="$({BIN / "stedi"} secrets env)"; eval "$secrets"; {BIN / "stedi"} preflight --target athena --landing s3://lake/landing'
    assert subprocess.run(["bash", "-euc", script], capture_output=True, text=True, env=env).returncode == 0
    # the preflight alone reads the secret too
    assert preflight("--target", "athena", "--landing", "s3://lake/landing", **{
        "STEDI_ATHENA_REGION": "eu-west-1", "STEDI_SUBJECT_SALT_SECRET_ID": "stedi-lakehouse/subject-salt",
    }).returncode == 0


def test_a_missing_secret_is_one_clear_line(secrets_manager: str) -> None:
    line = refusal(preflight("--target", "athena", "--landing", "s3://lake/landing", **{
        "STEDI_ATHENA_REGION": "eu-west-1", "STEDI_SUBJECT_SALT_SECRET_ID": "stedi-lakehouse/no-such-secret",
    }))
    assert line == (
        "stedi preflight: STEDI_SUBJECT_SALT_SECRET_ID=stedi-lakehouse/no-such-secret: no such secret in Secrets Manager "
        "in eu-west-1; check the stack's outputs (stedi stack-env)"
    )


def test_no_credentials_is_one_clear_line(secrets_manager: str, tmp_path: Path) -> None:
    env = {key: value for key, value in os.environ.items() if not key.startswith("AWS_") and key not in SECRETS}
    env.update(
        AWS_CONFIG_FILE=str(tmp_path / "none"), AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "none"),
        AWS_EC2_METADATA_DISABLED="true", AWS_ENDPOINT_URL=secrets_manager,
        STEDI_ATHENA_REGION="eu-west-1", STEDI_SUBJECT_SALT_SECRET_ID="stedi-lakehouse/subject-salt",
    )
    result = subprocess.run([str(BIN / "stedi"), "secrets", "env"], capture_output=True, text=True, check=False, env=env)
    assert refusal(result).startswith("stedi secrets: STEDI_SUBJECT_SALT_SECRET_ID=stedi-lakehouse/subject-salt: no AWS credentials found")
    assert not result.stdout


def test_export_lines_quote_what_the_shell_would_expand() -> None:
    from stedi_lakehouse.build_secrets import export_lines

    value = "a$b`c'd\" e"
    (line,) = export_lines({"STEDI_SUBJECT_SALT": value}).splitlines()
    assert shlex.split(line) == ["export", f"STEDI_SUBJECT_SALT={value}"]
