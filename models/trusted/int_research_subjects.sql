-- Every trusted customer as a research subject: the key their phone readings
-- carry, their pseudonym and its bucket (the partition of their rows in the
-- reading tables), the serial number they alone hold (R4's ownership: a
-- serial held by two people's current records is ambiguous and owned by
-- nobody) and their consent. accelerometer_trusted admits readings through
-- it; int_curated_subjects narrows it to R3.
with

customers as (

    select * from {{ ref('customer_trusted') }}

),

current_records as (

    select * from {{ ref('int_customer_current_records') }}

),

serial_number_owners as (

    select serialnumber
    from current_records
    where serialnumber is not null
    group by serialnumber
    having count(*) = 1

),

subjects as (

    select
        {{ normalize_email('customers.email') }} as email_key,
        {{ subject_id(normalize_email('customers.email')) }} as subject_id,
        serial_number_owners.serialnumber,
        customers.sharewithresearchasofdate

    from customers
    left join serial_number_owners
        on customers.serialnumber = serial_number_owners.serialnumber

),

final as (

    select
        email_key,
        subject_id,
        {{ subject_bucket('subject_id') }} as subject_bucket,
        serialnumber,
        sharewithresearchasofdate

    from subjects

)

select * from final
