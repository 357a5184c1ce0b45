{#
    The configuration the three incremental reading tables share, set once:
    incremental, rewriting whole (reading_date, subject_bucket) partitions
    (insert_overwrite; the partition keys are given twice because each adapter
    reads its own: dbt-spark `partition_by`, dbt-athena `partitioned_by`), the
    hooks that drop and record the partitions a build rewrites, and what
    partitions_to_rewrite reads (`rewrite`, model names):
    - `subjects` (with `subject_key`): the model of the table's current
      subjects, one row per person with subject_id, subject_bucket,
      sharewithresearchasofdate and the key their readings carry;
    - `readings` (with `reading_key`, `reading_at` a timestamp and
      `reading_time` in epoch ms): the staged readings;
    - `inputs`: instead of the two above, the reading tables it is built from.
#}
{% macro reading_table_config(
    subjects=none, subject_key=none, readings=none, reading_key=none, reading_at=none, reading_time=none, inputs=[]
) %}
    {#- the plan and the hooks read these when the model runs: the dependencies are declared here -#}
    {%- for name in [subjects, readings] + inputs if name -%}
        {%- do ref(name) -%}
    {%- endfor -%}
    {%- do source('bookkeeping', 'reading_table_log') -%}
    {%- do source('bookkeeping', 'reading_table_subjects') -%}
    {%- do config(
        materialized='incremental',
        incremental_strategy='insert_overwrite',
        partition_by=['reading_date', 'subject_bucket'],
        partitioned_by=['reading_date', 'subject_bucket'],
        rewrite={
            'subjects': subjects, 'subject_key': subject_key, 'readings': readings, 'reading_key': reading_key,
            'reading_at': reading_at, 'reading_time': reading_time, 'inputs': inputs,
        },
        pre_hook='{{ before_rewriting_partitions() }}',
        post_hook='{{ after_rewriting_partitions() }}',
    ) -%}
{% endmacro %}


{#-
    SQL conditions of a plan (partitions_to_rewrite): rows in the partitions it
    rewrites, and, for staged readings, readings on its dates (with a time
    range a Parquet reader can use to skip files).
-#}
{% macro in_partitions_to_rewrite(plan, date_column, bucket_column) %}
    {%- if plan.whole -%}
        {{- return('true') -}}
    {%- elif not plan.partitions -%}
        {{- return('false') -}}
    {%- endif -%}
    {%- set buckets_by_date = {} -%}
    {%- for reading_date, subject_bucket in plan.partitions -%}
        {%- do buckets_by_date.setdefault(reading_date, []).append(quoted(subject_bucket)) -%}
    {%- endfor -%}
    {%- set conditions = [] -%}
    {%- for reading_date, buckets in buckets_by_date.items() | sort -%}
        {%- do conditions.append(
            "(" ~ date_column ~ " = date " ~ quoted(reading_date) ~ " and " ~ bucket_column ~ " in (" ~ buckets | join(", ") ~ "))"
        ) -%}
    {%- endfor -%}
    {{- return("(" ~ conditions | join("\n        or ") ~ ")") -}}
{% endmacro %}

{% macro on_dates_to_rewrite(plan, timestamp_column) %}
    {%- if plan.whole -%}
        {{- return('true') -}}
    {%- elif not plan.partitions -%}
        {{- return('false') -}}
    {%- endif -%}
    {%- set dates = plan.partitions | map('first') | unique | sort | list -%}
    {%- set after_last = modules.datetime.date.fromisoformat(dates[-1]) + modules.datetime.timedelta(days=1) -%}
    {%- set date_literals = [] -%}
    {%- for reading_date in dates -%}
        {%- do date_literals.append("date " ~ quoted(reading_date)) -%}
    {%- endfor -%}
    {{- return(
        timestamp_column ~ " >= timestamp " ~ quoted(dates[0] ~ " 00:00:00")
        ~ " and " ~ timestamp_column ~ " < timestamp " ~ quoted(after_last.isoformat() ~ " 00:00:00")
        ~ " and cast(" ~ timestamp_column ~ " as date) in (" ~ date_literals | join(", ") ~ ")"
    ) -}}
{% endmacro %}


{#- Spark writes each partition from one task, so a rewrite leaves one file per partition. -#}
{% macro one_file_per_partition() %}
    {{- return(adapter.dispatch('one_file_per_partition', 'stedi_lakehouse')()) -}}
{% endmacro %}

{% macro default__one_file_per_partition() %}
    {{- return('') -}}
{% endmacro %}

{% macro spark__one_file_per_partition() %}
    {{- return('distribute by reading_date, subject_bucket') -}}
{% endmacro %}
