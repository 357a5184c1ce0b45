{# An epoch-milliseconds bigint as a UTC timestamp without time zone. #}
{% macro epoch_ms_to_timestamp(epoch_ms) %}
    {{- return(adapter.dispatch('epoch_ms_to_timestamp', 'stedi_lakehouse')(epoch_ms)) -}}
{% endmacro %}

{% macro spark__epoch_ms_to_timestamp(epoch_ms) -%}
    timestamp_millis({{ epoch_ms }})
{%- endmacro %}
