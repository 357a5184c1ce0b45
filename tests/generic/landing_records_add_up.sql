{#
    Every landing line is accounted for: in the newest recorded build, each
    landing table's rows equal the lines kept plus the lines excluded, summed
    over the reasons. Returns each landing table whose counts do not add up,
    or that has rows but no outcomes (or outcomes but no rows).
#}
{% test landing_records_add_up(model) %}

with

newest_build as (

    select * from {{ model }}
    where built_at = (select max(built_at) from {{ model }})

),

landing_rows as (

    select
        counted_table,
        record_count as landing_rows

    from newest_build
    where
        measure = 'table_rows'
        and table_zone = 'landing'

),

accounted_rows as (

    select
        counted_table,
        sum(record_count) as accounted_rows

    from newest_build
    where measure in ('excluded', 'kept')
    group by counted_table

)

select
    coalesce(landing_rows.counted_table, accounted_rows.counted_table) as counted_table,
    landing_rows.landing_rows,
    accounted_rows.accounted_rows

from landing_rows
full outer join accounted_rows
    on landing_rows.counted_table = accounted_rows.counted_table
where
    landing_rows.landing_rows is null
    or accounted_rows.accounted_rows is null
    or landing_rows.landing_rows != accounted_rows.accounted_rows

{% endtest %}
