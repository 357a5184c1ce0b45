"""The AWS side as code (infra/stedi-lakehouse.yaml), proven offline.

The template is deployed to moto's CloudFormation on a local moto server; `stedi stack-env`
turns its outputs into the athena profile's settings, with which `stedi upload-landing` fills
the deployed landing bucket and dbt compiles for Athena (offline, as athena_check does). The
roles' policies are read back from moto's IAM and evaluated statement by statement (iam_policy):
moto does not enforce IAM. moto's CloudFormation creates the buckets (with their encryption),
the roles and their policies; it skips the bucket policies, the Glue database, the work groups
and the secrets, whose settings are checked in the template itself here (and by cfn-lint,
checkov and parliament in `make infra-check`).
"""

from __future__ import annotations

import copy
import json
import shlex
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml

from iam_policy import Request, is_allowed, wildcard_match
from lakehouse import BIN, PROJECT_DIR
from stedi_lakehouse.aws_stack import OUTPUT_VARIABLES
from stedi_lakehouse.checks.athena_check import INTROSPECTIVE_NODES, LANDING_DDL_TEMPLATE, AthenaCheckError, empty_aws, offline_dbt

TEMPLATE = PROJECT_DIR / "infra" / "stedi-lakehouse.yaml"
REGION = "eu-west-1"
STACK = "stedi-lakehouse"
TRAINING_TABLE = "machine_learning_curated"


# --- the template itself -----------------------------------------------------------------------


class CloudFormationLoader(yaml.SafeLoader):
    """YAML with CloudFormation's short tags: `!Sub x` reads as {"Fn::Sub": x}, `!Ref x` as {"Ref": x}."""


def _tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    if suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {"Ref": value} if suffix == "Ref" else {f"Fn::{suffix}": value}


CloudFormationLoader.add_multi_constructor("!", _tag)


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return yaml.load(TEMPLATE.read_text(), Loader=CloudFormationLoader)


