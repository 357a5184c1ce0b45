{#
    (Re)creates every landing source that declares an `external` block (the
    shape dbt-external-tables uses) as a table over its landing files, so that
    `select * from customer_landing` works on every target; then the file
    listings (`<table>_files`), which Athena builds over the landing tables.
    Runs on-run-start, and as `dbt run-operation create_landing_tables`.
#}
{% macro create_landing_tables() %}
    {%- do landing_root() -%}
    {#- `dbt compile` renders SQL and changes nothing: no DDL, and no connection
        (an offline `dbt compile --target athena` must not reach AWS). -#}
    {%- if execute and flags.WHICH == 'compile' -%}
        {%- do log("dbt compile: landing tables are not (re)created", info=false) -%}
    {%- elif execute -%}
        {%- set landing_sources = graph.sources.values() | selectattr('external') | selectattr('external.location') | list -%}
        {%- set listings = landing_sources | selectattr('external.file_format', 'equalto', 'binaryFile') | list -%}
        {%- for landing_source in landing_sources | rejectattr('external.file_format', 'equalto', 'binaryFile') | list + listings -%}
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
    Athena version. The landing files are read by the OpenX JSON SerDe into an
    external table whose columns are all strings (`<table>_json`): a string
    column takes any JSON value, so no line can fail a query, and
    ignore.malformed.json turns a line that is not JSON into a row of nulls.
    With case.insensitive false, each camelCase key is mapped to its lowercase
    column (mapping.<column>), so keys match exactly as in Spark's reader.
    The landing table itself is a view over it that types each value as the
    Spark reader does, and sets `_corrupt_record` where a value does not fit
    its declared type (a number that is not a whole number for a bigint, an
    object, a word): the record is then malformed on both engines (rule R0).
    A typed SerDe column would instead fail the whole query on such a value
    (HIVE_BAD_DATA) or, with use.null.for.invalid.data, keep the record.
    `_landing_file_path` and `_landing_file_modified_at` carry the "$path" and
    "$file_modified_time" pseudo-columns through the view, which keeps the
    records of objects named *.json or *.json.gz: Athena reads every object
    under the location, a README.txt too.
#}
{% macro athena__landing_table_ddl(relation, landing_source) %}
    {%- set external = landing_source.external -%}
    {%- if external.file_format == 'binaryFile' -%}
        {{- return(athena__landing_listing_ddl(relation, external.files_of)) -}}
    {%- endif -%}
    {%- set corrupt_record_column = (external.options or {}).get('columnNameOfCorruptRecord') -%}
    {%- set json_relation = relation.incorporate(path={'identifier': relation.identifier ~ '_json'}) -%}
    {%- set location = external.location if external.location.endswith('/') else external.location ~ '/' -%}
    {%- set serde_properties = {} -%}
    {%- do serde_properties.update(external.serde_properties or {}) -%}
    {%- set keys_match_exactly = (serde_properties.get('case.insensitive', 'true') | string | lower) == 'false' -%}
    {%- set string_columns = [] -%}
    {%- set typed_values = {} -%}
    {%- set wrong_type_values = [] -%}
    {%- for column in landing_source.columns.values() if column.name != corrupt_record_column -%}
        {%- set quoted = adapter.quote(column.name | lower) -%}
        {%- set typed = athena__landing_typed_value(quoted, column.data_type) -%}
        {%- do string_columns.append('`' ~ column.name | lower ~ '` string') -%}
        {%- if keys_match_exactly and column.name != column.name | lower -%}
            {%- do serde_properties.update({'mapping.' ~ column.name | lower: column.name}) -%}
        {%- endif -%}
        {%- do typed_values.update({column.name: typed}) -%}
        {%- if typed != quoted -%}
            {%- do wrong_type_values.append(
                "case when " ~ quoted ~ " is not null and " ~ typed ~ " is null then '" ~ column.name ~ "=' || " ~ quoted ~ " end"
            ) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- set view_columns = [] -%}
    {%- for column in landing_source.columns.values() -%}
        {%- if column.name == corrupt_record_column -%}
            {%- set value = "nullif(concat_ws(', ', " ~ (wrong_type_values | join(', ')) ~ "), '')" if wrong_type_values else "cast(null as varchar)" -%}
        {%- else -%}
            {%- set value = typed_values[column.name] -%}
        {%- endif -%}
        {%- do view_columns.append(value ~ " as " ~ adapter.quote(column.name | lower)) -%}
    {%- endfor -%}
    {%- do view_columns.append('"$path" as _landing_file_path') -%}
    {%- do view_columns.append('"$file_modified_time" as _landing_file_modified_at') -%}
    {%- set create_json_table -%}
        create external table {{ json_relation.render_hive() }} (
            {{ string_columns | join(',\n            ') }}
        )
        row format serde '{{ external.serde }}'
        {%- if serde_properties %}
        with serdeproperties (
            {%- for property_name, property_value in serde_properties.items() %}
            '{{ property_name }}' = '{{ property_value }}'{{ "," if not loop.last }}
            {%- endfor %}
        )
        {%- endif %}
        location '{{ location }}'
    {%- endset -%}
    {%- set create_view -%}
        create or replace view {{ relation }} as
        select
            {{ view_columns | join(',\n            ') }}
        from {{ json_relation }}
        where {{ is_landing_data_file('"$path"') }}
    {%- endset -%}
    {{- return(["drop table if exists " ~ json_relation.render_hive(), create_json_table, create_view]) -}}
{% endmacro %}


{#
    A landing value, read as a string, typed as the Spark JSON reader types it:
    null where Spark would reject the value. Only JSON numbers become numbers:
    whole numbers for bigint and int (in range), any number or NaN/Infinity
    for double. The patterns make the result the same on every SQL engine
    whatever its own cast accepts ('1.5', ' 12', '0x1F').
#}
{% macro athena__landing_typed_value(column, data_type) %}
    {%- set whole_number = "'^-?(0|[1-9][0-9]*)$'" -%}
    {%- set json_number = "'^-?(0|[1-9][0-9]*)([.][0-9]+)?([eE][+-]?[0-9]+)?$'" -%}
    {%- if data_type == 'string' -%}
        {{- return(column) -}}
    {%- elif data_type in ('bigint', 'int') -%}
        {%- set sql_type = 'bigint' if data_type == 'bigint' else 'integer' -%}
        {{- return("case when regexp_like(" ~ column ~ ", " ~ whole_number ~ ") then try_cast(" ~ column ~ " as " ~ sql_type ~ ") end") -}}
    {%- elif data_type == 'double' -%}
        {{- return(
            "case when regexp_like(" ~ column ~ ", " ~ json_number ~ ") or " ~ column
            ~ " in ('NaN', 'Infinity', '-Infinity') then try_cast(" ~ column ~ " as double) end"
        ) -}}
    {%- else -%}
        {{- exceptions.raise_compiler_error(
            "landing column " ~ column ~ " has type " ~ data_type
            ~ ": the Athena landing view types string, bigint, int and double only"
        ) -}}
    {%- endif -%}
{% endmacro %}


{#
    Athena version of a file listing (`<table>_files`, Spark's binaryFile
    source): a view of the distinct objects the landing table's SerDe table
    reads, with the columns of Spark's listing (the time, which Athena gives in
    UTC, without its zone: Parquet tables cannot store one). Athena has no SQL that lists objects
    without reading them, so querying it scans the landing zone.
    A 0-byte object yields no row, so it is not listed, as on Spark.
#}
{% macro athena__landing_listing_ddl(relation, landing_table) %}
    {%- set json_relation = relation.incorporate(path={'identifier': landing_table ~ '_json'}) -%}
    {%- set create_view -%}
        create or replace view {{ relation }} as
        select distinct
            "$path" as path,
            cast("$file_modified_time" as timestamp) as modificationtime,
            "$file_size" as length
        from {{ json_relation }}
    {%- endset -%}
    {{- return([create_view]) -}}
{% endmacro %}
