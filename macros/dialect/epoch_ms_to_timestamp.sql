{# An epoch-milliseconds bigint as a UTC timestamp without time zone. #}
{% macro epoch_ms_to_timestamp(epoch_ms) %}
    {{- return(adapter.dispatch('epoch_ms_to_timestamp', 'stedi_lakehouse')(epoch_ms)) -}}
{% endmacro %}

{% macro spark__epoch_ms_to_timestamp(epoch_ms) -%}
    timestamp_millis({{ epoch_ms }})
{%- endmacro %}

{#- Athena's from_unixtime gives a timestamp with time zone, which Parquet tables cannot hold. -#}
{% macro athena__epoch_ms_to_timestamp(epoch_ms) -%}
    date_add('millisecond', {{ epoch_ms }}, timestamp '1970-01-01 00:00:00.000')
{%- endmacro %}
