"""The offline Athena on its own: the statements dbt-athena sends, as Athena runs them, against
the local moto Glue and S3 (no dbt, no Spark)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest

from stedi_lakehouse.checks.athena_endpoint import OfflineAws, offline_aws
from stedi_lakehouse.checks.athena_tables import AthenaQueryError

DATA = "s3://offline-athena/tables"
numbers = itertools.count()


@pytest.fixture(scope="module")
def aws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OfflineAws]:
    with offline_aws(tmp_path_factory.mktemp("offline-athena")) as aws:
        aws.engine.tables.s3.create_bucket(Bucket="offline-athena")
        aws.engine.execute("create schema if not exists `stedi`", "stedi", "schema")
        yield aws


def run(aws: OfflineAws, sql: str) -> list[tuple[str | None, ...]]:
    return aws.engine.execute(sql, "stedi", f"q{next(numbers)}").rows


def keys(aws: OfflineAws, prefix: str) -> list[str]:
    listing = aws.engine.tables.s3.list_objects_v2(Bucket="offline-athena", Prefix=prefix)
    return sorted(item["Key"] for item in listing.get("Contents", []))


def ctas(name: str, query: str, partitioned_by: str = "") -> str:
    partitions = f"partitioned_by=ARRAY['{partitioned_by}'], " if partitioned_by else ""
    return (
        f"create table \"awsdatacatalog\".\"stedi\".\"{name}\" with (table_type='hive', is_external=true,"
        f" external_location='{DATA}/stedi/{name}', {partitions}format='parquet') as {query}"
    )


def test_a_partitioned_ctas_writes_hive_folders_and_glue_partitions(aws: OfflineAws) -> None:
    run(aws, ctas("readings", "select * from (values (1, 'a', date '2024-01-01'), (2, 'b', date '2024-01-02'))"
                  " as t(id, label, reading_date)", "reading_date"))
    table = aws.engine.tables.require("stedi", "readings")
    assert [column["Name"] for column in table["StorageDescriptor"]["Columns"]] == ["id", "label"]
    assert table["PartitionKeys"] == [{"Name": "reading_date", "Type": "date"}]
    locations = sorted(partition["StorageDescriptor"]["Location"] for partition in aws.engine.tables.partitions("stedi", "readings"))
    assert locations == [f"{DATA}/stedi/readings/reading_date=2024-01-01", f"{DATA}/stedi/readings/reading_date=2024-01-02"]
    assert [key.rsplit("/", 1)[0] for key in keys(aws, "tables/stedi/readings/")] == [
        "tables/stedi/readings/reading_date=2024-01-01", "tables/stedi/readings/reading_date=2024-01-02",
    ]
    assert run(aws, "select id, label, reading_date from readings order by id") == [("1", "a", "2024-01-01"), ("2", "b", "2024-01-02")]


def test_deleting_a_partition_as_dbt_athena_does_then_inserting_it_again(aws: OfflineAws) -> None:
    """insert_overwrite: delete the partition's Glue entry and files (clean_up_partitions), insert."""
    run(aws, ctas("overwritten", "select * from (values (1, date '2024-01-01'), (2, date '2024-01-02')) as t(id, reading_date)", "reading_date"))
    glue, s3 = aws.engine.tables.glue, aws.engine.tables.s3
    (gone,) = glue.get_partitions(DatabaseName="stedi", TableName="overwritten", Expression="reading_date='2024-01-01'")["Partitions"]
    for key in keys(aws, gone["StorageDescriptor"]["Location"].split("/", 3)[3] + "/"):
        s3.delete_object(Bucket="offline-athena", Key=key)
    glue.batch_delete_partition(DatabaseName="stedi", TableName="overwritten", PartitionsToDelete=[{"Values": gone["Values"]}])
    assert run(aws, "select id from overwritten") == [("2",)]
    run(aws, 'insert into "awsdatacatalog"."stedi"."overwritten" ("id", "reading_date") (select 3, date \'2024-01-01\')')
    assert sorted(run(aws, "select id, reading_date from overwritten")) == [("2", "2024-01-02"), ("3", "2024-01-01")]


def test_athena_limits_that_dbt_athena_reacts_to(aws: OfflineAws) -> None:
    many = "select x as id, date_add('day', x, date '2024-01-01') as reading_date from unnest(sequence(1, 101)) as t(x)"
    with pytest.raises(AthenaQueryError, match="HIVE_TOO_MANY_OPEN_PARTITIONS"):
        run(aws, ctas("many", many, "reading_date"))
    assert aws.engine.tables.get("stedi", "many") is None, "a CTAS that fails leaves no table"
    with pytest.raises(AthenaQueryError, match="HIVE_COLUMN_ORDER_MISMATCH"):
        run(aws, ctas("misordered", "select date '2024-01-01' as reading_date, 1 as id", "reading_date"))
    aws.engine.tables.s3.put_object(Bucket="offline-athena", Key="tables/stedi/occupied/old-file", Body=b"x")
    with pytest.raises(AthenaQueryError, match="HIVE_PATH_ALREADY_EXISTS"):
        run(aws, ctas("occupied", "select 1 as id"))


def test_insert_casts_to_the_table_types_and_rejects_other_types(aws: OfflineAws) -> None:
    run(aws, ctas("typed", "select cast(1 as bigint) as id, 'a' as label, timestamp '2024-01-01 00:00:00.000' as at"))
    run(aws, "insert into typed (id, at) values (2, timestamp '2024-01-02 03:04:05.678')")
    assert sorted(run(aws, "select * from typed")) == [("1", "a", "2024-01-01 00:00:00.000"), ("2", None, "2024-01-02 03:04:05.678")]
    with pytest.raises(AthenaQueryError, match="TYPE_MISMATCH"):
        run(aws, "insert into typed (id) values ('three')")


def test_a_json_table_reads_as_the_openx_serde_with_pseudo_columns(aws: OfflineAws, tmp_path: Path) -> None:
    aws.engine.tables.s3.put_object(Bucket="offline-athena", Key="landing/zone/part-1.json", Body=b'{"User":"a","n":1}\n\nnot json\n')
    aws.engine.tables.s3.put_object(Bucket="offline-athena", Key="landing/zone/_SUCCESS", Body=b"")
    run(aws, "create external table `stedi`.`lines_json` (`user` string, `n` string)"
             " row format serde 'org.openx.data.jsonserde.JsonSerDe' with serdeproperties ('ignore.malformed.json' = 'true',"
             " 'case.insensitive' = 'false', 'mapping.user' = 'User') location 's3://offline-athena/landing/zone/'")
    run(aws, 'create or replace view "awsdatacatalog"."stedi"."lines" as select "user", cast(n as bigint) as n,'
             ' "$path" as file, "$file_size" as size from lines_json')
    assert run(aws, "select * from lines") == [
        ("a", "1", "s3://offline-athena/landing/zone/part-1.json", "29"),
        (None, None, "s3://offline-athena/landing/zone/part-1.json", "29"),
        (None, None, "s3://offline-athena/landing/zone/part-1.json", "29"),
    ]
    view = aws.engine.tables.require("stedi", "lines")
    assert view["TableType"] == "VIRTUAL_VIEW" and view["ViewOriginalText"].startswith("/* Presto View: ")


def test_statements_athena_does_not_run_fail(aws: OfflineAws) -> None:
    with pytest.raises(AthenaQueryError, match="NOT_SUPPORTED"):
        run(aws, "delete from typed where id = 1")
    with pytest.raises(AthenaQueryError, match="TABLE_NOT_FOUND"):
        run(aws, "select * from no_such_table")
