{#
    Per-record metadata of a landing table, for staging models: the file a
    record came from and whether its line was malformed (rule R0).
#}
{% macro landing_file_path() %}
    {{- return(adapter.dispatch('landing_file_path', 'stedi_lakehouse')()) -}}
{% endmacro %}

{% macro spark__landing_file_path() -%}
    _metadata.file_path
{%- endmacro %}


{#
    True for a line the JSON reader could not turn into a record: not JSON,
    cut off, or with no declared field readable. `landing_table` is the name
    of a table of the landing source, whose declared data columns are checked
    (all but the reader's corrupt-record column).
#}
{% macro landing_record_is_malformed(landing_table) %}
    {%- set declared_columns = [] -%}
    {%- if execute -%}
        {%- set source_node = graph.sources['source.' ~ project_name ~ '.landing.' ~ landing_table] -%}
        {%- set corrupt_record_column = (source_node.external.options or {}).get('columnNameOfCorruptRecord') -%}
        {%- for column_name in source_node.columns if column_name != corrupt_record_column -%}
            {%- do declared_columns.append(adapter.quote(column_name | lower)) -%}
        {%- endfor -%}
    {%- endif -%}
    {{- return(adapter.dispatch('landing_record_is_malformed', 'stedi_lakehouse')(declared_columns)) -}}
{% endmacro %}

{% macro default__landing_record_is_malformed(declared_columns) -%}
    ({{ declared_columns | join(' is null and ') }} is null)
{%- endmacro %}

{#-
    Spark's JSON reader (mode PERMISSIVE) also flags a line whose values do not
    fit the declared types, in the corrupt-record column. The declared columns
    stay in the expression: Spark refuses a query that reads only that column.
-#}
{% macro spark__landing_record_is_malformed(declared_columns) -%}
    (_corrupt_record is not null or {{ default__landing_record_is_malformed(declared_columns) }})
{%- endmacro %}

{#- The landing view's copy of the "$path" pseudo-column (athena__landing_table_ddl). -#}
{% macro athena__landing_file_path() -%}
    _landing_file_path
{%- endmacro %}

{#-
    The Athena landing view sets the corrupt-record column as Spark's reader
    does for a value of the wrong type (athena__landing_table_ddl), and a line
    that is not JSON reads as a row of nulls: the Spark test holds as it is.
-#}
{% macro athena__landing_record_is_malformed(declared_columns) -%}
    {{ spark__landing_record_is_malformed(declared_columns) }}
{%- endmacro %}
