with

current_records as (

    select * from {{ ref('int_customer_current_records') }}

),

erasure_requests as (

    select * from {{ ref('erasure_requests') }}

),

requested_erasures as (

    -- a request holds the keyed hash of the normalized email, never the email
    select distinct email_hmac
    from erasure_requests

),

trusted_customers as (

    select
        current_records.customername,
        current_records.email,
        current_records.phone,
        current_records.birthday,
        current_records.serialnumber,
        current_records.registrationdate,
        current_records.lastupdatedate,
        current_records.sharewithresearchasofdate,
        current_records.sharewithpublicasofdate,
        current_records.sharewithfriendsasofdate,
        current_records.registered_at,
        current_records.last_updated_at,
        current_records.research_consent_at,
        current_records.public_consent_at,
        current_records.friends_consent_at

    from current_records
    left join requested_erasures
        on {{ email_hmac('current_records.email_key') }} = requested_erasures.email_hmac
    where
        current_records.sharewithresearchasofdate is not null
        and requested_erasures.email_hmac is null

)

select * from trusted_customers
