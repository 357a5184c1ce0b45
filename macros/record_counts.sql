{#
    `dbt run-operation record_counts`: prints the row count of every landing,
    trusted and curated table, and for landing tables the malformed lines
    skipped by rule R0. The seed system's "record counts per zone" check.
#}
{% macro record_counts() %}
    {%- if not execute -%}
        {{ return('') }}
    {%- endif -%}

    {%- set count_queries = [] -%}
    {%- for landing_source in graph.sources.values() if landing_source.source_name == 'landing' -%}
        {%- do count_queries.append(
            "select 'landing' as zone, '" ~ landing_source.name ~ "' as table_name, count(*) as row_count, "
            ~ "sum(case when " ~ landing_record_is_malformed(landing_source.name) ~ " then 1 else 0 end) as malformed_lines "
            ~ "from " ~ source('landing', landing_source.name)
        ) -%}
    {%- endfor -%}
    {%- for zone in ['trusted', 'curated'] -%}
        {%- for node in graph.nodes.values()
            if node.resource_type == 'model'
            and node.config.meta.get('zone') == zone
            and node.config.materialized != 'ephemeral' -%}
            {%- do count_queries.append(
                "select '" ~ zone ~ "' as zone, '" ~ node.name ~ "' as table_name, count(*) as row_count, "
                ~ "cast(null as bigint) as malformed_lines from " ~ ref(node.name)
            ) -%}
        {%- endfor -%}
    {%- endfor -%}

    {%- set counts = run_query(count_queries | join('\nunion all\n')) -%}
    {%- do print('zone     table                          rows  malformed lines') -%}
    {%- for row in counts.rows -%}
        {%- set malformed = '' if row['malformed_lines'] is none else row['malformed_lines'] | string -%}
        {%- do print(
            row['zone'].ljust(8) ~ ' ' ~ row['table_name'].ljust(26) ~ ' '
            ~ (row['row_count'] | string).rjust(9) ~ '  ' ~ malformed
        ) -%}
    {%- endfor -%}
{% endmacro %}
