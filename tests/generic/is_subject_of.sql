{#
    Every pseudonymous subject in the column is one of the `customers` (R5):
    the subject_id of some customer's email.
#}
{% test is_subject_of(model, column_name, customers, customer_column='email') %}

with

subjects as (

    select distinct {{ subject_id(normalize_email(adapter.quote(customer_column))) }} as subject_id
    from {{ customers }}

)

select distinct model_rows.{{ adapter.quote(column_name) }}
from {{ model }} as model_rows
left join subjects
    on model_rows.{{ adapter.quote(column_name) }} = subjects.subject_id
where subjects.subject_id is null

{% endtest %}
