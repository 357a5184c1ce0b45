-- R3, computed once: the research subjects with at least one trusted
-- accelerometer reading. customer_curated lists them; step_trainer_trusted
-- and machine_learning_curated take device owners from them, so the lineage
-- runs one way (staging, trusted, curated).
with

subjects as (

    select * from {{ ref('int_research_subjects') }}

),

accelerometer_readings as (

    select * from {{ ref('accelerometer_trusted') }}

),

users as (

    -- each spelling once, before normalizing: far fewer values than readings
    select distinct {{ adapter.quote('user') }}
    from accelerometer_readings

),

readers as (

    select distinct {{ normalize_email(adapter.quote('user')) }} as email_key
    from users

),

curated_subjects as (

    select subjects.*
    from subjects
    inner join readers
        on subjects.email_key = readers.email_key

)

select * from curated_subjects
