{#
    The configuration the three incremental reading tables share, set once:
    incremental, rewriting whole reading dates (insert_overwrite of the
    reading_date partitions). The partition key is given twice because each
    adapter reads its own: dbt-spark `partition_by`, dbt-athena
    `partitioned_by`. `start_over` is the table's call of
    start_over_if_consent_changed, as text: it runs as a pre-hook, when the
    table and the staged customer records can be read.
#}
{% macro reading_table_config(start_over) %}
    {#- the pre-hook reads the staged customer records: the dependency is declared here, once -#}
    {%- do ref('stg_landing__customers') -%}
    {%- do config(
        materialized='incremental',
        incremental_strategy='insert_overwrite',
        partition_by=['reading_date'],
        partitioned_by=['reading_date'],
        pre_hook='{{ ' ~ start_over ~ ' }}',
    ) -%}
{% endmacro %}
