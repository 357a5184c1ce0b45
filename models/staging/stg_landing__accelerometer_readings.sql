-- depends_on: {{ source('landing', 'accelerometer_landing_files') }}
with

source as (

    select
        *,
        {{ landing_record_file() }} as landing_file,
        {{ landing_record_is_malformed('accelerometer_landing') }} as is_malformed
    from {{ source('landing', 'accelerometer_landing') }}
    where {{ is_unstaged_landing_file('accelerometer_landing') }}

),

renamed as (

    select
        {{ adapter.quote('user') }},
        {{ normalize_email(adapter.quote('user')) }} as email_key,
        {{ adapter.quote('timestamp') }},
        x,
        y,
        z,
        {{ epoch_ms_to_timestamp(adapter.quote('timestamp')) }} as recorded_at,
        landing_file,
        is_malformed,
        {{ run_started_timestamp() }} as loaded_at

    from source

)

select * from renamed
