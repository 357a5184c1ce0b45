{#
    Every pseudonymous subject in the column is one of the `customers` (R5):
    the subject_id of some customer's email.
#}
{% test is_subject_of(model, column_name, customers, customer_column='email') %}

with

subjects as (

    select distinct {{ subject_id(normalize_email(adapter.quote(customer_column))) }} as subject_id
    from {{ customers }}

),

model_subjects as (

    select distinct {{ adapter.quote(column_name) }} as subject_id
    from {{ model }}

)

select model_subjects.subject_id
from model_subjects
left join subjects
    on model_subjects.subject_id = subjects.subject_id
where subjects.subject_id is null

{% endtest %}
