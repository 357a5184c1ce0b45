{#
    For `stg_landing__files`: per zone, the oldest modification time (epoch
    ms) of a delivery that is new to the manifest and of which no staging
    table holds a record. Such a file either holds no record (blank lines, an
    empty gzip) or arrived after staging read its zone; the manifest model
    reads the zone again from that time on to tell which. Usually there is
    none, and nothing is read again. A dict {zone: epoch ms}; empty outside
    `dbt run` and `dbt build` (compiling changes nothing and queries nothing).
#}
{% macro landing_files_to_read_again(zones) %}
    {%- if not execute or flags.WHICH not in ['run', 'build'] -%}
        {{- return({}) -}}
    {%- endif -%}
    {%- set listed_file = landing_relative_path('path') -%}
    {%- set queries = [] -%}
    {%- for zone, landing_table, staging_model in zones -%}
        {%- set query -%}
            select '{{ zone }}' as zone, min({{ landing_epoch_ms('modificationtime') }}) as oldest
            from {{ source('landing', landing_table ~ '_files') }}
            where length > 0
                and {{ landing_epoch_ms('modificationtime') }} < {{ run_started_epoch_ms() }}
                and {{ is_landing_data_file('path') }}
                and {{ listed_file }} not in (select landing_file from {{ ref(staging_model) }})
                {%- if is_incremental() %}
                and {{ listed_file }} not in (select landing_file from {{ this }})
                {%- endif %}
        {%- endset -%}
        {%- do queries.append(query) -%}
    {%- endfor -%}
    {%- set oldest = {} -%}
    {%- for row in run_query(queries | join('\nunion all\n')).rows if row['oldest'] is not none -%}
        {%- do oldest.update({row['zone']: row['oldest'] | int}) -%}
    {%- endfor -%}
    {{- return(oldest) -}}
{% endmacro %}
