{#
    No direct identifier in a table meant for data scientists (R5): fails with
    one row per column whose name is, or contains, a forbidden identifier.
#}
{% test has_no_direct_identifiers(model, identifiers=['email', 'user', 'customername', 'phone', 'birthday', 'serialnumber']) %}

{%- set found = [] -%}
{%- if execute -%}
    {%- for column in adapter.get_columns_in_relation(model) -%}
        {%- for identifier in identifiers if identifier in column.name | lower -%}
            {%- do found.append(column.name | lower) -%}
        {%- endfor -%}
    {%- endfor -%}
{%- endif %}

{% if found %}
    {%- for column_name in found | unique %}
select '{{ column_name }}' as identifier_column
        {% if not loop.last %}union all{% endif %}
    {%- endfor %}
{% else %}
select 'none' as identifier_column
where 1 = 0
{% endif %}

{% endtest %}
