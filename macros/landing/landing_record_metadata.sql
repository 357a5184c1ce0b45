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


{% macro landing_record_is_malformed() %}
    {{- return(adapter.dispatch('landing_record_is_malformed', 'stedi_lakehouse')()) -}}
{% endmacro %}

{#- Spark's JSON reader (mode PERMISSIVE) puts a line it cannot parse into the corrupt-record column. -#}
{% macro spark__landing_record_is_malformed() -%}
    _corrupt_record is not null
{%- endmacro %}
