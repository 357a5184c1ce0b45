with

source as (

    select
        *,
        {{ landing_file_path() }} as landing_file_path,
        {{ landing_record_is_malformed('accelerometer_landing') }} as is_malformed
    from {{ source('landing', 'accelerometer_landing') }}
    where {{ is_unstaged_landing_file(landing_file_path()) }}

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
        landing_file_path,
        is_malformed,
        {{ run_started_timestamp() }} as loaded_at

    from source

)

select * from renamed
