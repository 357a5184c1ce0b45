{#
    The newest loaded_at in the incremental table being built, as a scalar
    subquery; the epoch when the table is empty, so that every staged record
    counts as new after the table was started over.
#}
{% macro last_loaded_at() -%}
    (select coalesce(max(loaded_at), timestamp '1970-01-01 00:00:00.000') from {{ this }})
{%- endmacro %}