def resources_of(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {name: resource for name, resource in template["Resources"].items() if resource["Type"] == kind}


def test_every_bucket_is_encrypted_private_tls_only_and_forgets_old_versions(template: dict[str, Any]) -> None:
    buckets = resources_of(template, "AWS::S3::Bucket")
    assert {"LandingBucket", "DataBucket", "QueryResultsBucket"} <= set(buckets)
    policies = {policy["Properties"]["Bucket"]["Ref"]: policy["Properties"]["PolicyDocument"]
                for policy in resources_of(template, "AWS::S3::BucketPolicy").values()}
    erasure_days = template["Parameters"]["NoncurrentVersionDays"]
    assert erasure_days["MaxValue"] <= 21  # leaves a week of the one-month erasure deadline
    for name, bucket in buckets.items():
        properties = bucket["Properties"]
        (encryption,) = properties["BucketEncryption"]["ServerSideEncryptionConfiguration"]
        assert encryption["ServerSideEncryptionByDefault"]["SSEAlgorithm"] in {"AES256", "aws:kms"}, name
        assert all(properties["PublicAccessBlockConfiguration"].values()) and len(properties["PublicAccessBlockConfiguration"]) == 4, name
        assert properties["VersioningConfiguration"] == {"Status": "Enabled"}, name
        (rule,) = properties["LifecycleConfiguration"]["Rules"]
        noncurrent = rule["NoncurrentVersionExpiration"]["NoncurrentDays"]
        assert noncurrent == 1 or noncurrent == {"Ref": "NoncurrentVersionDays"}, name
        (tls,) = [statement for statement in policies[name]["Statement"] if statement["Sid"] == "DenyInsecureTransport"]
        assert tls["Effect"] == "Deny" and tls["Principal"] == "*" and tls["Action"] == "s3:*", name
        assert tls["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}, name
        assert tls["Resource"] == [{"Fn::GetAtt": [name, "Arn"]}, {"Fn::Sub": f"${{{name}.Arn}}/*"}], name
    for name in ("LandingBucket", "DataBucket"):  # what an erasure deletes is gone within the deadline
        assert buckets[name]["Properties"]["LifecycleConfiguration"]["Rules"][0]["NoncurrentVersionExpiration"] == {
            "NoncurrentDays": {"Ref": "NoncurrentVersionDays"}
        }


def test_the_data_science_work_group_enforces_its_results_location_and_encryption(template: dict[str, Any]) -> None:
    groups = resources_of(template, "AWS::Athena::WorkGroup")
    configuration = groups["DataScienceWorkGroup"]["Properties"]["WorkGroupConfiguration"]
    assert configuration["EnforceWorkGroupConfiguration"] is True
    assert configuration["ResultConfiguration"]["OutputLocation"] == {"Fn::Sub": "s3://${QueryResultsBucket}/data-science/"}
    assert configuration["ResultConfiguration"]["EncryptionConfiguration"] == {"EncryptionOption": "SSE_S3"}
    # the pipeline's cannot enforce (dbt-athena would then write every table under the results
    # location), so its role may write results under pipeline/ only (test_the_pipeline_...)
    pipeline = groups["PipelineWorkGroup"]["Properties"]["WorkGroupConfiguration"]
    assert pipeline["ResultConfiguration"]["OutputLocation"] == {"Fn::Sub": "s3://${QueryResultsBucket}/pipeline/"}
    assert pipeline["ResultConfiguration"]["EncryptionConfiguration"] == {"EncryptionOption": "SSE_S3"}
    assert resources_of(template, "AWS::Glue::Database")["GlueDatabase"]["Properties"]["DatabaseInput"]["Name"] == {"Ref": "GlueDatabaseName"}


def test_dbt_athena_still_drops_a_tables_location_when_the_work_group_enforces_its_own() -> None:
    """Why the pipeline's work group does not enforce: if dbt-athena stops dropping the table
    location, enforcing becomes possible and the template should do it."""
    from dbt.include.athena import PACKAGE_PATH

    macro = Path(PACKAGE_PATH) / "macros" / "materializations" / "models" / "table" / "create_table_as.sql"
    assert "not work_group_output_location_enforced" in macro.read_text()


# --- deployed to moto ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Stack:
    endpoint: str
    settings: dict[str, str]
    outputs: dict[str, str]

    def bucket(self, variable: str) -> str:
        return self.settings[variable].removeprefix("s3://").split("/")[0]


def parse_exports(text: str) -> dict[str, str]:
    words = shlex.split(text)
    return dict(word.split("=", 1) for word in words if word != "export")


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    with pytest.MonkeyPatch.context() as patch, empty_aws() as endpoint:
        for variable, value in (("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing"), ("AWS_DEFAULT_REGION", REGION)):
            patch.setenv(variable, value)
        cloudformation = boto3.client("cloudformation", endpoint_url=endpoint, region_name=REGION)
        cloudformation.create_stack(
            StackName=STACK, TemplateBody=TEMPLATE.read_text(), Capabilities=["CAPABILITY_NAMED_IAM"],
            Parameters=[{"ParameterKey": "Region", "ParameterValue": REGION}],
        )
        (deployed,) = cloudformation.describe_stacks(StackName=STACK)["Stacks"]
        assert deployed["StackStatus"] == "CREATE_COMPLETE", deployed.get("StackStatusReason")
        printed = subprocess.run(
            [str(BIN / "stedi"), "stack-env", STACK, "--region", REGION, "--endpoint-url", endpoint],
            capture_output=True, text=True, check=True,
        ).stdout
        outputs = {output["OutputKey"]: output["OutputValue"] for output in deployed["Outputs"]}
        yield Stack(endpoint, parse_exports(printed), outputs)


def test_stack_env_gives_every_setting_the_athena_profile_reads(stack: Stack) -> None:
    assert set(stack.settings) == set(OUTPUT_VARIABLES.values())
    profile = (PROJECT_DIR / "profiles.example.yml").read_text()
    read = {word.split("'")[0] for word in profile.split("env_var('")[1:] if word.startswith("STEDI_ATHENA_")}
    assert read - set(stack.settings) == {"STEDI_ATHENA_CATALOG"}  # the Glue catalog: its default is right
    assert stack.settings["STEDI_ATHENA_REGION"] == REGION
    assert stack.settings["STEDI_ATHENA_WORK_GROUP"] == f"{STACK}-pipeline"
    s3 = boto3.client("s3", endpoint_url=stack.endpoint)
    for variable in ("STEDI_LANDING_PATH", "STEDI_ATHENA_S3_DATA_DIR", "STEDI_ATHENA_S3_STAGING_DIR"):
        encryption = s3.get_bucket_encryption(Bucket=stack.bucket(variable))["ServerSideEncryptionConfiguration"]
        assert encryption["Rules"][0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"


def test_upload_landing_fills_the_deployed_landing_bucket(stack: Stack, demo_landing: Path) -> None:
    result = subprocess.run(
        [str(BIN / "stedi"), "upload-landing", str(demo_landing), stack.settings["STEDI_LANDING_PATH"], "--endpoint-url", stack.endpoint],
        capture_output=True, text=True, check=False,
    )
    assert result.returncode == 0, result.stderr
    listing = boto3.client("s3", endpoint_url=stack.endpoint).list_objects_v2(Bucket=stack.bucket("STEDI_LANDING_PATH"))
    local = {path.relative_to(demo_landing).as_posix() for path in demo_landing.glob("*/landing/*.json")}
    assert {item["Key"] for item in listing["Contents"]} == local  # the demo-data marker stays home
    assert result.stdout.strip() == f"{len(local)} files uploaded, 0 already there"


@pytest.fixture(scope="module")
def athena_env(stack: Stack) -> Iterator[dict[str, str]]:
    """The deployed settings in the environment of the offline dbt runs (one parse for all)."""
    with pytest.MonkeyPatch.context() as patch:
        for variable, value in stack.settings.items():
            if not variable.endswith("_SECRET_ID"):
                patch.setenv(variable, value)
        patch.delenv("STEDI_SUBJECT_SALT", raising=False)
        yield stack.settings


SETTINGS_TEMPLATE = "settings: {{ target.region_name }} {{ target.schema }} {{ target.s3_data_dir }} {{ target.s3_staging_dir }} {{ target.work_group }} ;"


def test_dbt_compiles_for_athena_with_the_deployed_settings(athena_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> None:
    work_dir = tmp_path_factory.getbasetemp() / "infra-athena"
    landing = athena_env["STEDI_LANDING_PATH"]
    printed = offline_dbt(["compile", "--quiet", "--inline", SETTINGS_TEMPLATE + LANDING_DDL_TEMPLATE], work_dir, landing, PROJECT_DIR)
    settings, ddl = printed.split(" ;", 1)
    assert settings.split()[1:] == [athena_env[variable] for variable in (
        "STEDI_ATHENA_REGION", "STEDI_ATHENA_SCHEMA", "STEDI_ATHENA_S3_DATA_DIR", "STEDI_ATHENA_S3_STAGING_DIR", "STEDI_ATHENA_WORK_GROUP",
    )]
    locations = [line.split("'")[1].rstrip("/") for line in ddl.splitlines() if line.strip().startswith("location")]
    assert sorted(locations) == [f"{landing}/{zone}/landing" for zone in ("accelerometer", "customer", "step_trainer")]
    offline_dbt(["compile", "--exclude", *INTROSPECTIVE_NODES], work_dir, landing, PROJECT_DIR)
    manifest = json.loads((work_dir / "target" / "manifest.json").read_text())
    models = [node for node in manifest["nodes"].values() if node["resource_type"] == "model"]
    assert {node["schema"] for node in models} == {athena_env["STEDI_ATHENA_SCHEMA"]}
    assert sum(1 for node in models if node.get("compiled_code")) == len(models)


def test_an_athena_build_without_a_salt_stops_before_writing(
    athena_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`dbt build --target athena` run without make (so without the preflight): the on-run-start
    check refuses the public demo salt. dbt creates the schema before on-run-start, on the empty
    local AWS of the offline run, which knows only the `primary` work group."""
    work_dir = tmp_path_factory.getbasetemp() / "infra-athena"
    monkeypatch.setenv("STEDI_ATHENA_WORK_GROUP", "primary")
    with pytest.raises(AthenaCheckError, match="STEDI_SUBJECT_SALT is not set: a build on the athena target needs a secret salt"):
        offline_dbt(["build", "--select", TRAINING_TABLE], work_dir, athena_env["STEDI_LANDING_PATH"], PROJECT_DIR)


# --- who may read what: the deployed policies, evaluated ------------------------------------------


def role_policies(stack: Stack, role: str) -> list[dict[str, Any]]:
    """Every policy of a deployed role, as IAM serves it now."""
    iam = boto3.client("iam", endpoint_url=stack.endpoint)
    name = f"{STACK}-{role}"
    assert not iam.list_role_policies(RoleName=name)["PolicyNames"]  # every grant is a managed policy
    documents = []
    for attached in iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]:
        version = iam.get_policy(PolicyArn=attached["PolicyArn"])["Policy"]["DefaultVersionId"]
        documents.append(iam.get_policy_version(PolicyArn=attached["PolicyArn"], VersionId=version)["PolicyVersion"]["Document"])
    assert documents, f"{name} has no policy"
    return documents


@dataclass(frozen=True)
class Lake:
    """ARNs of the deployed stack's places."""

    stack: Stack

    @property
    def schema(self) -> str:
        return self.stack.settings["STEDI_ATHENA_SCHEMA"]

    def object(self, variable: str, key: str) -> str:
        return f"arn:aws:s3:::{self.stack.bucket(variable)}/{key}"

    def bucket(self, variable: str) -> str:
        return f"arn:aws:s3:::{self.stack.bucket(variable)}"

    def table_key(self, table: str) -> str:
        return f"tables/{self.schema}/{table}/"

    def glue(self, table: str | None = None) -> list[str]:
        """The ARNs IAM checks for a Glue call on a table: catalog, database and table."""
        prefix = f"arn:aws:glue:{REGION}:123456789012"
        arns = [f"{prefix}:catalog", f"{prefix}:database/{self.schema}"]
        return arns + ([f"{prefix}:table/{self.schema}/{table}"] if table else [])

    def work_group(self, name: str) -> str:
        return f"arn:aws:athena:{REGION}:123456789012:workgroup/{name}"

    def secret(self, name: str) -> str:
        return f"arn:aws:secretsmanager:{REGION}:123456789012:secret:{name}-AbC123"


@pytest.fixture(scope="module")
def lake(stack: Stack) -> Lake:
    return Lake(stack)


def can_read_table_files(policies: list[dict[str, Any]], lake: Lake, table: str) -> bool:
    key = lake.table_key(table)
    return is_allowed(policies, Request("s3:GetObject", lake.object("STEDI_ATHENA_S3_DATA_DIR", f"{key}reading_date=2022-06-18/part-0.parquet")))


def can_list_table_files(policies: list[dict[str, Any]], lake: Lake, table: str) -> bool:
    request = Request("s3:ListBucket", lake.bucket("STEDI_ATHENA_S3_DATA_DIR"), {"s3:prefix": lake.table_key(table)})
    return is_allowed(policies, request)


def can_read_glue_table(policies: list[dict[str, Any]], lake: Lake, table: str) -> bool:
    return all(
        is_allowed(policies, Request(action, arn))
        for action in ("glue:GetTable", "glue:GetPartitions")
        for arn in lake.glue(table)
    )


def project_tables() -> set[str]:
    """Every table and view a build makes in the Glue database: models, seeds, landing tables
    (a view and its `_json` SerDe table each)."""
    models = {path.stem for path in (PROJECT_DIR / "models").rglob("*.sql")}
    seeds = {path.stem for path in (PROJECT_DIR / "seeds").glob("*.csv")}
    sources = yaml.safe_load((PROJECT_DIR / "models" / "staging" / "_landing__sources.yml").read_text())
    landing = {table["name"] for source in sources["sources"] for table in source["tables"]}
    return models | seeds | landing | {f"{name}_json" for name in landing}


# names that share the training table's prefix: dbt-athena's temporary table, a look-alike
OTHER_TABLES = sorted(project_tables() - {TRAINING_TABLE}) + [f"{TRAINING_TABLE}__dbt_tmp", f"{TRAINING_TABLE}_v2"]


def test_the_project_has_the_zones_the_data_scientist_must_not_read() -> None:
    assert {"customer_landing", "customer_landing_json", "stg_landing__customers", "customer_trusted", "customer_curated"} <= set(OTHER_TABLES)


def test_the_data_scientist_reads_and_queries_the_training_table(stack: Stack, lake: Lake) -> None:
    policies = role_policies(stack, "data-scientist")
    assert can_read_table_files(policies, lake, TRAINING_TABLE)
    assert can_list_table_files(policies, lake, TRAINING_TABLE)
    assert can_read_glue_table(policies, lake, TRAINING_TABLE)
    work_group = lake.work_group(stack.outputs["DataScienceWorkGroup"])
    for action in ("athena:StartQueryExecution", "athena:GetQueryExecution", "athena:GetQueryResults", "athena:GetWorkGroup"):
        assert is_allowed(policies, Request(action, work_group)), action
    for action in ("s3:PutObject", "s3:GetObject"):  # the work group's results
        assert is_allowed(policies, Request(action, lake.object("STEDI_ATHENA_S3_STAGING_DIR", "data-science/1234.csv"))), action


@pytest.mark.parametrize("table", OTHER_TABLES)
def test_the_data_scientist_reads_no_other_table(stack: Stack, lake: Lake, table: str) -> None:
    policies = role_policies(stack, "data-scientist")
    assert not can_read_table_files(policies, lake, table)
    assert not can_list_table_files(policies, lake, table)
    assert not can_read_glue_table(policies, lake, table)


def test_the_data_scientist_reads_nothing_else(stack: Stack, lake: Lake) -> None:
    policies = role_policies(stack, "data-scientist")
    denied = [
        Request("s3:GetObject", lake.object("STEDI_LANDING_PATH", "customer/landing/customer-1655564444000.json")),
        Request("s3:ListBucket", lake.bucket("STEDI_LANDING_PATH")),
        Request("s3:ListBucket", lake.bucket("STEDI_LANDING_PATH"), {"s3:prefix": "customer/landing/"}),
        Request("s3:ListBucket", lake.bucket("STEDI_ATHENA_S3_DATA_DIR")),
        Request("s3:ListBucket", lake.bucket("STEDI_ATHENA_S3_DATA_DIR"), {"s3:prefix": f"tables/{lake.schema}/"}),
        Request("s3:PutObject", lake.object("STEDI_ATHENA_S3_DATA_DIR", f"{lake.table_key(TRAINING_TABLE)}forged.parquet")),
        Request("s3:DeleteObject", lake.object("STEDI_ATHENA_S3_DATA_DIR", f"{lake.table_key(TRAINING_TABLE)}part-0.parquet")),
        Request("s3:GetObject", lake.object("STEDI_ATHENA_S3_STAGING_DIR", "pipeline/1234.csv")),  # the pipeline's results
        Request("athena:StartQueryExecution", lake.work_group(stack.settings["STEDI_ATHENA_WORK_GROUP"])),
        Request("athena:GetQueryResults", lake.work_group(stack.settings["STEDI_ATHENA_WORK_GROUP"])),
        Request("glue:GetTables", lake.glue()[1]),
        Request("glue:GetTables", f"arn:aws:glue:{REGION}:123456789012:table/{lake.schema}/*"),
        Request("glue:GetTable", f"arn:aws:glue:{REGION}:123456789012:table/other_database/{TRAINING_TABLE}"),
        Request("secretsmanager:GetSecretValue", lake.secret(f"{STACK}/subject-salt")),
    ]
    assert [request for request in denied if is_allowed(policies, request)] == []


def test_the_deny_statements_keep_the_data_scientist_out_under_a_broader_policy(stack: Stack, lake: Lake) -> None:
    """AmazonS3ReadOnlyAccess and a Glue read-all attached to the role later change nothing."""
    broad = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["s3:Get*", "s3:List*", "glue:Get*"], "Resource": "*"},
    ]}
    policies = [*role_policies(stack, "data-scientist"), broad]
    assert not can_read_table_files(policies, lake, "customer_trusted")
    assert not can_read_glue_table(policies, lake, "customer_trusted")
    assert not is_allowed(policies, Request("s3:GetObject", lake.object("STEDI_LANDING_PATH", "customer/landing/x.json")))
    assert can_read_table_files(policies, lake, TRAINING_TABLE)


def test_a_widened_data_scientist_policy_is_caught(stack: Stack, lake: Lake) -> None:
    """The evaluation reads the policy IAM serves now: a version that opens the database's
    prefix and drops the Deny statements is deployed, and the trusted zone becomes readable."""
    iam = boto3.client("iam", endpoint_url=stack.endpoint)
    (attached,) = iam.list_attached_role_policies(RoleName=f"{STACK}-data-scientist")["AttachedPolicies"]
    arn = attached["PolicyArn"]
    original = iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"]
    document = copy.deepcopy(iam.get_policy_version(PolicyArn=arn, VersionId=original)["PolicyVersion"]["Document"])
    document["Statement"] = [statement for statement in document["Statement"] if statement["Effect"] == "Allow"]
    for statement in document["Statement"]:
        if statement["Sid"] == "ReadTheTrainingTable":
            statement["Resource"] = statement["Resource"].replace(f"/{TRAINING_TABLE}/*", "/*")
    widened = iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(document), SetAsDefault=True)
    try:
        policies = role_policies(stack, "data-scientist")
        assert can_read_table_files(policies, lake, "customer_trusted")
        assert can_read_table_files(policies, lake, f"{TRAINING_TABLE}__dbt_tmp")
        assert not can_read_glue_table(policies, lake, "customer_trusted")  # the Glue grant stayed narrow
    finally:
        iam.set_default_policy_version(PolicyArn=arn, VersionId=original)
        iam.delete_policy_version(PolicyArn=arn, VersionId=widened["PolicyVersion"]["VersionId"])
    assert not can_read_table_files(role_policies(stack, "data-scientist"), lake, "customer_trusted")


def test_the_uploader_writes_the_landing_zone_only(stack: Stack, lake: Lake) -> None:
    policies = role_policies(stack, "uploader")
    delivery = lake.object("STEDI_LANDING_PATH", "customer/landing/customer-1655564444000.json")
    for action in ("s3:PutObject", "s3:GetObject", "s3:AbortMultipartUpload"):  # GetObject: HeadObject to skip files there
        assert is_allowed(policies, Request(action, delivery)), action
    assert is_allowed(policies, Request("s3:ListBucket", lake.bucket("STEDI_LANDING_PATH")))
    denied = [
        Request("s3:DeleteObject", delivery),
        Request("s3:DeleteObjectVersion", delivery),
        Request("s3:GetObject", lake.object("STEDI_ATHENA_S3_DATA_DIR", f"{lake.table_key(TRAINING_TABLE)}part-0.parquet")),
        Request("s3:PutObject", lake.object("STEDI_ATHENA_S3_DATA_DIR", f"{lake.table_key('customer_trusted')}x.parquet")),
        Request("s3:GetObject", lake.object("STEDI_ATHENA_S3_STAGING_DIR", "pipeline/1234.csv")),
        Request("glue:GetTable", lake.glue("customer_trusted")[2]),
        Request("athena:StartQueryExecution", lake.work_group(stack.settings["STEDI_ATHENA_WORK_GROUP"])),
    ]
    assert [request for request in denied if is_allowed(policies, request)] == []


# What dbt-athena and Athena ask of IAM in a build (the calls in dbt-athena's impl.py and the
# Glue and S3 actions of Athena's DDL, CTAS and INSERT), by resource kind.
PIPELINE_GLUE_TABLE_ACTIONS = (
    "GetTable", "GetTables", "CreateTable", "UpdateTable", "DeleteTable", "GetTableVersions", "DeleteTableVersion",
    "GetPartitions", "BatchCreatePartition", "BatchDeletePartition",
)
PIPELINE_ATHENA_ACTIONS = ("StartQueryExecution", "GetQueryExecution", "GetQueryResults", "StopQueryExecution", "GetWorkGroup")


def test_the_pipeline_reads_landing_writes_tables_and_results_and_reads_its_secrets(stack: Stack, lake: Lake) -> None:
    policies = role_policies(stack, "pipeline")
    delivery = lake.object("STEDI_LANDING_PATH", "customer/landing/customer-1655564444000.json")
    table_file = lake.object("STEDI_ATHENA_S3_DATA_DIR", f"{lake.table_key('customer_trusted')}part-0.parquet")
    result = lake.object("STEDI_ATHENA_S3_STAGING_DIR", "pipeline/1234.csv")
    allowed = [
        Request("s3:GetObject", delivery),
        *(Request("s3:ListBucket", lake.bucket(variable)) for variable in ("STEDI_LANDING_PATH", "STEDI_ATHENA_S3_DATA_DIR", "STEDI_ATHENA_S3_STAGING_DIR")),
        *(Request(action, place) for action in ("s3:GetObject", "s3:PutObject", "s3:DeleteObject") for place in (table_file, result)),
        *(Request(f"glue:{action}", arn) for action in PIPELINE_GLUE_TABLE_ACTIONS for arn in lake.glue("customer_trusted")),
        *(Request(f"glue:{action}", arn) for action in ("GetDatabase", "CreateDatabase") for arn in lake.glue()),
        Request("glue:GetDatabases", f"arn:aws:glue:{REGION}:123456789012:database/other_database"),  # lists them all
        *(Request(f"athena:{action}", lake.work_group(stack.settings["STEDI_ATHENA_WORK_GROUP"])) for action in PIPELINE_ATHENA_ACTIONS),
        Request("secretsmanager:GetSecretValue", lake.secret(f"{STACK}/subject-salt")),
        Request("secretsmanager:GetSecretValue", lake.secret(f"{STACK}/erasure-key")),
    ]
    assert [request for request in allowed if not is_allowed(policies, request)] == []
    denied = [
        Request("s3:PutObject", delivery),  # the landing zone is the uploader's
        Request("s3:DeleteObject", delivery),
        Request("s3:PutObject", lake.object("STEDI_ATHENA_S3_STAGING_DIR", "data-science/1234.csv")),
        Request("s3:PutObject", lake.object("STEDI_ATHENA_S3_DATA_DIR", "elsewhere/x.parquet")),
        Request("glue:CreateTable", f"arn:aws:glue:{REGION}:123456789012:table/other_database/x"),
        Request("glue:DeleteDatabase", lake.glue()[1]),
        Request("athena:StartQueryExecution", lake.work_group(stack.outputs["DataScienceWorkGroup"])),
        Request("secretsmanager:GetSecretValue", lake.secret("someone-else/secret")),
    ]
    assert [request for request in denied if is_allowed(policies, request)] == []


# --- the evaluator itself ------------------------------------------------------------------------


def test_evaluator_semantics() -> None:
    allow = {"Effect": "Allow", "Action": "s3:Get*", "Resource": "arn:aws:s3:::b/t?/*"}
    assert is_allowed([{"Statement": [allow]}], Request("S3:getobject", "arn:aws:s3:::b/t1/x/y"))  # action case, `*` over `/`
    assert not is_allowed([{"Statement": [allow]}], Request("s3:GetObject", "arn:aws:s3:::b/T1/x"))  # resources keep case
    assert not is_allowed([{"Statement": [allow]}], Request("s3:GetObject", "arn:aws:s3:::b/t12/x"))  # `?` is one character
    assert not is_allowed([], Request("s3:GetObject", "arn:aws:s3:::b/t1/x"))  # nothing allowed by default
    deny = {"Effect": "Deny", "NotAction": "s3:GetObject", "Resource": "*"}
    assert is_allowed([{"Statement": [allow, deny]}], Request("s3:GetObject", "arn:aws:s3:::b/t1/x"))
    assert not is_allowed([{"Statement": [{**allow, "Action": "*"}, deny]}], Request("s3:GetObjectTagging", "arn:aws:s3:::b/t1/x"))
    listing = {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::b", "Condition": {"StringLike": {"s3:prefix": "t1/*"}}}
    assert is_allowed([{"Statement": [listing]}], Request("s3:ListBucket", "arn:aws:s3:::b", {"s3:prefix": "t1/"}))
    assert not is_allowed([{"Statement": [listing]}], Request("s3:ListBucket", "arn:aws:s3:::b"))  # no prefix, no match
    assert not wildcard_match("a[b]", "ab") and wildcard_match("a[b]", "a[b]")  # no character classes in IAM
    with pytest.raises(ValueError, match="condition operator NumericLessThan"):
        is_allowed([{"Statement": [{**listing, "Condition": {"NumericLessThan": {"s3:max-keys": "10"}}}]}], Request("s3:ListBucket", "arn:aws:s3:::b"))
