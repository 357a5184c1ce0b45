{#
    The start of the dbt invocation as a timestamp literal: every row staged
    by one build gets the same loaded_at, which is what lets the reading
    tables tell the records of later builds from those they already hold.
#}
{% macro run_started_timestamp() -%}
    timestamp '{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] }}'
{%- endmacro %}
