{#
    Nothing delivered is left unread: every landing file present when the build
    started (a *.json or *.json.gz file, not empty, not hidden) is in the
    manifest of staged deliveries. Compares the file listing with the manifest,
    without reading a landing file. Returns each file that is not staged; the
    on-run-end hook report_landing_problems names the first ones. The next build
    stages them (they are older than the watermark, so they lower it).
#}
{% test landing_files_are_staged(model, landing_tables) %}

with

{% for landing_table in landing_tables %}
{{ landing_table }}_files as (

    select * from {{ source('landing', landing_table ~ '_files') }}

),

{% endfor %}

listed as (

    {% for landing_table in landing_tables -%}
    select path, modificationtime, length from {{ landing_table }}_files
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

delivered as (

    select {{ landing_relative_path('path') }} as landing_file
    from listed
    where
        length > 0
        and {{ is_landing_data_file('path') }}
        and {{ landing_epoch_ms('modificationtime') }} < {{ run_started_epoch_ms() }}

)

select landing_file
from delivered
where landing_file not in (select landing_file from {{ model }})

{% endtest %}
