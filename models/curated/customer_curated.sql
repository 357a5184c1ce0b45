with

customers as (

    select * from {{ ref('customer_trusted') }}

),

curated_subjects as (

    select * from {{ ref('int_curated_subjects') }}

),

curated_customers as (

    select customers.*
    from customers
    inner join curated_subjects
        on {{ normalize_email('customers.email') }} = curated_subjects.email_key

)

select * from curated_customers
