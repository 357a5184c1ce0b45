with

customers as (

    select * from {{ ref('customer_trusted') }}

),

accelerometer_readings as (

    select * from {{ ref('accelerometer_trusted') }}

),

accelerometer_users as (

    select distinct {{ normalize_email(adapter.quote('user')) }} as email_key
    from accelerometer_readings

),

customers_with_readings as (

    select customers.*
    from customers
    inner join accelerometer_users
        on {{ normalize_email('customers.email') }} = accelerometer_users.email_key

)

select * from customers_with_readings
