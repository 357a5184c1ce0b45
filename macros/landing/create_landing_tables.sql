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


{#
    Athena version: a Hive external table read by the OpenX JSON SerDe, whose
    serde properties (ignore.malformed.json, case.insensitive) keep rule R0:
    a malformed line becomes a row of nulls instead of failing the query. The
    Spark reader's corrupt-record column does not exist here.
#}
{% macro athena__landing_table_ddl(relation, landing_source) %}
    {%- set external = landing_source.external -%}
    {%- set corrupt_record_column = (external.options or {}).get('columnNameOfCorruptRecord') -%}
    {%- set column_definitions = [] -%}
    {%- for column in landing_source.columns.values() if column.name != corrupt_record_column -%}
        {%- do column_definitions.append('`' ~ column.name | lower ~ '` ' ~ column.data_type) -%}
    {%- endfor -%}
    {%- set location = external.location if external.location.endswith('/') else external.location ~ '/' -%}
    {%- set create_table -%}
        create external table `{{ relation.schema }}`.`{{ relation.identifier }}` (
            {{ column_definitions | join(',\n            ') }}
        )
        row format serde '{{ external.serde }}'
        {%- if external.serde_properties %}
        with serdeproperties (
            {%- for property_name, property_value in external.serde_properties.items() %}
            '{{ property_name }}' = '{{ property_value }}'{{ "," if not loop.last }}
            {%- endfor %}
        )
        {%- endif %}
        location '{{ location }}'
    {%- endset -%}
    {{- return(["drop table if exists `" ~ relation.schema ~ "`.`" ~ relation.identifier ~ "`", create_table]) -}}
{% endmacro %}
