-- depends_on: {{ source('landing', 'step_trainer_landing_files') }}
with

source as (

    select
        *,
        {{ landing_record_file() }} as landing_file,
        {{ landing_record_is_malformed('step_trainer_landing') }} as is_malformed
    from {{ source('landing', 'step_trainer_landing') }}
    where {{ is_unstaged_landing_file('step_trainer_landing') }}

),

renamed as (

    select
        sensorreadingtime,
        serialnumber,
        distancefromobject,
        {{ epoch_ms_to_timestamp('sensorreadingtime') }} as sensor_reading_at,
        landing_file,
        is_malformed,
        {{ run_started_timestamp() }} as loaded_at

    from source

)

select * from renamed
