{#
    Only *.json and *.json.gz files are read as data; any other file in a
    landing zone (a README.txt, a *.csv) is listed but not read. Returns each
    such file; used with severity warn, so the build names them and goes on.
#}
{% test landing_files_are_data_files(model, landing_tables) %}

with

{% for landing_table in landing_tables %}
{{ landing_table }}_files as (

    select * from {{ source('landing', landing_table ~ '_files') }}

),

{% endfor %}

listed as (

    {% for landing_table in landing_tables -%}
    select {{ landing_relative_path('path') }} as landing_file from {{ landing_table }}_files
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

)

select landing_file
from listed
where not {{ is_landing_data_file('landing_file') }}

{% endtest %}
