"""The build's secrets: from the environment, or read from AWS Secrets Manager.

Each secret is an environment variable (STEDI_SUBJECT_SALT, STEDI_ERASURE_KEY). On AWS it may
instead be named by `<VARIABLE>_SECRET_ID` (a secret's name or ARN; the stack of
infra/stedi-lakehouse.yaml generates both): `stedi secrets env` reads it with boto3 and prints
shell `export` lines, which the Makefile evaluates in the shell that runs dbt, so a secret is
never written to disk. A variable already set wins over its secret id.

Secrets Manager rather than SSM Parameter Store: CloudFormation can generate a secret's random
value (SSM SecureString parameters cannot be created by CloudFormation at all), so nobody types,
sees or pastes the salt; each secret has its own ARN for IAM.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

from stedi_lakehouse.preflight import PreflightError

SECRET_VARIABLES = ("STEDI_SUBJECT_SALT", "STEDI_ERASURE_KEY")


def secret_id_variable(variable: str) -> str:
    return f"{variable}_SECRET_ID"


def _read_secret(client: Any, variable: str, secret_id: str, region: str) -> str:
    where = f"{secret_id_variable(variable)}={secret_id}"
    try:
        value = client.get_secret_value(SecretId=secret_id).get("SecretString")
    except NoCredentialsError:
        raise PreflightError(
            f"{where}: no AWS credentials found to read it; assume the pipeline role (docs/aws.md) or set {variable} instead"
        ) from None
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "")
        if code == "ResourceNotFoundException":
            raise PreflightError(f"{where}: no such secret in Secrets Manager in {region}; check the stack's outputs (stedi stack-env)") from None
        if code in {"AccessDeniedException", "AccessDenied"}:
            raise PreflightError(f"{where}: access denied; only the pipeline role may read it (docs/aws.md)") from None
        raise PreflightError(f"{where}: Secrets Manager refused ({code}: {error})") from None
    except BotoCoreError as error:
        raise PreflightError(f"{where}: {error}") from None
    if not value:
        raise PreflightError(f"{where}: the secret holds no text value")
    return value


def resolve_secrets(environ: Mapping[str, str]) -> dict[str, str]:
    """The secrets not set in `environ` but named by a secret id there, read from Secrets Manager
    in STEDI_ATHENA_REGION (else the AWS default region)."""
    wanted = {
        variable: environ[secret_id_variable(variable)]
        for variable in SECRET_VARIABLES
        if not environ.get(variable) and environ.get(secret_id_variable(variable))
    }
    if not wanted:
        return {}
    import boto3  # only when a secret is read: local builds never load it

    try:
        client = boto3.client("secretsmanager", region_name=environ.get("STEDI_ATHENA_REGION") or None)
    except BotoCoreError as error:
        raise PreflightError(f"Secrets Manager: {error} (set STEDI_ATHENA_REGION)") from None
    region = client.meta.region_name
    return {variable: _read_secret(client, variable, secret_id, region) for variable, secret_id in wanted.items()}


def export_lines(values: Mapping[str, str]) -> str:
    """Shell lines that set each variable (quoted), for `eval "$(stedi ... env)"`."""
    return "".join(f"export {name}={shlex.quote(value)}\n" for name, value in values.items())
