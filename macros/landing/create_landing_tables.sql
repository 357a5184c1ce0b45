{#
    (Re)creates every landing source that declares an `external` block (the
    shape dbt-external-tables uses) as a table over its landing files, so that
    `select * from customer_landing` works on every target. Runs on-run-start
    and as `dbt run-operation create_landing_tables`.
#}
{% macro create_landing_tables() %}
    {%- if execute -%}
        {%- for landing_source in graph.sources.values() if landing_source.external and landing_source.external.location -%}
            {%- set relation = api.Relation.create(
                database=landing_source.database,
                schema=landing_source.schema,
                identifier=landing_source.identifier,
            ) -%}
            {%- do log("landing table " ~ relation ~ " over " ~ landing_source.external.location, info=true) -%}
            {%- do adapter.create_schema(relation) -%}
            {%- for statement in landing_table_ddl(relation, landing_source) -%}
                {%- do run_query(statement) -%}
            {%- endfor -%}
        {%- endfor -%}
    {%- endif -%}
{% endmacro %}


{#
    The statements that (re)create one landing table: a list of SQL strings.
    Dropping is safe: landing tables are external, so a drop keeps the files.
#}
{% macro landing_table_ddl(relation, landing_source) %}
    {{- return(adapter.dispatch('landing_table_ddl', 'stedi_lakehouse')(relation, landing_source)) -}}
{% endmacro %}


{% macro spark__landing_table_ddl(relation, landing_source) %}
    {%- set external = landing_source.external -%}
    {%- set reader_options = external.options or {} -%}
    {%- set column_definitions = [] -%}
    {%- for column in landing_source.columns.values() -%}
        {%- do column_definitions.append('`' ~ column.name ~ '` ' ~ column.data_type) -%}
    {%- endfor -%}
    {%- set create_table -%}
        create table {{ relation }} (
            {{ column_definitions | join(',\n            ') }}
        )
        using {{ external.file_format }}
        {%- if reader_options %}
        options (
            {%- for option_name, option_value in reader_options.items() %}
            '{{ option_name }}' = '{{ option_value }}'{{ "," if not loop.last }}
            {%- endfor %}
        )
        {%- endif %}
        location '{{ external.location }}'
    {%- endset -%}
    {{- return(["drop table if exists " ~ relation, create_table]) -}}
{% endmacro %}
