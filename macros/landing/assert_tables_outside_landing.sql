{#
    Refuses to build when tables would be written inside the landing zone:
    dbt-athena empties a table's S3 location before writing it, which there
    would delete landing files. Runs on-run-start; only Athena writes by prefix.
#}
{% macro assert_tables_outside_landing() %}
    {{- return(adapter.dispatch('assert_tables_outside_landing', 'stedi_lakehouse')()) -}}
{% endmacro %}

{% macro default__assert_tables_outside_landing() %}
    {{- return('') -}}
{% endmacro %}

{% macro athena__assert_tables_outside_landing() %}
    {%- set landing = env_var('STEDI_LANDING_PATH').rstrip('/') ~ '/' -%}
    {%- set data_dir = target.s3_data_dir.rstrip('/') ~ '/' -%}
    {%- if data_dir.startswith(landing) or landing.startswith(data_dir) -%}
        {{ exceptions.raise_compiler_error(
            "s3_data_dir " ~ target.s3_data_dir ~ " overlaps STEDI_LANDING_PATH " ~ env_var('STEDI_LANDING_PATH')
            ~ ": dbt-athena empties a table's location before writing, which would delete landing files;"
            ~ " set STEDI_ATHENA_S3_DATA_DIR to a prefix outside the landing zone"
        ) }}
    {%- endif -%}
    {{- return('') -}}
{% endmacro %}
