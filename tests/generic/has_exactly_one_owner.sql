{#
    No serial number shared between customers (R4): every value of the column
    must belong to exactly one customer among the `customers` records.
#}
{% test has_exactly_one_owner(model, column_name, customers, customer_column='email') %}

with

owners as (

    select
        serialnumber,
        count(distinct {{ normalize_email(adapter.quote(customer_column)) }}) as owner_count
    from {{ customers }}
    where serialnumber is not null
    group by serialnumber

),

serial_numbers as (

    select distinct {{ adapter.quote(column_name) }} as serialnumber
    from {{ model }}

)

select
    serial_numbers.serialnumber,
    coalesce(owners.owner_count, 0) as owner_count

from serial_numbers
left join owners
    on serial_numbers.serialnumber = owners.serialnumber
where coalesce(owners.owner_count, 0) != 1

{% endtest %}
