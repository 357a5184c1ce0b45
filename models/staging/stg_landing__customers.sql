-- depends_on: {{ source('landing', 'customer_landing_files') }}
with

source as (

    select
        *,
        {{ landing_record_file() }} as landing_file,
        {{ landing_record_is_malformed('customer_landing') }} as is_malformed
    from {{ source('landing', 'customer_landing') }}
    where {{ is_unstaged_landing_file('customer_landing') }}

),

renamed as (

    select
        customername,
        email,
        {{ normalize_email('email') }} as email_key,
        phone,
        birthday,
        serialnumber,
        registrationdate,
        lastupdatedate,
        sharewithresearchasofdate,
        sharewithpublicasofdate,
        sharewithfriendsasofdate,
        {{ epoch_ms_to_timestamp('registrationdate') }} as registered_at,
        {{ epoch_ms_to_timestamp('lastupdatedate') }} as last_updated_at,
        {{ epoch_ms_to_timestamp('sharewithresearchasofdate') }} as research_consent_at,
        {{ epoch_ms_to_timestamp('sharewithpublicasofdate') }} as public_consent_at,
        {{ epoch_ms_to_timestamp('sharewithfriendsasofdate') }} as friends_consent_at,
        landing_file,
        is_malformed,
        {{ run_started_timestamp() }} as loaded_at

    from source

)

select * from renamed
