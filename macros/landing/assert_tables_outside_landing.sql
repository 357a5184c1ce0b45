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

{#-
    Athena reads the landing zone from S3, writes the tables under s3_data_dir
    (emptying each table's prefix first) and query results under
    s3_staging_dir. Neither may overlap the landing prefix: the first would
    delete landing files, the second would add result files that the landing
    tables then read as malformed lines.
-#}
{% macro athena__assert_tables_outside_landing() %}
    {%- set landing_path = env_var('STEDI_LANDING_PATH') -%}
    {%- if not landing_path.startswith('s3://') -%}
        {{ exceptions.raise_compiler_error(
            "STEDI_LANDING_PATH=" ~ landing_path ~ " is not an s3:// prefix: Athena reads the landing zone from S3"
            ~ " (upload it with `stedi upload-landing " ~ landing_path ~ " s3://bucket/prefix`)"
        ) }}
    {%- endif -%}
    {%- set landing = landing_path.rstrip('/') ~ '/' -%}
    {%- for setting, variable, value in [
        ('s3_data_dir', 'STEDI_ATHENA_S3_DATA_DIR', target.s3_data_dir),
        ('s3_staging_dir', 'STEDI_ATHENA_S3_STAGING_DIR', target.s3_staging_dir),
    ] if value -%}
        {%- set prefix = value.rstrip('/') ~ '/' -%}
        {%- if prefix.startswith(landing) or landing.startswith(prefix) -%}
            {{ exceptions.raise_compiler_error(
                setting ~ " " ~ value ~ " overlaps STEDI_LANDING_PATH " ~ landing_path
                ~ (": dbt-athena empties a table's location before writing, which would delete landing files"
                   if setting == 's3_data_dir' else
                   ": Athena's query results there would be read as landing lines")
                ~ "; set " ~ variable ~ " to a prefix outside the landing zone"
            ) }}
        {%- endif -%}
    {%- endfor -%}
    {{- return('') -}}
{% endmacro %}
