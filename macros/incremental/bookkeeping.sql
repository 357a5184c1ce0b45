{#
    The two bookkeeping tables of the incremental reading tables (sources
    `bookkeeping`, described in _bookkeeping__sources.yml), created on-run-start
    when missing. Only the hooks of the reading tables and the on-run-end hook
    write them; a full refresh of a reading table records a new state too.
#}
{% macro create_bookkeeping_tables() %}
    {%- if execute and flags.WHICH != 'compile' -%}
        {%- for name in ['reading_table_log', 'reading_table_subjects'] -%}
            {%- set relation = bookkeeping_relation(name) -%}
            {%- do adapter.create_schema(relation) -%}
            {%- do run_query(adapter.dispatch('bookkeeping_table_ddl', 'stedi_lakehouse')(relation)) -%}
        {%- endfor -%}
    {%- endif -%}
{% endmacro %}


{% macro bookkeeping_relation(name) %}
    {{- return(source('bookkeeping', name)) -}}
{% endmacro %}


{#- The columns of each bookkeeping table as Hive DDL types (Spark and Athena), the partition column last. -#}
{% macro bookkeeping_columns(relation) %}
    {%- if relation.identifier == 'reading_table_log' -%}
        {{- return([
            ('table_name', 'string'),
            ('built_at', 'timestamp'),
            ('event', 'string'),
            ('reading_date', 'date'),
            ('subject_bucket', 'string'),
        ]) -}}
    {%- endif -%}
    {{- return([
        ('subject_id', 'string'),
        ('subject_bucket', 'string'),
        ('reading_key', 'string'),
        ('research_consent', 'bigint'),
        ('table_name', 'string'),
    ]) -}}
{% endmacro %}


{% macro spark__bookkeeping_table_ddl(relation) %}
    {%- set columns = bookkeeping_columns(relation) -%}
    create table if not exists {{ relation }} (
        {%- for name, type in columns %}
        {{ name }} {{ type }}{{ ',' if not loop.last }}
        {%- endfor %}
    )
    using parquet
    {% if relation.identifier == 'reading_table_subjects' -%}
    partitioned by (table_name)
    {%- endif %}
{% endmacro %}


{#- A Hive table under the schema's prefix of s3_data_dir, as dbt-athena places its own tables. -#}
{% macro athena__bookkeeping_table_ddl(relation) %}
    {%- set columns = bookkeeping_columns(relation) -%}
    {%- set partitioned = relation.identifier == 'reading_table_subjects' -%}
    create external table if not exists `{{ relation.schema }}`.`{{ relation.identifier }}` (
        {%- for name, type in (columns[:-1] if partitioned else columns) %}
        `{{ name }}` {{ type }}{{ ',' if not loop.last }}
        {%- endfor %}
    )
    {% if partitioned -%}
    partitioned by (`table_name` string)
    {% endif -%}
    stored as parquet
    location '{{ target.s3_data_dir.rstrip("/") }}/{{ relation.schema }}/{{ relation.identifier }}/'
{% endmacro %}


{#-
    Record in the log, with the start of this build as built_at, a `rewrote`
    event per partition of `partitions` ([date, bucket]; none for partitions
    recorded otherwise) followed by the `built` event of the table.
-#}
{% macro log_reading_table_events(table_name, partitions) %}
    {%- set rows = [] -%}
    {%- for partition in partitions if partition is not none -%}
        {%- do rows.append(log_row(table_name, 'rewrote', partition[0], partition[1])) -%}
    {%- endfor -%}
    {%- do rows.append(log_row(table_name, 'built')) -%}
    {%- for batch in rows | batch(500) -%}
        {%- do run_query("insert into " ~ bookkeeping_relation('reading_table_log') ~ " values " ~ batch | join(', ')) -%}
    {%- endfor -%}
{% endmacro %}

{% macro log_row(table_name, event, reading_date=none, subject_bucket=none) -%}
    ({{ quoted(table_name) }}, {{ run_started_timestamp() }}, {{ quoted(event) }},
    {{ "cast(null as date)" if reading_date is none else "date " ~ quoted(reading_date) }},
    {{ "cast(null as " ~ dbt.type_string() ~ ")" if subject_bucket is none else quoted(subject_bucket) }})
{%- endmacro %}


{#- Record every partition `relation` holds now as rewritten by this build. -#}
{% macro log_every_partition(relation) %}
    {%- set statement -%}
        insert into {{ bookkeeping_relation('reading_table_log') }}
        select distinct
            {{ quoted(relation.identifier) }} as table_name,
            {{ run_started_timestamp() }} as built_at,
            'rewrote' as event,
            reading_date,
            subject_bucket
        from {{ relation }}
    {%- endset -%}
    {%- do run_query(statement) -%}
{% endmacro %}


{#- Replace the subjects the log says the table was built with by its current subjects. -#}
{% macro record_subjects(rewrite) %}
    {%- do adapter.dispatch('replace_recorded_subjects', 'stedi_lakehouse')(
        this.identifier, current_subject_states(rewrite)
    ) -%}
{% endmacro %}

{% macro spark__replace_recorded_subjects(table_name, subjects) %}
    {%- do run_query(
        "insert overwrite table " ~ bookkeeping_relation('reading_table_subjects')
        ~ " partition (table_name = " ~ quoted(table_name) ~ ") " ~ subjects
    ) -%}
{% endmacro %}

{#- Athena has no INSERT OVERWRITE: delete the table's partition (Glue and S3), then insert. -#}
{% macro athena__replace_recorded_subjects(table_name, subjects) %}
    {%- set relation = bookkeeping_relation('reading_table_subjects') -%}
    {%- do adapter.clean_up_partitions(relation, "table_name = " ~ quoted(table_name)) -%}
    {%- do run_query(
        "insert into " ~ relation ~ " select subjects.*, " ~ quoted(table_name) ~ " as table_name from (" ~ subjects ~ ") as subjects"
    ) -%}
{% endmacro %}
