{#
    The filter of incremental staging: true for a record of a landing file
    that the staging table being built does not hold yet, so that each
    delivery is parsed once. Its SQL has the same size for ten files or a
    million:

    - a watermark on the file modification time, a number found when the
      model compiles: the oldest listed delivery of the zone that the
      manifest of staged files (`stg_landing__files`) does not hold. Spark
      decides from the listing alone which files are older and never opens
      them. A file delivered late with an old modification time (moved into
      place, copied with `cp -p`) is still unstaged, so it lowers the
      watermark: nothing is lost, some recent files are read again;
    - the staged deliveries themselves, joined rather than inlined: a record
      of a file this table already holds is never staged twice (a build
      stopped between staging and the manifest, a lowered watermark).

    Renders `true` on a first or full-refresh build, and `false` when every
    listed delivery is staged.
#}
{% macro is_unstaged_landing_file(landing_table) %}
    {%- if not (execute and is_incremental()) -%}
        {{- return('true') -}}
    {%- endif -%}
    {%- set manifest = adapter.get_relation(database=this.database, schema=this.schema, identifier='stg_landing__files') -%}
    {%- set listed_file = landing_relative_path('path') -%}
    {%- set oldest_unstaged -%}
        select min({{ landing_epoch_ms('modificationtime') }}) as oldest
        from {{ source('landing', landing_table ~ '_files') }}
        where length > 0
            and {{ is_landing_data_file('path') }}
            {%- if manifest is not none %}
            and {{ listed_file }} not in (select landing_file from {{ manifest }})
            {%- endif %}
    {%- endset -%}
    {%- set oldest = run_query(oldest_unstaged).columns[0].values()[0] -%}
    {%- if oldest is none -%}
        {{- return('false') -}}
    {%- endif -%}
    {{- return(
        '(' ~ landing_record_file_modified_ms() ~ ' >= ' ~ (oldest | int)
        ~ ' and ' ~ landing_record_file() ~ ' not in (select landing_file from ' ~ this ~ '))'
    ) -}}
{% endmacro %}
