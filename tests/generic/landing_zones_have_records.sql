{#
    A build never passes green on a zone it read nothing from: each landing
    zone must hold a delivery, present now, of which a record was staged. A
    zone folder that is missing, empty or holds only empty files (or a landing
    root pointed at the wrong place) returns a row naming the zone and folder.
    Locally, `stedi preflight` stops such a build before Spark starts.
#}
{% test landing_zones_have_records(model, landing_tables) %}

with

{% for landing_table in landing_tables %}
{{ landing_table }}_files as (

    select * from {{ source('landing', landing_table ~ '_files') }}

),

{% endfor %}

zones as (

    {% for landing_table in landing_tables -%}
    select
        '{{ landing_table | replace('_landing', '') }}' as zone,
        '{{ landing_root() }}/{{ landing_table | replace('_landing', '') }}/landing' as location,
        (
            select count(*)
            from {{ landing_table }}_files
            where {{ landing_relative_path('path') }} in (select landing_file from {{ model }} where staged_records > 0)
        ) as delivered_files_with_records
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

)

select
    zone,
    location
from zones
where delivered_files_with_records = 0

{% endtest %}
