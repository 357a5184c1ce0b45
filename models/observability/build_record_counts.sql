-- Append-only: every build adds its rows, and --full-refresh keeps the
-- recorded builds (full_refresh=false). One row per table (its rows, newest
-- record and last load), per landing table and outcome (the lines each rule
-- stopped, and the lines kept) and per landing file with malformed lines, all
-- stamped with the build's start and dbt invocation id. A landing table's
-- rows are its lines staged so far (staging holds one row per landing line,
-- malformed ones included): counting the landing files again would reopen
-- every delivery at every build, which incremental staging never does, and
-- the manifest's per-file counts keep the lines `make erase` removed.
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    full_refresh=false,
) }}

with

staged_customers as (

    select * from {{ ref('stg_landing__customers') }}

),

staged_accelerometer_readings as (

    select * from {{ ref('stg_landing__accelerometer_readings') }}

),

staged_step_trainer_readings as (

    select * from {{ ref('stg_landing__step_trainer_readings') }}

),

staged_files as (

    select * from {{ ref('stg_landing__files') }}

),

customer_trusted as (

    select * from {{ ref('customer_trusted') }}

),

accelerometer_trusted as (

    select * from {{ ref('accelerometer_trusted') }}

),

step_trainer_trusted as (

    select * from {{ ref('step_trainer_trusted') }}

),

customer_curated as (

    select * from {{ ref('customer_curated') }}

),

machine_learning_curated as (

    select * from {{ ref('machine_learning_curated') }}

),

customer_landing_outcomes as (

    select * from {{ ref('int_customer_landing_outcomes') }}

),

accelerometer_landing_outcomes as (

    select * from {{ ref('int_accelerometer_landing_outcomes') }}

),

step_trainer_landing_outcomes as (

    select * from {{ ref('int_step_trainer_landing_outcomes') }}

),

table_columns as (

    -- what is counted of each table, in one shape, so that one aggregate counts them all
    {%- for zone, table_name, relation, newest, loaded in [
        ('landing', 'customer_landing', 'staged_customers', none, none),
        ('landing', 'accelerometer_landing', 'staged_accelerometer_readings', none, none),
        ('landing', 'step_trainer_landing', 'staged_step_trainer_readings', none, none),
        ('staging', 'stg_landing__customers', 'staged_customers', 'last_updated_at', 'loaded_at'),
        ('staging', 'stg_landing__accelerometer_readings', 'staged_accelerometer_readings', 'recorded_at', 'loaded_at'),
        ('staging', 'stg_landing__step_trainer_readings', 'staged_step_trainer_readings', 'sensor_reading_at', 'loaded_at'),
        ('staging', 'stg_landing__files', 'staged_files', 'file_modified_at', 'loaded_at'),
        ('trusted', 'customer_trusted', 'customer_trusted', 'last_updated_at', none),
        ('trusted', 'accelerometer_trusted', 'accelerometer_trusted', 'recorded_at', 'loaded_at'),
        ('trusted', 'step_trainer_trusted', 'step_trainer_trusted', 'sensor_reading_at', 'loaded_at'),
        ('curated', 'customer_curated', 'customer_curated', 'last_updated_at', none),
        ('curated', 'machine_learning_curated', 'machine_learning_curated', 'sensor_reading_at', 'loaded_at'),
    ] %}
    {{ 'union all' if not loop.first }}
    select
        '{{ zone }}' as table_zone,
        '{{ table_name }}' as counted_table,
        {{ newest or 'cast(null as timestamp)' }} as record_at,
        {{ loaded or 'cast(null as timestamp)' }} as loaded_at
    from {{ relation }}
    {%- endfor %}

),

table_rows as (

    select
        'table_rows' as measure,
        table_zone,
        counted_table,
        cast(null as {{ dbt.type_string() }}) as reason,
        cast(null as {{ dbt.type_string() }}) as landing_file,
        count(*) as record_count,
        max(record_at) as newest_record_at,
        max(loaded_at) as last_loaded_at

    from table_columns
    group by table_zone, counted_table

),

malformed_lines as (

    -- the staged lines R0 stopped, with the delivery (relative path) each came from
    select
        'customer_landing' as landing_table,
        landing_file
    from staged_customers
    where is_malformed
    union all
    select
        'accelerometer_landing' as landing_table,
        landing_file
    from staged_accelerometer_readings
    where is_malformed
    union all
    select
        'step_trainer_landing' as landing_table,
        landing_file
    from staged_step_trainer_readings
    where is_malformed

),

malformed_lines_per_file as (

    select
        'malformed_lines' as measure,
        'landing' as table_zone,
        landing_table as counted_table,
        cast(null as {{ dbt.type_string() }}) as reason,
        landing_file,
        count(*) as record_count,
        cast(null as timestamp) as newest_record_at,
        cast(null as timestamp) as last_loaded_at

    from malformed_lines
    group by landing_table, landing_file

),

landing_outcomes as (

    select * from customer_landing_outcomes
    union all
    select * from accelerometer_landing_outcomes
    union all
    select * from step_trainer_landing_outcomes

),

all_counts as (

    select * from table_rows
    union all
    select
        measure,
        'landing' as table_zone,
        landing_table as counted_table,
        reason,
        cast(null as {{ dbt.type_string() }}) as landing_file,
        record_count,
        cast(null as timestamp) as newest_record_at,
        cast(null as timestamp) as last_loaded_at
    from landing_outcomes
    union all
    select * from malformed_lines_per_file

),

recorded as (

    select
        cast('{{ invocation_id }}' as {{ dbt.type_string() }}) as invocation_id,
        {{ run_started_timestamp() }} as built_at,
        cast(measure as {{ dbt.type_string() }}) as measure,
        cast(table_zone as {{ dbt.type_string() }}) as table_zone,
        cast(counted_table as {{ dbt.type_string() }}) as counted_table,
        cast(reason as {{ dbt.type_string() }}) as reason,
        cast(landing_file as {{ dbt.type_string() }}) as landing_file,
        cast(record_count as bigint) as record_count,
        newest_record_at,
        last_loaded_at

    from all_counts

)

select * from recorded
