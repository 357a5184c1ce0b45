{#
    Keeps a staging view's rows in the Spark session once read, so the JSON
    landing files are parsed once per build instead of once per model and test
    that reads them. A no-op where the engine has no session cache (Athena).
#}
{% macro cache_relation(relation) %}
    {{- return(adapter.dispatch('cache_relation', 'stedi_lakehouse')(relation)) -}}
{% endmacro %}

{% macro default__cache_relation(relation) %}
    {{- return('') -}}
{% endmacro %}

{% macro spark__cache_relation(relation) -%}
    cache table {{ relation }}
{%- endmacro %}
