{#
    The manifest of staged deliveries: one row per landing file, added by the
    build that staged it. Incremental staging reads only the files it does not
    hold (is_unstaged_landing_file), and the landing_files_are_staged test
    compares it with the files present. Only files present when the build
    started count; a file that arrives later is the next build's.
#}
{%- set zones = [
    ('customer', 'customer_landing', 'stg_landing__customers'),
    ('accelerometer', 'accelerometer_landing', 'stg_landing__accelerometer_readings'),
    ('step_trainer', 'step_trainer_landing', 'stg_landing__step_trainer_readings'),
] -%}
{%- set read_again_since = landing_files_to_read_again(zones) -%}

with

{% for zone, landing_table, staging_model in zones %}
{{ zone }}_files as (

    select
        '{{ zone }}' as zone,
        {{ adapter.quote('path') }} as file_path,
        modificationtime as file_modified_at,
        {{ adapter.quote('length') }} as file_size
    from {{ source('landing', landing_table ~ '_files') }}

),

{{ zone }}_staged as (

    select landing_file from {{ ref(staging_model) }}

),

{{ zone }}_read_again as (

    select {{ landing_record_file() }} as landing_file
    from {{ source('landing', landing_table) }}
    {%- if zone in read_again_since %}
    where {{ landing_record_file_modified_ms() }} >= {{ read_again_since[zone] }}
    {%- else %}
    where false
    {%- endif %}

),

{% endfor %}

listed as (

    select * from customer_files
    union all
    select * from accelerometer_files
    union all
    select * from step_trainer_files

),

delivered as (

    select
        zone,
        {{ landing_relative_path('file_path') }} as landing_file,
        file_size,
        file_modified_at
    from listed
    where
        file_size > 0
        and {{ is_landing_data_file('file_path') }}
        and {{ landing_epoch_ms('file_modified_at') }} < {{ run_started_epoch_ms() }}

),

new_deliveries as (

    select * from delivered
    {%- if is_incremental() %}
    where landing_file not in (select landing_file from {{ this }})
    {%- endif %}

),

staged_records as (

    select
        landing_file,
        count(*) as staged_records
    from (
        select landing_file from customer_staged
        union all
        select landing_file from accelerometer_staged
        union all
        select landing_file from step_trainer_staged
    ) as staged
    group by landing_file

),

records_read_again as (

    select landing_file from customer_read_again
    union all
    select landing_file from accelerometer_read_again
    union all
    select landing_file from step_trainer_read_again

),

manifest as (

    select
        new_deliveries.zone,
        new_deliveries.landing_file,
        new_deliveries.file_size,
        new_deliveries.file_modified_at,
        coalesce(staged_records.staged_records, 0) as staged_records,
        {{ run_started_timestamp() }} as loaded_at
    from new_deliveries
    left join staged_records
        on new_deliveries.landing_file = staged_records.landing_file
    where
        staged_records.staged_records > 0
        -- a delivery without staged records counts as staged (it holds no record) only when
        -- it was just read again and gave none: one that arrived after staging read its
        -- zone is left out, for the next build to stage
        or (
            (
                {%- for zone, oldest in read_again_since.items() %}
                (new_deliveries.zone = '{{ zone }}' and {{ landing_epoch_ms('new_deliveries.file_modified_at') }} >= {{ oldest }}) or
                {%- endfor %}
                false
            )
            and new_deliveries.landing_file not in (select records_read_again.landing_file from records_read_again)
        )

)

select * from manifest
