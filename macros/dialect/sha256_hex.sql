{# Lowercase hex SHA-256 of a string expression. #}
{% macro sha256_hex(expression) %}
    {{- return(adapter.dispatch('sha256_hex', 'stedi_lakehouse')(expression)) -}}
{% endmacro %}

{% macro spark__sha256_hex(expression) -%}
    sha2({{ expression }}, 256)
{%- endmacro %}

{% macro athena__sha256_hex(expression) -%}
    lower(to_hex(sha256(to_utf8({{ expression }}))))
{%- endmacro %}
