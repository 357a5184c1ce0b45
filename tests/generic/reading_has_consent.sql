{#
    No reading from a person who did not consent (R2, R4): every reading must
    match a consenting customer in `customers` (person_column of the reading
    against customer_column of the customer, compared as emails are), and be
    taken at or after that customer's sharewithresearchasofdate, unless the
    var include_pre_consent_readings allows earlier readings.
#}
{% test reading_has_consent(model, column_name, customers, person_column, customer_column='email') %}

with

readings as (

    select
        {{ normalize_email(adapter.quote(person_column)) }} as person_key,
        {{ adapter.quote(column_name) }} as reading_time
    from {{ model }}

),

consenting_customers as (

    select
        {{ normalize_email(adapter.quote(customer_column)) }} as person_key,
        sharewithresearchasofdate
    from {{ customers }}
    where sharewithresearchasofdate is not null

)

select
    readings.person_key,
    readings.reading_time,
    consenting_customers.sharewithresearchasofdate

from readings
left join consenting_customers
    on readings.person_key = consenting_customers.person_key
where
    consenting_customers.person_key is null
    or not ({{ within_research_consent('readings.reading_time', 'consenting_customers.sharewithresearchasofdate') }})

{% endtest %}
