{#
    One row per combination of the given columns (e.g. one step-trainer
    reading per serial number and millisecond). Returns each repeated
    combination with its count.
#}
{% test unique_combination(model, columns) %}

{%- set quoted_columns = [] -%}
{%- for column in columns -%}
    {%- do quoted_columns.append(adapter.quote(column)) -%}
{%- endfor %}

select
    {{ quoted_columns | join(', ') }},
    count(*) as row_count

from {{ model }}
group by {{ quoted_columns | join(', ') }}
having count(*) > 1

{% endtest %}
