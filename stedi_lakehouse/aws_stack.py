"""The athena profile's settings from the outputs of a deployed infra/stedi-lakehouse.yaml stack."""

from __future__ import annotations

from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

from stedi_lakehouse.preflight import PreflightError

# stack output -> the environment variable of profiles.example.yml (or of `stedi secrets env`)
OUTPUT_VARIABLES = {
    "LandingPath": "STEDI_LANDING_PATH",
    "AthenaRegion": "STEDI_ATHENA_REGION",
    "AthenaSchema": "STEDI_ATHENA_SCHEMA",
    "AthenaS3DataDir": "STEDI_ATHENA_S3_DATA_DIR",
    "AthenaS3StagingDir": "STEDI_ATHENA_S3_STAGING_DIR",
    "AthenaWorkGroup": "STEDI_ATHENA_WORK_GROUP",
    "SubjectSaltSecretId": "STEDI_SUBJECT_SALT_SECRET_ID",
    "ErasureKeySecretId": "STEDI_ERASURE_KEY_SECRET_ID",
}


def stack_settings(stack_name: str, region: str | None = None, endpoint_url: str | None = None) -> dict[str, str]:
    """The environment variables the stack's outputs give, by name."""
    import boto3

    try:
        client = boto3.client("cloudformation", region_name=region, endpoint_url=endpoint_url)
        stacks = client.describe_stacks(StackName=stack_name)["Stacks"]
    except NoCredentialsError:
        raise PreflightError("no AWS credentials found: set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY") from None
    except ClientError as error:
        raise PreflightError(f"stack {stack_name}: {error.response.get('Error', {}).get('Message', error)}") from None
    except BotoCoreError as error:
        raise PreflightError(f"stack {stack_name}: {error}") from None
    outputs = {output["OutputKey"]: output["OutputValue"] for output in stacks[0].get("Outputs", [])}
    missing = sorted(set(OUTPUT_VARIABLES) - set(outputs))
    if missing:
        raise PreflightError(
            f"stack {stack_name} has no output {', '.join(missing)}: deploy infra/stedi-lakehouse.yaml to it (docs/aws.md)"
        )
    return {variable: outputs[output] for output, variable in OUTPUT_VARIABLES.items()}
